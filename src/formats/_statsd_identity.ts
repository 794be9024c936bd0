/**
 * The series identities of StatsD lines: the tag dialects (DogStatsD `|#k:v`, and tags in the name the
 * Influx, Graphite, Librato and SignalFx ways) and the per-thread identity cache. The slice decoding they
 * share with the rest of the parser is `_statsd_slices.ts`.
 *
 * Names: `plain`, `plain,k=v,…` (Influx), `plain;k=v;…` (Graphite), `plain#k=v,…` (Librato),
 * `pre[k=v,…]post` (SignalFx); pairs are separated by `,` or `;`. DogStatsD tags `k:v,flag` (a valueless tag
 * gets the value `""`). Names or tags holding 0x00-0x02 (the `seriesKey` separators) are refused as
 * `bad_tags`, so two different series can never share a key.
 *
 * The cache memoises identities (name + tags bytes → name, labels, key) per thread: a table that grows
 * from 8192 to 131 072 identities, raw bytes in one lazily allocated slab of 256 KiB to 8 MiB, emptied when
 * full, so a steady stream of known series costs no decoding. Samples of one series share their `labels`
 * array: consumers must treat it as the readonly value its type says it is. Each cached identity is also
 * its samples' `memo`, where the aggregator keeps the series' number.
 *
 * @module
 */

import type { BadReason, Label, Labels, SeriesMemo } from "../model/sample.ts";
import { seriesKey } from "../model/series_key.ts";
import { closeRegion, decode, hasKeySeparator, openRegion, parseTags } from "./_statsd_slices.ts";
import { COMMA, EQUALS, HASH, NO_LABELS, normalizeLabels, SEMICOLON } from "./_text.ts";

const LEFT_BRACKET = 0x5b;
const RIGHT_BRACKET = 0x5d;

/**
 * A decoded series identity: what the identity cache memoises. It is also the memo its samples carry
 * (`Sample.memo`): one object per cached series, never shared by two keys, and an identity decoded for one
 * line only is a memo nobody reads again.
 */
export interface Identity extends SeriesMemo {
  /** The metric name. */
  readonly name: string;
  /** The labels, sorted by name. */
  readonly labels: Labels;
  /** The series key of name and labels. */
  readonly key: string;
}

/**
 * One identity cache entry: the identity itself (one object a series rather than two: 100 000 identities
 * took 3 MiB less) plus where its raw bytes sit in the slab.
 */
interface CacheEntry extends Identity {
  /** The FNV-1a hash of the raw bytes. */
  readonly hash: number;
  /** Where the raw bytes (name section, then `|#` tag section) start in the slab. */
  readonly offset: number;
  /** How many of the raw bytes are the name section. */
  readonly nameLength: number;
  /** How many of the raw bytes are the tag section. */
  readonly tagLength: number;
}

/** The FNV-1a 32-bit offset basis, where the identity hash of a line starts. */
export const FNV_OFFSET = 0x811c9dc5;
/** The FNV-1a 32-bit prime. */
export const FNV_PRIME = 0x01000193;

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
/** The slab as a `DataView`: a hit compares the raw bytes four at a time. */
let cacheSlabView: DataView<ArrayBufferLike> | null = null;
/**
 * The buffer the last lines came from, and a `DataView` of it: a socket reader's batch memory is one
 * buffer for the thread's life, so the view is made once, not per line. {@link forgetLineBytes} lets go.
 */
let lineBytes: Uint8Array | null = null;
/** The view of no bytes, for no buffer: letting go allocates nothing (parseStatsd does it every frame). */
const NO_LINE_VIEW: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
let lineView = NO_LINE_VIEW;

/**
 * Returns the series identity for a name section [ns, ne) plus an optional `|#` tag section [ts, te)
 * and extra, already decoded tags; memoised by raw bytes when there are no extra tags.
 *
 * @param bytes The line's bytes.
 * @param ns The name section start.
 * @param ne The name section end.
 * @param ts The tag section start, or -1.
 * @param te The tag section end, or -1.
 * @param h The FNV-1a hash of the name section, a 0xff byte, then the tag section.
 * @param ascii Whether the line is all ASCII.
 * @param extra Tags of further `|#` fields, or null.
 * @returns The identity, or why the name or tags were refused.
 */
