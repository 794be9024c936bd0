/**
 * The StatsD line parser: the whole dialect union tally accepts on its StatsD listeners.
 *
 * One call parses one datagram or one chunk of newline-delimited lines (`\n` or `\r\n`). Every
 * non-empty line either yields its samples/events or exactly one `sink.bad(reason)`; a line is
 * accepted or rejected as a whole (an Etsy multi-value line with one bad group yields nothing), and a
 * bad line never affects its neighbours.
 *
 * Grammar, per line:
 *
 * ```text
 * metric   = name ":" group *( ":" group )            ; Etsy multi-value: a:1|c:2|ms
 * group    = values "|" type *( "|" field )           ; a ":" right after the type or an @rate starts the next group
 * values   = value *( ":" value )                     ; DogStatsD v1.1 packing: a:1:2:3|d
 * type     = "c" / "g" / "ms" / "h" / "s" / "d"
 * field    = "@" rate / "#" tags / "T" unix-seconds / "c:" container-id / anything-else (skipped)
 * name     = plain / plain "," pairs / plain ";" pairs / plain "#" pairs / pre "[" pairs "]" post
 *            ; Influx, Graphite, Librato, SignalFx tags; pairs are k=v separated by "," or ";"
 * event    = "_e{" titlelen "," textlen "}:" title "|" text *( "|" event-field )
 * check    = "_sc|" name "|" status *( "|" check-field ) [ "|m:" message ]
 * ```
 *
 * The hot path scans bytes directly, decodes only the slices it keeps, parses numbers without
 * allocating, and memoises series identities (name + tags bytes → name, labels, key) in a bounded
 * per-thread cache (8192 identities, raw bytes in one lazily allocated 1 MiB slab, emptied when full),
 * so a steady stream of known series allocates little more than its `Sample`s. Samples of one series
 * share their `labels` array: consumers must treat it as the readonly value its type says it is.
 * Names or tags holding 0x00-0x02 (the `seriesKey` separators) are rejected as `bad_tags`.
 *
 * Spec links: Etsy `docs/metric_types.md`; DogStatsD datagram format
 * (docs.datadoghq.com/developers/dogstatsd/datagram_shell); Telegraf statsd README (Influx tags);
 * Graphite tagged series; prometheus/statsd_exporter README (Librato, SignalFx).
 *
 * @module
 */

import type { BadReason, Label, Labels, Sample, SampleKind, SampleSink } from "../model/sample.ts";
import { seriesKey } from "../model/series_key.ts";
import { isValidUtf8, normalizeLabels, parseDecimal } from "./_text.ts";

/** The longest line accepted; a UDP datagram cannot exceed it, a TCP chunk can. */
const STATSD_MAX_LINE_BYTES = 65536;

const LF = 0x0a;
const CR = 0x0d;
const HASH = 0x23;
const PLUS = 0x2b;
const COMMA = 0x2c;
const MINUS = 0x2d;
const DOT = 0x2e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const COLON = 0x3a;
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const AT = 0x40;
const UPPER_E = 0x45;
const UPPER_T = 0x54;
const LEFT_BRACKET = 0x5b;
const RIGHT_BRACKET = 0x5d;
const UNDERSCORE = 0x5f;
const LOWER_C = 0x63;
const LOWER_D = 0x64;
const LOWER_E = 0x65;
const LOWER_G = 0x67;
const LOWER_H = 0x68;
const LOWER_K = 0x6b;
const LOWER_M = 0x6d;
const LOWER_P = 0x70;
const LOWER_S = 0x73;
const LOWER_T = 0x74;
const LEFT_BRACE = 0x7b;
const PIPE = 0x7c;
const RIGHT_BRACE = 0x7d;

/** Exact powers of ten: a mantissa below 2^53 divided by one of these is correctly rounded. */
const POW10: readonly number[] = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/** The labels of a series without any. Shared; never mutated. */
const NO_LABELS: Labels = Object.freeze([]) as Labels;

