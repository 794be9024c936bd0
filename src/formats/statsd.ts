/**
 * The StatsD line parser: the whole dialect union tally accepts on its StatsD listeners.
 *
 * One call parses one datagram or one chunk of newline-delimited lines (`\n` or `\r\n`). A bad line never
 * affects its neighbours, and nothing vanishes uncounted: every non-empty line yields its samples or
 * event, or one `sink.bad(reason)` when the line as a whole is unusable (too long, invalid UTF-8, no
 * value, empty name, a bad event or service check). Within a metric line, as Etsy statsd does, each value
 * group stands alone: an invalid group (unknown type, bad sample rate, tags or timestamp, no type at all)
 * counts one `bad` and the valid groups are kept; within a group, each invalid packed value counts one
 * `bad_value` and the valid ones are kept (`a:1|c:2|x` keeps the counter 1 and counts `unknown_type`).
 *
 * Grammar, per line:
 *
 * ```text
 * metric   = name ":" group *( ":" group )            ; Etsy multi-value: a:1|c:2|ms
 * group    = values "|" type *( "|" field )           ; a ":" right after the type or an @rate starts the next group
 * values   = value *( ":" value )                     ; DogStatsD v1.1 packing: a:1:2:3|d
 * value    = *blank number *blank / set-member        ; blanks around a number are ignored: a: 3|c
 * type     = *blank ( "c" / "g" / "ms" / "h" / "s" / "d" ) *blank
 * field    = "@" rate / "#" tags / "T" unix-seconds / "c:" container-id / anything-else (skipped)
 * name     = plain / plain "," pairs / plain ";" pairs / plain "#" pairs / pre "[" pairs "]" post
 *            ; Influx, Graphite, Librato, SignalFx tags; pairs are k=v separated by "," or ";"
 * event    = "_e{" titlelen "," textlen "}:" title "|" text *( "|" event-field )
 * check    = "_sc|" name "|" status *( "|" check-field ) [ "|m:" message ]
 * ```
 *
 * The hot path scans bytes directly, decodes only the slices it keeps, parses numbers without
 * allocating, memoises series identities in a bounded per-thread cache (`_statsd_identity.ts`), and hands
 * every metric value over in one reused `Sample` (`_statsd_samples.ts`; valid during the `sink.sample`
 * call only), so a steady stream of known series allocates nothing per line (a repeated set member gets
 * the string decoded the last time, `_statsd_members.ts`). Events and service checks are in
 * `_statsd_events.ts`.
 *
 * Spec links: Etsy `docs/metric_types.md`; DogStatsD datagram format
 * (docs.datadoghq.com/developers/dogstatsd/datagram_shell); Telegraf statsd README (Influx tags);
 * Graphite tagged series; prometheus/statsd_exporter README (Librato, SignalFx).
 *
 * @module
 */

import type { BadReason, Label, SampleKind, SampleSink } from "../model/sample.ts";
import { parseEvent, parseServiceCheck } from "./_statsd_events.ts";
import { memberText } from "./_statsd_members.ts";
import {
  FNV_OFFSET,
  FNV_PRIME,
  forgetLineBytes,
  type Identity,
  resolveIdentity,
} from "./_statsd_identity.ts";
import { fillSample } from "./_statsd_samples.ts";
import { parseSecondsToMs, parseTags } from "./_statsd_slices.ts";
import {
  COLON,
  CR,
  HASH,
  isBlank,
  isValidUtf8,
  LEFT_BRACE,
  LF,
  MINUS,
  parseDecimal,
  PIPE,
  PLUS,
} from "./_text.ts";

/** The longest line accepted; a UDP datagram cannot exceed it, a TCP chunk can. */
const STATSD_MAX_LINE_BYTES = 65536;

const AT = 0x40;
const UPPER_T = 0x54;
const UNDERSCORE = 0x5f;
const LOWER_C = 0x63;
const LOWER_D = 0x64;
const LOWER_E = 0x65;
const LOWER_G = 0x67;
const LOWER_H = 0x68;
const LOWER_M = 0x6d;
const LOWER_S = 0x73;

