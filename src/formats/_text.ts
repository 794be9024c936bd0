/**
 * Byte-level helpers shared by the text formats of script output (`coscale_script`, `nagios`, `prom_text`,
 * `influx_line`): UTF-8 validation, slice decoding, number parsing without allocation, label sorting and
 * the snake-case rule used to derive names from display text.
 *
 * @module
 */

import type { Label, Labels, Sample, SampleKind } from "../model/sample.ts";
import { seriesKey } from "../model/series_key.ts";

export const TAB = 0x09;
export const LF = 0x0a;
export const CR = 0x0d;
export const SPACE = 0x20;
export const QUOTE = 0x22;
export const HASH = 0x23;
export const SINGLE_QUOTE = 0x27;
export const PLUS = 0x2b;
export const COMMA = 0x2c;
export const MINUS = 0x2d;
export const DOT = 0x2e;
export const DIGIT_0 = 0x30;
export const DIGIT_9 = 0x39;
export const COLON = 0x3a;
export const SEMICOLON = 0x3b;
export const EQUALS = 0x3d;
export const BACKSLASH = 0x5c;
export const LEFT_BRACE = 0x7b;
export const RIGHT_BRACE = 0x7d;
export const PIPE = 0x7c;

/** The labels of a series without any. Shared; never mutated. */
export const NO_LABELS: Labels = Object.freeze([]) as Labels;

/** Exact powers of ten: a mantissa below 2^53 divided by one of these is correctly rounded. */
const POW10: readonly number[] = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

const UTF8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * Whether a byte is horizontal whitespace (space or tab).
 *
 * @param b The byte.
 * @returns True for space and tab.
 */
export function isBlank(b: number | undefined): boolean {
  return b === SPACE || b === TAB;
}

/**
 * Decodes [s, e) as UTF-8 (the caller validated it, or accepts U+FFFD for invalid sequences).
 *
 * @param bytes The bytes.
 * @param s The start offset.
 * @param e The end offset (exclusive).
 * @returns The text.
 */
export function decodeText(bytes: Uint8Array, s: number, e: number): string {
  const n = e - s;
  if (n <= 0) return "";
  if (n <= 64) {
    // Short ASCII slices (names, label values) skip the decoder and its view allocation.
    let text = "";
    for (let i = s; i < e; i++) {
      const b = bytes[i]!;
      if (b >= 0x80) return UTF8.decode(bytes.subarray(s, e));
      text += String.fromCharCode(b);
    }
    return text;
  }
  return UTF8.decode(bytes.subarray(s, e));
}

/**
 * Whether a string of single-byte characters equals the bytes at `s`: the check a cache of strings decoded
 * from ASCII bytes makes before it hands one back.
 *
 * @param text The string (characters below 0x80).
 * @param bytes The bytes.
 * @param s Where the bytes start; `text.length` of them are compared, so the caller checks there are.
 * @returns True when every character equals its byte.
 */
export function sameAscii(text: string, bytes: Uint8Array, s: number): boolean {
  for (let k = 0; k < text.length; k++) {
    if (text.charCodeAt(k) !== bytes[s + k]) return false;
  }
  return true;
}

/**
 * Validates UTF-8 per RFC 3629 (no overlongs, no surrogates, nothing above U+10FFFF).
 *
 * @param bytes The bytes.
 * @param s The start offset.
 * @param e The end offset (exclusive).
 * @returns True when [s, e) is valid UTF-8.
 */