/** Decodes the slices of lines that carry bytes ≥ 0x80 (already validated) and long ASCII slices. */
const UTF8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** A decoded series identity: what the identity cache memoises. */
interface Identity {
  readonly name: string;
  readonly labels: Labels;
  readonly key: string;
}

/** One identity cache entry: the identity plus where its raw bytes sit in the slab. */
interface CacheEntry {
  /** The FNV-1a hash of the raw bytes. */
  readonly hash: number;
  /** Where the raw bytes (name section, then `|#` tag section) start in the slab. */
  readonly offset: number;
  /** How many of the raw bytes are the name section. */
  readonly nameLength: number;
  /** How many of the raw bytes are the tag section. */
  readonly tagLength: number;
  readonly identity: Identity;
}

/** FNV-1a 32-bit parameters for the identity-cache hash. */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * Slots in the identity cache at first: open addressing with linear probing, a power of two. The table
 * doubles (up to {@link CACHE_MAX_SLOTS}) when it is half full, so a few thousand series cost little memory
 * while 100 000 (the default series cap) still fit: a cache smaller than the working set is emptied
 * again and again and misses every line (with 8192 entries and 10 000 names, parse and aggregate cost
 * 2.3 times what they cost with 1000 names).
 */
const CACHE_MIN_SLOTS = 16384;
/** The most slots; entries stop at half of them, after which the cache is emptied and refilled. */
const CACHE_MAX_SLOTS = 262144;
/** Identities longer than this are decoded every time. */
const CACHE_MAX_BYTES = 512;
/** The slab holding every entry's raw bytes (so an insert allocates no typed array) starts this big. */
const CACHE_MIN_SLAB_BYTES = 1 << 18;
/** … and doubles up to this. */
const CACHE_MAX_SLAB_BYTES = 1 << 23;
let cacheMask = CACHE_MIN_SLOTS - 1;
let cache: Array<CacheEntry | undefined> = new Array<CacheEntry | undefined>(CACHE_MIN_SLOTS).fill(undefined);
let cacheEntries = 0;
/** Allocated on the first insert, so a parser that never sees a metric costs no slab. */
let cacheSlab: Uint8Array | null = null;
let cacheSlabUsed = 0;

/**
 * Parses StatsD lines (every dialect tally accepts) and hands samples, events and bad lines to a sink.
 *
 * Never throws on any input: random bytes, invalid UTF-8, truncated lines and oversized lines all
 * become counted bad lines. Blank lines (nothing, or a lone `\r`) are ignored and not counted.
 *
 * @param bytes One datagram, or a chunk of newline-delimited lines; not retained.
 * @param sink Receives each sample (`sample`), event or service check (`event`) and rejected line (`bad`).
 * @returns The number of non-empty lines seen, good and bad.
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode("api.hits:1|c|#env:prod\nlatency:12|ms");
 * parseStatsd(bytes, { sample: (s) => console.log(s.name, s.value), event() {}, bad() {} }); // 2
 * ```
 */
export function parseStatsd(bytes: Uint8Array, sink: SampleSink): number {
  const length = bytes.length;
  const pending: Sample[] = [];
  let lines = 0;
  let start = 0;
  while (start < length) {
    let i = start;
    let high = 0;
    while (i < length) {
      const b = bytes[i]!;
      if (b === LF) break;
      high |= b;
      i++;
    }
    let end = i;
    if (end > start && bytes[end - 1] === CR) end--;
    if (end > start) {
      lines++;
      let reason: BadReason | null;
      if (end - start > STATSD_MAX_LINE_BYTES) reason = "too_long";
      else if ((high & 0x80) !== 0 && !isValidUtf8(bytes, start, end)) reason = "invalid_utf8";
      else reason = parseLine(bytes, start, end, (high & 0x80) === 0, sink, pending);
      if (reason !== null) {
        sink.bad(reason);
        pending.length = 0;
      } else if (pending.length !== 0) {
        for (let k = 0; k < pending.length; k++) sink.sample(pending[k]!);
        pending.length = 0;
      }
    }
    start = i + 1;
  }
  return lines;
}