/**
 * Parses StatsD lines (every dialect tally accepts) and hands samples, events and bad lines to a sink.
 *
 * Never throws on any input: random bytes, invalid UTF-8, truncated lines and oversized lines all
 * become counted bad lines. Blank lines (nothing, or a lone `\r`) are ignored and not counted.
 *
 * @param bytes One datagram, or a chunk of newline-delimited lines; not retained.
 * @param sink Receives each sample (`sample`), event or service check (`event`) and rejected line or
 *   value group (`bad`).
 * @returns The number of non-empty lines seen, good and bad.
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode("api.hits:1|c|#env:prod\nlatency:12|ms");
 * parseStatsd(bytes, { sample: (s) => console.log(s.name, s.value), event() {}, bad() {} }); // 2
 * ```
 */
export function parseStatsd(bytes: Uint8Array, sink: SampleSink): number {
  const lines = parseStatsdRange(bytes, sink, 0, bytes.length);
  // A frame, an HTTP body: bytes of one call, which the identity cache's view must not keep alive.
  forgetLineBytes();
  return lines;
}

/**
 * {@link parseStatsd} over `[from, to)` of a larger buffer: a reader of many datagrams in one buffer (a
 * `recvmmsg` batch) passes each one's range rather than allocating a view per datagram. A separate
 * function rather than optional parameters: with defaults, JavaScriptCore ran the parser at half speed.
 *
 * @param bytes The buffer: long-lived memory (a socket reader's batch), as the identity cache keeps a view of
 *   it until lines of another buffer come ({@link parseStatsd} lets go at once).
 * @param sink As for {@link parseStatsd}.
 * @param from Where the datagram starts.
 * @param to Where it ends, exclusive; at most `bytes.length`.
 * @returns The number of non-empty lines seen, good and bad.
 */
export function parseStatsdRange(bytes: Uint8Array, sink: SampleSink, from: number, to: number): number {
  const length = to;
  let lines = 0;
  let start = from;
  while (start < length) {
    // One walk finds the line's end, whether it holds bytes ≥ 0x80, and a metric line's name section (up
    // to the first ':' or '|') with its identity-cache hash (FNV-1a), so the name's bytes are read once.
    let i = start;
    let high = 0;
    let h = FNV_OFFSET;
    while (i < length) {
      const b = bytes[i]!;
      if (b === LF || b === COLON || b === PIPE) break;
      high |= b;
      h = Math.imul(h ^ b, FNV_PRIME);
      i++;
    }
    const nameEnd = i;
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
      else reason = parseLine(bytes, start, end, (high & 0x80) === 0, nameEnd, h, sink);
      if (reason !== null) sink.bad(reason);
    }
    start = i + 1;
  }
  return lines;
}

/**
 * Dispatches one non-empty, size-checked, UTF-8-valid line; returns why the whole line was refused.
 * `c` is where its name section ends (the first ':' or '|', else at or past `e`), `h` that section's hash.
 */
function parseLine(
  bytes: Uint8Array,
  s: number,
  e: number,
  ascii: boolean,
  c: number,
  h: number,
  sink: SampleSink,
): BadReason | null {
  if (bytes[s] === UNDERSCORE && e - s >= 3) {
    const b1 = bytes[s + 1];
    const b2 = bytes[s + 2];
    if (b1 === LOWER_E && b2 === LEFT_BRACE) return parseEvent(bytes, s, e, ascii, sink);
    if (b1 === LOWER_S && b2 === LOWER_C && bytes[s + 3] === PIPE) {
      return parseServiceCheck(bytes, s, e, ascii, sink);
    }
  }
  return parseMetric(bytes, s, e, ascii, c, h, sink);
}

/**
 * Parses a metric line group by group: the samples of valid groups go to the sink, each invalid group or
 * value counts one `bad`. Returns a reason only when the line has no usable name or no value at all.
 * The name section [s, c) and its FNV-1a hash `h` come from the line split.
 */
