/**
 * The slice decoding StatsD's parser, identities, events and set members share: text from byte ranges of
 * a validated line (through one decoded region per identity where the line is ASCII), DogStatsD tag lists,
 * unix seconds, and the check for the bytes a series key cannot hold.
 *
 * @module
 */

import type { Label } from "../model/sample.ts";
import { COLON, COMMA, DIGIT_0 } from "./_text.ts";

/** Decodes the slices of lines that carry bytes ≥ 0x80 (already validated) and long ASCII slices. */
const UTF8 = new TextDecoder("utf-8", { ignoreBOM: true });

/**
 * The decoded identity region of the ASCII line being decoded: while set, `decode` slices
 * [regionStart, regionEnd) from `regionText`. Only set between {@link openRegion} and {@link closeRegion}.
 */
let regionText = "";
let regionStart = 0;
let regionEnd = -1;
/** Longer identity regions are decoded piece by piece, so a cached slice never pins a large string. */
const REGION_MAX_BYTES = 1024;

/**
 * Decodes the ASCII range [s, e) once, so that {@link decode} slices the pieces inside it from that string
 * (bytes and UTF-16 offsets coincide) rather than building each; a range longer than 1024 bytes is left to
 * be decoded piece by piece, so a cached slice never pins a large string. Close it before the bytes change.
 *
 * @param bytes The line's bytes, all ASCII in [s, e).
 * @param s The start offset.
 * @param e The end offset (exclusive).
 */
export function openRegion(bytes: Uint8Array, s: number, e: number): void {
  if (e - s > REGION_MAX_BYTES) return;
  regionText = asciiString(bytes, s, e);
  regionStart = s;
  regionEnd = e;
}

/** Forgets the region {@link openRegion} decoded. */
export function closeRegion(): void {
  regionText = "";
  regionEnd = -1;
}

/**
 * Whether [s, e) holds a byte `seriesKey` uses as a separator (0x00-0x02); such a name or tag would make
 * two different series share a key, so the line is rejected instead.
 *
 * @param bytes The bytes.
 * @param s The start offset.
 * @param e The end offset (exclusive).
 * @returns True when a separator byte occurs.
 */
export function hasKeySeparator(bytes: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) {
    if (bytes[i]! <= 0x02) return true;
  }
  return false;
}

/**
 * Parses a DogStatsD tag list `k:v,flag` (valueless tags get ""); empty tags are skipped.
 *
 * @param bytes The bytes.
 * @param s The start of the list (after `#`).
 * @param e The end of the list (exclusive).
 * @param ascii Whether the line is all ASCII.
 * @param out Receives the tags.
 * @returns False when a tag has an empty name or a series-key separator byte.
 */
export function parseTags(bytes: Uint8Array, s: number, e: number, ascii: boolean, out: Label[]): boolean {
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

/**
 * Parses unsigned unix seconds (at most 12 digits) into milliseconds.
 *
 * @param bytes The bytes.
 * @param s The start offset.
 * @param e The end offset (exclusive).
 * @returns The milliseconds, or -1 when [s, e) is not such a number.
 */
export function parseSecondsToMs(bytes: Uint8Array, s: number, e: number): number {
  if (e <= s || e - s > 12) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = bytes[i]! - DIGIT_0;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v * 1000;
}

/**
 * Decodes [s, e): from the current identity region when inside it, ASCII slices with
 * `String.fromCharCode`, everything else with the shared TextDecoder (the line was validated, and
 * slices end on ASCII delimiters, so they are valid UTF-8).
 *
 * @param bytes The line's bytes.
 * @param s The start offset.
 * @param e The end offset (exclusive).
 * @param ascii Whether the line is all ASCII.
 * @returns The text.
 */
export function decode(bytes: Uint8Array, s: number, e: number, ascii: boolean): string {
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