/** Dispatches one non-empty, size-checked, UTF-8-valid line; samples go to `out`, events straight to the sink. */
function parseLine(
  bytes: Uint8Array,
  s: number,
  e: number,
  ascii: boolean,
  sink: SampleSink,
  out: Sample[],
): BadReason | null {
  if (bytes[s] === UNDERSCORE && e - s >= 3) {
    const b1 = bytes[s + 1];
    const b2 = bytes[s + 2];
    if (b1 === LOWER_E && b2 === LEFT_BRACE) return parseEvent(bytes, s, e, ascii, sink);
    if (b1 === LOWER_S && b2 === LOWER_C && bytes[s + 3] === PIPE) {
      return parseServiceCheck(bytes, s, e, ascii, sink, out);
    }
  }
  return parseMetric(bytes, s, e, ascii, out);
}

/** Parses a metric line (one or more groups) into `out`; nothing is kept when a reason is returned. */
function parseMetric(
  bytes: Uint8Array,
  s: number,
  e: number,
  ascii: boolean,
  out: Sample[],
): BadReason | null {
  // The name section runs to the first ':'; a '|' before it means there is no value at all.
  // The identity-cache hash (FNV-1a) is computed on the way, so the bytes are walked once.
  let c = s;
  let h = FNV_OFFSET;
  while (c < e) {
    const b = bytes[c]!;
    if (b === COLON || b === PIPE) break;
    h = Math.imul(h ^ b, FNV_PRIME);
    c++;
  }
  if (c >= e || bytes[c] !== COLON) return "no_value";
  if (c === s) return "empty_name";
  // A byte that never occurs in UTF-8 marks where the name ends, so "ab"+"c" and "a"+"bc" differ.
  const nameHash = Math.imul(h ^ 0xff, FNV_PRIME);

  let nameIdentity: Identity | null = null;
  let p = c + 1;
  for (;;) {
    // values: up to the first '|'
    const vs = p;
    while (p < e && bytes[p] !== PIPE) p++;
    if (p >= e) return "no_value";
    const ve = p;
    // type: up to '|' (fields follow), ':' (next Etsy group) or the end
    const ts = ++p;
    while (p < e) {
      const b = bytes[p]!;
      if (b === PIPE || b === COLON) break;
      p++;
    }
    const kind = typeOf(bytes, ts, p);
    if (kind === null) return "unknown_type";

    let rate = 1;
    let timeMs = 0;
    let tagsStart = -1;
    let tagsEnd = -1;
    let tagsHash = nameHash;
    let extraTags: Label[] | null = null;
    let more = p < e && bytes[p] === COLON;
    while (!more && p < e) {
      // bytes[p] is '|': one field follows
      const fs = p + 1;
      const f = fs < e ? bytes[fs]! : 0;
      let fe = fs;
      if (f === AT) {
        fe = fs + 1;
        while (fe < e && bytes[fe] !== PIPE && bytes[fe] !== COLON) fe++;
        const r = parseDecimal(bytes, fs + 1, fe);
        if (!(r > 0 && r <= 1)) return "bad_sample_rate";
        rate = r;
        more = fe < e && bytes[fe] === COLON;
      } else if (f === HASH && tagsStart < 0) {
        // Validated while decoding the identity, which a cache hit skips altogether.
        fe = fs + 1;
        let th = nameHash;
        while (fe < e) {
          const b = bytes[fe]!;
          if (b === PIPE) break;
          th = Math.imul(th ^ b, FNV_PRIME);
          fe++;
        }
        tagsStart = fs + 1;
        tagsEnd = fe;
        tagsHash = th;
      } else {
        while (fe < e && bytes[fe] !== PIPE) fe++;
        if (f === HASH) {
          // A second '#' field is rare: decode it directly rather than complicate the cache key.
          extraTags ??= [];
          if (!parseTags(bytes, fs + 1, fe, ascii, extraTags)) return "bad_tags";
        } else if (f === UPPER_T) {
          timeMs = parseSecondsToMs(bytes, fs + 1, fe);
          if (timeMs < 0) return "bad_timestamp";
        }
        // Anything else ('c:' container ids, unknown extensions, empty fields) is skipped.
      }
      p = fe;
    }

    let identity: Identity | null;
    if (tagsStart < 0 && extraTags === null) {
      identity = nameIdentity ??= resolveIdentity(bytes, s, c, -1, -1, nameHash, ascii, null);
    } else {
      identity = resolveIdentity(bytes, s, c, tagsStart, tagsEnd, tagsHash, ascii, extraTags);
    }
    if (identity === null) return identityError;

    // values, split on ':' (packed); each becomes one sample
    let a = vs;
    do {
      let b = a;
      while (b < ve && bytes[b] !== COLON) b++;
      if (b === a) return "bad_value";
      if (kind === "set") {
        out.push(makeSample(identity, kind, 0, decode(bytes, a, b, ascii), 1, false, timeMs));
      } else {
        const v = parseDecimal(bytes, a, b);
        if (v !== v) return "bad_value";
        const first = bytes[a];
        const delta = kind === "gauge" && (first === PLUS || first === MINUS);
        out.push(makeSample(identity, kind, v, "", rate, delta, timeMs));
      }
      a = b + 1;
    } while (a <= ve);

    if (!more) return null;
    p++;
  }
}