export function resolveIdentity(
  bytes: Uint8Array,
  ns: number,
  ne: number,
  ts: number,
  te: number,
  h: number,
  ascii: boolean,
  extra: Label[] | null,
): Identity | BadReason {
  const nameLength = ne - ns;
  const tagLength = ts < 0 ? 0 : te - ts;
  if (extra === null && cacheSlab !== null && nameLength + tagLength <= CACHE_MAX_BYTES) {
    const hash = h | 0;
    const slab = cacheSlabView!;
    // (The length too: a view that tracks a resizable buffer is the same object at another length.)
    if (bytes !== lineBytes || lineView.byteLength !== bytes.byteLength) {
      lineBytes = bytes;
      lineView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    const view = lineView;
    // Fold the high bits in: FNV-1a's low bits alone cluster for names that differ only in their tail.
    let slot = (hash ^ (hash >>> 15)) & cacheMask;
    for (;;) {
      const entry = cache[slot];
      if (entry === undefined) break;
      if (entry.hash === hash && entry.nameLength === nameLength && entry.tagLength === tagLength) {
        const o = entry.offset;
        if (
          sameBytes(slab, o, view, ns, nameLength) && sameBytes(slab, o + nameLength, view, ts, tagLength)
        ) {
          return entry;
        }
      }
      slot = (slot + 1) & cacheMask;
    }
  }
  return missIdentity(bytes, ns, ne, ts, te, h, ascii, extra);
}

/**
 * The miss path of {@link resolveIdentity}, a function of its own so that the hit path stays small enough
 * for the JIT to inline into the parser: decodes the identity and caches it when it may be.
 */
function missIdentity(
  bytes: Uint8Array,
  ns: number,
  ne: number,
  ts: number,
  te: number,
  h: number,
  ascii: boolean,
  extra: Label[] | null,
): Identity | BadReason {
  const nameLength = ne - ns;
  const tagLength = ts < 0 ? 0 : te - ts;
  const cacheable = extra === null && nameLength + tagLength <= CACHE_MAX_BYTES;
  const hash = h | 0;
  const mixed = hash ^ (hash >>> 15);
  const identity = decodeIdentity(bytes, ns, ne, ts, te, ascii, extra);
  if (typeof identity !== "string" && cacheable) {
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
    const entry: CacheEntry = {
      name: identity.name,
      labels: identity.labels,
      key: identity.key,
      stamp: 0,
      index: 0,
      holder: 0,
      position: 0,
      heldKey: "",
      heldKind: "counter",
      hash,
      offset,
      nameLength,
      tagLength,
    };
    cache[slot] = entry;
    cacheEntries++;
    return entry;
  }
  return identity;
}

/**
 * Makes room for one more entry of `bytes` raw bytes: grows the table when half full and the slab when
 * full, and past the largest sizes empties the cache (beyond that the cardinality is more than memoising
 * pays for; starting over is cheaper than evicting).
 */
function makeRoom(bytes: number): void {
  if (cacheSlab === null) {
    cacheSlab = new Uint8Array(CACHE_MIN_SLAB_BYTES);
    cacheSlabView = new DataView(cacheSlab.buffer);
  }
  if (cacheSlabUsed + bytes > cacheSlab.length) {
    if (cacheSlab.length < CACHE_MAX_SLAB_BYTES) {
      const grown = new Uint8Array(cacheSlab.length * 2);
      grown.set(cacheSlab.subarray(0, cacheSlabUsed));
      cacheSlab = grown;
      cacheSlabView = new DataView(grown.buffer);
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

/**
 * Empties the thread's identity cache, as it empties itself past its largest size: a worker's warm-up
 * (`_warm_up.ts`) parses made-up series, and none of their identities may answer a real line. The table and
 * slab keep their size, so the compiled hit path sees the same bindings it was compiled against.
 */
export function forgetIdentities(): void {
  startOver();
  forgetLineBytes();
}

/**
 * Lets go of the buffer the last lines came from (see {@link resolveIdentity}), for a caller whose bytes
 * are not the thread's long-lived batch memory: the parser retains no bytes it was given.
 */
export function forgetLineBytes(): void {
  lineBytes = null;
  lineView = NO_LINE_VIEW;
}

/** The identities the cache holds now (for tests). */
export function cachedIdentities(): number {
  return cacheEntries;
}

/**
 * Whether `a[ai..ai+n)` equals `b[bi..bi+n)`, four bytes at a time (a name of a dozen bytes was a dozen
 * compares of single bytes, a sixth of the parser's time).
 */
function sameBytes(
  a: DataView<ArrayBufferLike>,
  ai: number,
  b: DataView<ArrayBufferLike>,
  bi: number,
  n: number,
): boolean {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    if (a.getInt32(ai + i) !== b.getInt32(bi + i)) return false;
  }
  for (; i < n; i++) {
    if (a.getUint8(ai + i) !== b.getUint8(bi + i)) return false;
  }
  return true;
}

/**
 * Decodes name, name-embedded tags and `|#` tags into a fresh identity.
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
): Identity | BadReason {
  if (ascii) openRegion(bytes, ns, te > ne ? te : ne);
  const identity = buildIdentity(bytes, ns, ne, ts, te, ascii, extra);
  // Never let a region outlive this line: the next call may bring other bytes at the same offsets.
  closeRegion();
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
): Identity | BadReason {
  if (hasKeySeparator(bytes, ns, ne)) return "bad_tags";
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
    if (t === ns && q + 1 >= ne) return "empty_name";
    labels = [];
    if (q >= ne || !parsePairs(bytes, t + 1, q, ascii, labels)) return "bad_tags";
    name = decode(bytes, ns, t, ascii) + decode(bytes, q + 1, ne, ascii);
  } else {
    if (t === ns) return "empty_name";
    name = decode(bytes, ns, t, ascii);
    labels = [];
    if (!parsePairs(bytes, t + 1, ne, ascii, labels)) return "bad_tags";
  }
  if (ts >= 0) {
    labels ??= [];
    if (!parseTags(bytes, ts, te, ascii, labels)) return "bad_tags";
  }
  if (extra !== null) {
    labels ??= [];
    for (let i = 0; i < extra.length; i++) labels.push(extra[i]!);
  }
  const sorted = labels === null || labels.length === 0 ? NO_LABELS : normalizeLabels(labels);
  return {
    name,
    labels: sorted,
    key: seriesKey(name, sorted),
    stamp: 0,
    index: 0,
    holder: 0,
    position: 0,
    heldKey: "",
    heldKind: "counter",
  };
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