export function isValidUtf8(bytes: Uint8Array, s: number, e: number): boolean {
  let i = s;
  while (i < e) {
    const c = bytes[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return false;
    if (i + need >= e) return false;
    const b1 = bytes[i + 1]!;
    if (b1 < lo || b1 > hi) return false;
    for (let k = 2; k <= need; k++) {
      if ((bytes[i + k]! & 0xc0) !== 0x80) return false;
    }
    i += need + 1;
  }
  return true;
}

/**
 * Parses a decimal number `[+-](digits[.digits] | .digits)[(e|E)[+-]digits]`.
 *
 * Leading zeros (`09`), a trailing dot (`5.`) and exponents (`1.2e-7`) are accepted; `NaN`, `Inf`,
 * hex, `_` separators and decimal commas are not.
 *
 * @param bytes The bytes.
 * @param s The start offset.
 * @param e The end offset (exclusive).
 * @returns The value, or NaN when the text is not such a number or is not finite.
 */
export function parseDecimal(bytes: Uint8Array, s: number, e: number): number {
  let i = s;
  let negative = false;
  if (i < e) {
    const b = bytes[i]!;
    if (b === MINUS) {
      negative = true;
      i++;
    } else if (b === PLUS) i++;
  }
  let mantissa = 0;
  let digits = 0;
  let fraction = 0;
  while (i < e) {
    const d = bytes[i]! - DIGIT_0;
    if (d < 0 || d > 9) break;
    mantissa = mantissa * 10 + d;
    digits++;
    i++;
  }
  if (i < e && bytes[i] === DOT) {
    i++;
    while (i < e) {
      const d = bytes[i]! - DIGIT_0;
      if (d < 0 || d > 9) break;
      mantissa = mantissa * 10 + d;
      digits++;
      fraction++;
      i++;
    }
  }
  if (digits === 0) return NaN;
  if (i === e && digits <= 15) {
    // Both operands are exact doubles, so the quotient is the correctly rounded value (Clinger's fast path).
    const v = fraction === 0 ? mantissa : mantissa / POW10[fraction]!;
    // `0 - v` rather than `-v`: "-0" is 0, not negative zero (which JSON and equality checks hide).
    return negative ? 0 - v : v;
  }
  if (i < e) {
    const x = bytes[i]!;
    if (x !== 0x65 && x !== 0x45) return NaN;
    i++;
    if (i < e && (bytes[i] === PLUS || bytes[i] === MINUS)) i++;
    const expStart = i;
    while (i < e && bytes[i]! >= DIGIT_0 && bytes[i]! <= DIGIT_9) i++;
    if (i === expStart || i !== e) return NaN;
  }
  // Long mantissas and exponents: the grammar above is a subset of what Number() reads, so defer to it.
  const v = Number(decodeText(bytes, s, e)) + 0;
  return v - v === 0 ? v : NaN;
}

/**
 * Parses an optionally signed decimal integer of at most 15 digits (exact as a double).
 *
 * @param bytes The bytes.
 * @param s The start offset.
 * @param e The end offset (exclusive).
 * @returns The value, or NaN when [s, e) is not such an integer.
 */
export function parseInteger(bytes: Uint8Array, s: number, e: number): number {
  let i = s;
  let negative = false;
  if (i < e && (bytes[i] === MINUS || bytes[i] === PLUS)) {
    negative = bytes[i] === MINUS;
    i++;
  }
  if (i === e || e - i > 15) return NaN;
  let v = 0;
  for (; i < e; i++) {
    const d = bytes[i]! - DIGIT_0;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return negative ? 0 - v : v;
}

/**
 * Whether [s, e) spells one of Go's non-finite float literals (`NaN`, `Inf`, `+Inf`, `-Inf`, `Infinity`,
 * any case): what Prometheus text may carry as a value.
 *
 * @param bytes The bytes.
 * @param s The start offset.
 * @param e The end offset (exclusive).
 * @returns True for a non-finite literal.
 */
export function isNonFiniteLiteral(bytes: Uint8Array, s: number, e: number): boolean {
  if (e - s > 9) return false;
  let text = decodeText(bytes, s, e).toLowerCase();
  if (text === "nan") return true;
  if (text.startsWith("+") || text.startsWith("-")) text = text.slice(1);
  return text === "inf" || text === "infinity";
}

/**
 * Sorts labels by name (stable) and drops duplicate names, keeping the last one given.
 *
 * @param labels The labels; sorted and shortened in place.
 * @returns The same array, or {@link NO_LABELS} when empty.
 */
export function normalizeLabels(labels: Label[]): Labels {
  const n = labels.length;
  if (n === 0) return NO_LABELS;
  if (n < 2) return labels;
  if (n <= 16) {
    // Insertion sort: no comparator closure for the common handful of tags.
    for (let i = 1; i < n; i++) {
      const cur = labels[i]!;
      let j = i - 1;
      while (j >= 0 && labels[j]![0] > cur[0]) {
        labels[j + 1] = labels[j]!;
        j--;
      }
      labels[j + 1] = cur;
    }
  } else {
    labels.sort(compareLabels);
  }
  let w = 0;
  for (let r = 0; r < n; r++) {
    // Stable order keeps arrival order among equal names, so the last of a run is the last given.
    if (r + 1 < n && labels[r + 1]![0] === labels[r]![0]) continue;
    labels[w++] = labels[r]!;
  }
  labels.length = w;
  return labels;
}

/** Orders labels by name for a comparator-based (stable) sort. */
function compareLabels(x: Label, y: Label): number {
  return x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0;
}

/**
 * Whether a name or label would break series keys (it holds 0x00-0x02, the `seriesKey` separators).
 *
 * @param text The text.
 * @returns True when the text holds a separator character.
 */
export function hasKeySeparator(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) <= 2) return true;
  }
  return false;
}