/** Builds a sample; one place, one property order, so every sample shares a hidden class. */
function makeSample(
  identity: Identity,
  kind: SampleKind,
  value: number,
  member: string,
  rate: number,
  gaugeDelta: boolean,
  timeMs: number,
): Sample {
  return {
    name: identity.name,
    labels: identity.labels,
    key: identity.key,
    kind,
    value,
    member,
    rate,
    gaugeDelta,
    timeMs,
  };
}

/** Maps a type token to its kind, or null for an unknown type. */
function typeOf(bytes: Uint8Array, s: number, e: number): SampleKind | null {
  if (e - s === 1) {
    switch (bytes[s]) {
      case LOWER_C:
        return "counter";
      case LOWER_G:
        return "gauge";
      case LOWER_H:
        return "histogram";
      case LOWER_S:
        return "set";
      case LOWER_D:
        return "distribution";
    }
    return null;
  }
  if (e - s === 2 && bytes[s] === LOWER_M && bytes[s + 1] === LOWER_S) return "timer";
  return null;
}

/**
 * The decoded identity region of the ASCII line being decoded: while set, `decode` slices
 * [regionStart, regionEnd) from `regionText`. Only set inside `decodeIdentity`.
 */
let regionText = "";
let regionStart = 0;
let regionEnd = -1;
/** Longer identity regions are decoded piece by piece, so a cached slice never pins a large string. */
const REGION_MAX_BYTES = 1024;

/** Why the last `resolveIdentity` returned null. */
let identityError: BadReason = "bad_tags";

/**
 * Returns the series identity for a name section [ns, ne) plus an optional `|#` tag section [ts, te)
 * and extra, already decoded tags; memoised by raw bytes when there are no extra tags.
 */