function parseMetric(
  bytes: Uint8Array,
  s: number,
  e: number,
  ascii: boolean,
  c: number,
  h: number,
  sink: SampleSink,
): BadReason | null {
  // The name section runs to the first ':'; a '|' before it means there is no value at all.
  if (c >= e || bytes[c] !== COLON) return "no_value";
  if (c === s) return "empty_name";
  // A byte that never occurs in UTF-8 marks where the name ends, so "ab"+"c" and "a"+"bc" differ.
  const nameHash = Math.imul(h ^ 0xff, FNV_PRIME);

  let nameIdentity: Identity | BadReason | null = null;
  let p = c + 1;
  for (;;) {
    // values: up to the first '|'; a group without one has no type and ends the line
    const vs = p;
    while (p < e && bytes[p] !== PIPE) p++;
    if (p >= e) {
      sink.bad("no_value");
      return null;
    }
    const ve = p;
    // type: up to '|' (fields follow), ':' (next Etsy group) or the end
    const ts = ++p;
    while (p < e) {
      const b = bytes[p]!;
      if (b === PIPE || b === COLON) break;
      p++;
    }
    const kind = typeOf(bytes, ts, p);
    // The group's first error; the fields are still walked, to find where the next group starts.
    let error: BadReason | null = kind === null ? "unknown_type" : null;

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
        if (r > 0 && r <= 1) rate = r;
        else error ??= "bad_sample_rate";
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
          if (!parseTags(bytes, fs + 1, fe, ascii, extraTags)) error ??= "bad_tags";
        } else if (f === UPPER_T) {
          timeMs = parseSecondsToMs(bytes, fs + 1, fe);
          if (timeMs < 0) error ??= "bad_timestamp";
        }
        // Anything else ('c:' container ids, unknown extensions, empty fields) is skipped.
      }
      p = fe;
    }

    if (error === null) {
      let identity: Identity | BadReason;
      if (tagsStart < 0 && extraTags === null) {
        identity = nameIdentity ??= resolveIdentity(bytes, s, c, -1, -1, nameHash, ascii, null);
      } else {
        identity = resolveIdentity(bytes, s, c, tagsStart, tagsEnd, tagsHash, ascii, extraTags);
      }
      if (typeof identity === "string") sink.bad(identity);
      else emitValues(bytes, vs, ve, ascii, identity, kind!, rate, timeMs, sink);
    } else {
      sink.bad(error);
    }

    if (!more) return null;
    p++;
  }
}

/** Emits one sample per value in [vs, ve) (packed values split on ':'); each invalid value counts once. */
function emitValues(
  bytes: Uint8Array,
  vs: number,
  ve: number,
  ascii: boolean,
  identity: Identity,
  kind: SampleKind,
  rate: number,
  timeMs: number,
  sink: SampleSink,
): void {
  let a = vs;
  do {
    let b = a;
    while (b < ve && bytes[b] !== COLON) b++;
    if (kind === "set") {
      // Members are kept as sent, blanks included (Etsy does the same).
      if (b === a) sink.bad("bad_value");
      else sink.sample(fillSample(identity, kind, 0, memberText(bytes, a, b, ascii), 1, false, timeMs));
    } else {
      let x = a;
      let y = b;
      while (x < y && isBlank(bytes[x])) x++;
      while (y > x && isBlank(bytes[y - 1])) y--;
      const v = x === y ? NaN : parseDecimal(bytes, x, y);
      if (v !== v) {
        sink.bad("bad_value");
      } else {
        const first = bytes[x];
        const delta = kind === "gauge" && (first === PLUS || first === MINUS);
        sink.sample(fillSample(identity, kind, v, "", rate, delta, timeMs));
      }
    }
    a = b + 1;
  } while (a <= ve);
}

/** Maps a type token (blanks around it ignored) to its kind, or null for an unknown type. */
function typeOf(bytes: Uint8Array, s: number, e: number): SampleKind | null {
  while (s < e && isBlank(bytes[s])) s++;
  while (e > s && isBlank(bytes[e - 1])) e--;
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