const COMBINING_MARKS_REGEXP = /\p{M}+/gu;
const CAMEL_BOUNDARY_REGEXP = /([a-z0-9])([A-Z])|([A-Z])([A-Z][a-z])/g;
const NOT_SNAKE_REGEXP = /[^a-z0-9]+/g;
const EDGE_UNDERSCORES_REGEXP = /^_+|_+$/g;

/**
 * Derives a snake_case identifier from display text: accents dropped, camelCase words split
 * (`countExceptionsThrown` → `count_exceptions_thrown`, `JVMHeap` → `jvm_heap`), lower-cased, every run
 * of characters outside `[a-z0-9]` turned into one `_`, leading and trailing `_` trimmed.
 *
 * @param text Display text, e.g. `Incoming traffic on interface` or `Volume Group`.
 * @returns The identifier, e.g. `incoming_traffic_on_interface`; empty when nothing usable remains.
 */
export function snakeCase(text: string): string {
  return text.normalize("NFKD").replace(COMBINING_MARKS_REGEXP, "").replace(CAMEL_BOUNDARY_REGEXP, splitCamel)
    .toLowerCase().replace(NOT_SNAKE_REGEXP, "_").replace(EDGE_UNDERSCORES_REGEXP, "");
}

/** Puts a `_` at a camelCase boundary matched by {@link CAMEL_BOUNDARY_REGEXP}. */
function splitCamel(_match: string, a?: string, b?: string, c?: string, d?: string): string {
  return a !== undefined ? `${a}_${b}` : `${c}_${d}`;
}

/**
 * Builds a sample; one place, one property order, so every sample shares a hidden class.
 *
 * @param name The metric name.
 * @param labels The labels, sorted (see {@link normalizeLabels}).
 * @param key The series key of name and labels, when already known.
 * @param kind The kind.
 * @param value The value.
 * @param timeMs The time in ms since the epoch, or 0 for arrival time.
 * @returns The sample.
 */
export function makeSample(
  name: string,
  labels: Labels,
  key: string | undefined,
  kind: SampleKind,
  value: number,
  timeMs: number,
): Sample {
  return {
    name,
    labels,
    key: key ?? seriesKey(name, labels),
    kind,
    value,
    member: "",
    rate: 1,
    gaugeDelta: false,
    timeMs,
  };
}

/**
 * Where a parser is in a body it reads line by line: one object per frame, updated in place by
 * {@link nextLine}, so reading lines allocates nothing.
 */
export interface LineCursor {
  /** Where the line after the current one starts. */
  next: number;
  /** The 1-based number of the current line. */
  number: number;
  /** The start of the current line. */
  start: number;
  /** The end of the current line, before its `\n` and any trailing `\r`. */
  end: number;
  /** The start of the current line with leading blanks skipped. */
  s: number;
  /** The end of the current line with trailing blanks and `\r` trimmed. */
  e: number;
  /** Whether the current line holds a byte ≥ 0x80 (so it needs UTF-8 validation). */
  nonAscii: boolean;
}

/**
 * Starts reading a body line by line, past a UTF-8 byte-order mark (PowerShell writes one).
 *
 * @param bytes The body.
 * @returns A cursor before the first line.
 */
export function lineCursor(bytes: Uint8Array): LineCursor {
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return { next: bom, number: 0, start: bom, end: bom, s: bom, e: bom, nonAscii: false };
}

/**
 * Moves the cursor to the next line (`\n`-separated; `\r\n` too).
 *
 * @param bytes The body.
 * @param c The cursor, updated in place.
 * @returns False when there are no more lines.
 */
export function nextLine(bytes: Uint8Array, c: LineCursor): boolean {
  const length = bytes.length;
  const start = c.next;
  if (start >= length) return false;
  let i = start;
  let high = 0;
  while (i < length) {
    const b = bytes[i]!;
    if (b === LF) break;
    high |= b;
    i++;
  }
  let end = i;
  while (end > start && bytes[end - 1] === CR) end--;
  let s = start;
  let e = end;
  while (s < e && isBlank(bytes[s])) s++;
  while (e > s && (isBlank(bytes[e - 1]) || bytes[e - 1] === CR)) e--;
  c.next = i + 1;
  c.number++;
  c.start = start;
  c.end = end;
  c.s = s;
  c.e = e;
  c.nonAscii = (high & 0x80) !== 0;
  return true;
}