function resolveIdentity(
  bytes: Uint8Array,
  ns: number,
  ne: number,
  ts: number,
  te: number,
  h: number,
  ascii: boolean,
  extra: Label[] | null,
): Identity | null {
  const nameLength = ne - ns;
  const tagLength = ts < 0 ? 0 : te - ts;
  const cacheable = extra === null && nameLength + tagLength <= CACHE_MAX_BYTES;
  const hash = h | 0;
  // Fold the high bits in: FNV-1a's low bits alone cluster for names that differ only in their tail.
  const mixed = hash ^ (hash >>> 15);
  if (cacheable && cacheSlab !== null) {
    const slab = cacheSlab;
    let slot = mixed & cacheMask;
    for (;;) {
      const entry = cache[slot];
      if (entry === undefined) break;
      if (entry.hash === hash && entry.nameLength === nameLength && entry.tagLength === tagLength) {
        const o = entry.offset;
        if (
          sameBytes(slab, o, bytes, ns, nameLength) && sameBytes(slab, o + nameLength, bytes, ts, tagLength)
        ) {
          return entry.identity;
        }
      }
      slot = (slot + 1) & cacheMask;
    }
  }

  const identity = decodeIdentity(bytes, ns, ne, ts, te, ascii, extra);
  if (identity !== null && cacheable) {
    makeRoom(nameLength + tagLength);
    const slab = cacheSlab!;
    let slot = mixed & cacheMask;
    while (cache[slot] !== undefined) slot = (slot + 1) & cacheMask;
    // Byte loops rather than set(subarray()): short copies, and no typed-array views to allocate.
    const offset = cacheSlabUsed;
    let w = offset;
    for (let i = ns; i < ne; i++) slab[w++] = bytes[i]!;
    for (let i = ts; i < te; i++) slab[w++] = bytes[i]!;
    cacheSlabUsed = w;
    cache[slot] = { hash, offset, nameLength, tagLength, identity };
    cacheEntries++;
  }
  return identity;
}

/**
 * Makes room for one more entry of `bytes` raw bytes: grows the table when half full and the slab when
 * full, and past the largest sizes empties the cache (beyond that the cardinality is more than memoising
 * pays for; starting over is cheaper than evicting).
 */
function makeRoom(bytes: number): void {
  if (cacheSlab === null) cacheSlab = new Uint8Array(CACHE_MIN_SLAB_BYTES);
  if (cacheSlabUsed + bytes > cacheSlab.length) {
    if (cacheSlab.length < CACHE_MAX_SLAB_BYTES) {
      const grown = new Uint8Array(cacheSlab.length * 2);
      grown.set(cacheSlab.subarray(0, cacheSlabUsed));
      cacheSlab = grown;
    } else {
      startOver();
      return;
    }
  }
  if (cacheEntries + 1 <= (cacheMask + 1) / 2) return;
  if (cacheMask + 1 >= CACHE_MAX_SLOTS) {
    startOver();
    return;
  }
  const old = cache;
  cacheMask = cacheMask * 2 + 1;
  cache = new Array<CacheEntry | undefined>(cacheMask + 1).fill(undefined);
  for (const entry of old) {
    if (entry === undefined) continue;
    let slot = (entry.hash ^ (entry.hash >>> 15)) & cacheMask;
    while (cache[slot] !== undefined) slot = (slot + 1) & cacheMask;
    cache[slot] = entry;
  }
}

function startOver(): void {
  cache.fill(undefined);
  cacheEntries = 0;
  cacheSlabUsed = 0;
}

/** Whether `a[ai..ai+n)` equals `b[bi..bi+n)`. */
function sameBytes(a: Uint8Array, ai: number, b: Uint8Array, bi: number, n: number): boolean {
  for (let i = 0; i < n; i++) {
    if (a[ai + i] !== b[bi + i]) return false;
  }
  return true;
}

/**
 * Decodes name, name-embedded tags and `|#` tags into a fresh identity; sets `identityError` on failure.
 *
 * An ASCII line's identity region is decoded once and its pieces sliced from that string (bytes and
 * UTF-16 offsets coincide), which beats one decoder call per name, key and value.
 */
function decodeIdentity(
  bytes: Uint8Array,
  ns: number,
  ne: number,
  ts: number,
  te: number,
  ascii: boolean,
  extra: Label[] | null,
): Identity | null {
  const end = te > ne ? te : ne;
  if (ascii && end - ns <= REGION_MAX_BYTES) {
    regionText = asciiString(bytes, ns, end);
    regionStart = ns;
    regionEnd = end;
  }
  const identity = buildIdentity(bytes, ns, ne, ts, te, ascii, extra);
  // Never let a region outlive this line: the next call may bring other bytes at the same offsets.
  regionText = "";
  regionEnd = -1;
  return identity;
}

/** The body of {@link decodeIdentity}. */
function buildIdentity(
  bytes: Uint8Array,
  ns: number,
  ne: number,
  ts: number,
  te: number,
  ascii: boolean,
  extra: Label[] | null,
): Identity | null {
  if (hasKeySeparator(bytes, ns, ne)) {
    identityError = "bad_tags";
    return null;
  }
  // Name-embedded tags start at the first ',' ';' '#' (Influx, Graphite, Librato) or '[' (SignalFx).
  let t = ns;
  while (t < ne) {
    const b = bytes[t]!;
    if (b === COMMA || b === SEMICOLON || b === HASH || b === LEFT_BRACKET) break;
    t++;
  }
  let name: string;
  let labels: Label[] | null = null;
  if (t === ne) {
    name = decode(bytes, ns, ne, ascii);
  } else if (bytes[t] === LEFT_BRACKET) {
    let q = t + 1;
    while (q < ne && bytes[q] !== RIGHT_BRACKET) q++;
    if (t === ns && q + 1 >= ne) {
      identityError = "empty_name";
      return null;
    }
    labels = [];
    if (q >= ne || !parsePairs(bytes, t + 1, q, ascii, labels)) {
      identityError = "bad_tags";
      return null;
    }
    name = decode(bytes, ns, t, ascii) + decode(bytes, q + 1, ne, ascii);
  } else {
    if (t === ns) {
      identityError = "empty_name";
      return null;
    }
    name = decode(bytes, ns, t, ascii);
    labels = [];
    if (!parsePairs(bytes, t + 1, ne, ascii, labels)) {
      identityError = "bad_tags";
      return null;
    }
  }
  if (ts >= 0) {
    labels ??= [];
    if (!parseTags(bytes, ts, te, ascii, labels)) {
      identityError = "bad_tags";
      return null;
    }
  }
  if (extra !== null) {
    labels ??= [];
    for (let i = 0; i < extra.length; i++) labels.push(extra[i]!);
  }
  const sorted = labels === null || labels.length === 0 ? NO_LABELS : normalizeLabels(labels);
  return { name, labels: sorted, key: seriesKey(name, sorted) };
}

/**
 * Whether [s, e) holds a byte `seriesKey` uses as a separator (0x00-0x02); such a name or tag would make
 * two different series share a key, so the line is rejected instead.
 */
function hasKeySeparator(bytes: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    if (bytes[i]! <= 0x02) return true;
  }
  return false;
}

/** Parses `k=v` pairs separated by ',' or ';' (name-embedded tags); empty pairs are skipped. */
function parsePairs(bytes: Uint8Array, s: number, e: number, ascii: boolean, out: Label[]): boolean {
  let a = s;
  while (a < e) {
    let b = a;
    let eq = -1;
    while (b < e) {
      const x = bytes[b]!;
      if (x === COMMA || x === SEMICOLON) break;
      if (x === EQUALS && eq < 0) eq = b;
      b++;
    }
    if (b > a) {
      if (eq <= a) return false;
      out.push([decode(bytes, a, eq, ascii), decode(bytes, eq + 1, b, ascii)]);
    }
    a = b + 1;
  }
  return true;
}

/**
 * Parses a DogStatsD tag list `k:v,flag` (valueless tags get ""); empty tags are skipped.
 *
 * @returns False when a tag has an empty name or a series-key separator byte.
 */
function parseTags(bytes: Uint8Array, s: number, e: number, ascii: boolean, out: Label[]): boolean {
  if (hasKeySeparator(bytes, s, e)) return false;
  let a = s;
  while (a < e) {
    let b = a;
    let colon = -1;
    while (b < e) {
      const x = bytes[b]!;
      if (x === COMMA) break;
      if (x === COLON && colon < 0) colon = b;
      b++;
    }
    if (b > a) {
      if (colon === a) return false;
      if (colon < 0) out.push([decode(bytes, a, b, ascii), ""]);
      else out.push([decode(bytes, a, colon, ascii), decode(bytes, colon + 1, b, ascii)]);
    }
    a = b + 1;
  }
  return true;
}

/** Parses unsigned unix seconds (at most 12 digits) into milliseconds, or -1. */
function parseSecondsToMs(bytes: Uint8Array, s: number, e: number): number {
  if (e <= s || e - s > 12) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = bytes[i]! - DIGIT_0;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v * 1000;
}

/** Parses a non-negative decimal length of at most 6 digits, or -1. */
function parseLength(bytes: Uint8Array, s: number, e: number): number {
  if (e <= s || e - s > 6) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = bytes[i]! - DIGIT_0;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * Parses a DogStatsD event `_e{titlelen,textlen}:title|text|d:ts|h:host|k:key|p:prio|s:source|t:type|#tags`.
 * Lengths count bytes of the raw (escaped) title and text.
 */
function parseEvent(
  bytes: Uint8Array,
  s: number,
  e: number,
  ascii: boolean,
  sink: SampleSink,
): BadReason | null {
  let p = s + 3;
  let q = p;
  while (q < e && bytes[q] !== COMMA) q++;
  const titleLength = parseLength(bytes, p, q);
  p = q + 1;
  q = p;
  while (q < e && bytes[q] !== RIGHT_BRACE) q++;
  const textLength = parseLength(bytes, p, q);
  if (titleLength <= 0 || textLength < 0 || q + 1 >= e || bytes[q + 1] !== COLON) return "bad_event";
  const titleStart = q + 2;
  const titleEnd = titleStart + titleLength;
  const textStart = titleEnd + 1;
  const textEnd = textStart + textLength;
  if (textEnd > e || bytes[titleEnd] !== PIPE) return "bad_event";
  // Both slices end before an ASCII '|' or at the line end, so neither can split a UTF-8 character.
  if (textEnd < e && bytes[textEnd] !== PIPE) return "bad_event";

  const labels: Label[] = [];
  let timeMs = 0;
  p = textEnd;
  while (p < e) {
    const fs = p + 1;
    let fe = fs;
    while (fe < e && bytes[fe] !== PIPE) fe++;
    const f = fs < e ? bytes[fs]! : 0;
    if (f === HASH) {
      if (!parseTags(bytes, fs + 1, fe, ascii, labels)) return "bad_tags";
    } else if (fe - fs >= 2 && bytes[fs + 1] === COLON) {
      const vs = fs + 2;
      switch (f) {
        case LOWER_D:
          timeMs = parseSecondsToMs(bytes, vs, fe);
          if (timeMs < 0) return "bad_event";
          break;
        case LOWER_H:
          labels.push(["host", decode(bytes, vs, fe, ascii)]);
          break;
        case LOWER_K:
          labels.push(["aggregation_key", decode(bytes, vs, fe, ascii)]);
          break;
        case LOWER_P:
          labels.push(["priority", decode(bytes, vs, fe, ascii)]);
          break;
        case LOWER_S:
          labels.push(["source_type_name", decode(bytes, vs, fe, ascii)]);
          break;
        case LOWER_T:
          labels.push(["alert_type", decode(bytes, vs, fe, ascii)]);
          break;
      }
    }
    p = fe;
  }
  sink.event({
    kind: "event",
    title: unescapeNewlines(decode(bytes, titleStart, titleEnd, ascii)),
    text: unescapeNewlines(decode(bytes, textStart, textEnd, ascii)),
    timeMs,
    labels: labels.length === 0 ? NO_LABELS : normalizeLabels(labels),
    status: -1,
  });
  return null;
}

/**
 * Parses a DogStatsD service check `_sc|name|status|d:ts|h:host|#tags|m:message`; emits the event and
 * pushes a gauge sample named after the check (value = status, labels = the check's tags) to `out`.
 */
function parseServiceCheck(
  bytes: Uint8Array,
  s: number,
  e: number,
  ascii: boolean,
  sink: SampleSink,
  out: Sample[],
): BadReason | null {
  const nameStart = s + 4;
  let p = nameStart;
  while (p < e && bytes[p] !== PIPE) p++;
  const nameEnd = p;
  if (nameEnd === nameStart || p + 1 >= e || hasKeySeparator(bytes, nameStart, nameEnd)) {
    return "bad_service_check";
  }
  const status = bytes[p + 1]! - DIGIT_0;
  if (status < 0 || status > 3 || (p + 2 < e && bytes[p + 2] !== PIPE)) return "bad_service_check";

  const tags: Label[] = [];
  let host = "";
  let hasHost = false;
  let timeMs = 0;
  let text = "";
  p += 2;
  while (p < e) {
    const fs = p + 1;
    const f = fs < e ? bytes[fs]! : 0;
    if (f === LOWER_M && fs + 1 < e && bytes[fs + 1] === COLON) {
      // The message is the last field by definition and may itself contain '|'.
      text = unescapeMessage(decode(bytes, fs + 2, e, ascii));
      break;
    }
    let fe = fs;
    while (fe < e && bytes[fe] !== PIPE) fe++;
    if (f === HASH) {
      if (!parseTags(bytes, fs + 1, fe, ascii, tags)) return "bad_tags";
    } else if (fe - fs >= 2 && bytes[fs + 1] === COLON) {
      if (f === LOWER_D) {
        timeMs = parseSecondsToMs(bytes, fs + 2, fe);
        if (timeMs < 0) return "bad_service_check";
      } else if (f === LOWER_H) {
        host = decode(bytes, fs + 2, fe, ascii);
        hasHost = true;
      }
    }
    p = fe;
  }

  const name = decode(bytes, nameStart, nameEnd, ascii);
  const tagLabels = tags.length === 0 ? NO_LABELS : normalizeLabels(tags.slice());
  if (hasHost) tags.push(["host", host]);
  const eventLabels = tags.length === 0 ? NO_LABELS : normalizeLabels(tags);
  sink.event({ kind: "service_check", title: name, text, timeMs, labels: eventLabels, status });
  out.push(
    makeSample(
      { name, labels: tagLabels, key: seriesKey(name, tagLabels) },
      "gauge",
      status,
      "",
      1,
      false,
      timeMs,
    ),
  );
  return null;
}

/** Turns the DogStatsD `\n` escape (backslash, n) back into a newline. */
function unescapeNewlines(text: string): string {
  return text.includes("\\n") ? text.replaceAll("\\n", "\n") : text;
}

/** Undoes the escapes DogStatsD clients apply to service-check messages (`\n` and `m\:`). */
function unescapeMessage(text: string): string {
  return text.includes("\\") ? unescapeNewlines(text).replaceAll("m\\:", "m:") : text;
}

/**
 * Decodes [s, e): from the current identity region when inside it, ASCII slices with
 * `String.fromCharCode`, everything else with the shared TextDecoder (the line was validated, and
 * slices end on ASCII delimiters, so they are valid UTF-8).
 */
function decode(bytes: Uint8Array, s: number, e: number, ascii: boolean): string {
  const n = e - s;
  if (n <= 0) return "";
  if (s >= regionStart && e <= regionEnd) return regionText.slice(s - regionStart, e - regionStart);
  if (ascii && n <= REGION_MAX_BYTES) return asciiString(bytes, s, e);
  return UTF8.decode(bytes.subarray(s, e));
}

/** Reused char-code buffer for {@link asciiString}. */
const charCodes: number[] = [];

/** Builds a string from an ASCII slice of at most {@link REGION_MAX_BYTES} bytes without a typed-array view. */
function asciiString(bytes: Uint8Array, s: number, e: number): string {
  const n = e - s;
  charCodes.length = n;
  for (let i = 0; i < n; i++) charCodes[i] = bytes[s + i]!;
  return String.fromCharCode.apply(null, charCodes);
}
