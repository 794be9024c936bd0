/**
 * The Influx line parser's series cache: the measurement-and-tags section of a line (`cpu,host=a`) decoded
 * once (unescaped, labels sorted with the frame's, each field's name and series key built) and found again
 * by its raw bytes. Lines of one measurement and tag set repeat from batch to batch, and decoding them is
 * most of a line's cost without the cache. One cache per thread; a frame with other labels empties it.
 *
 * @module
 */

import type { BadReason, Label, Labels } from "../model/sample.ts";
import { seriesKey } from "../model/series_key.ts";
import {
  BACKSLASH,
  COMMA,
  decodeText,
  EQUALS,
  hasKeySeparator,
  normalizeLabels,
  SPACE,
  TAB,
} from "./_text.ts";

/** A field key's identity within one series section: what the series cache memoises per field. */
export interface FieldIdentity {
  /** The key's raw bytes, escapes and all. */
  readonly raw: Uint8Array;
  /** The unescaped key. */
  readonly key: string;
  /** The sample name: `<measurement>_<key>`, or `<measurement>` for `value`. */
  readonly name: string;
  /** The series key of name and labels. */
  readonly seriesKey: string;
  /** The key holds a control character: the line is rejected once its timestamp parsed. */
  readonly invalid: boolean;
}

/** A decoded measurement-and-tags section (`cpu,host=a`): what the series cache memoises. */
export interface Series {
  /** The discriminant. */
  readonly kind: "series";
  /** The FNV-1a hash of the raw bytes. */
  readonly hash: number;
  /** The raw bytes: the section is this long, and the fields start right after it. */
  readonly raw: Uint8Array;
  /** The unescaped measurement. */
  readonly measurement: string;
  /** The tags plus the frame's labels, sorted. */
  readonly labels: Labels;
  /**
   * Set when the measurement or a tag holds a control character (series-key separators): such a line is
   * rejected, but only after its fields and timestamp parsed, so the reason is the same as without a cache.
   */
  readonly invalid: BadReason | null;
  /** The message for `invalid`. */
  readonly invalidMessage: string;
  /** The field identities met with this section (at most {@link MAX_FIELDS_CACHED}). */
  readonly fields: FieldIdentity[];
}

/** FNV-1a 32-bit parameters for the series-cache hash. */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/**
 * Slots in the series cache at first: open addressing with linear probing, a power of two. The table
 * doubles (up to {@link CACHE_MAX_SLOTS}) when it is half full, so that the default series cap (100 000)
 * fits: a cache smaller than the working set is emptied again and again and misses every line (with a
 * fixed 8192 entries, 50 000 series parsed 6 times slower than 1000).
 */
const CACHE_MIN_SLOTS = 16384;
/** The most slots; entries stop at half of them, after which the cache is emptied and refilled. */
const CACHE_MAX_SLOTS = 262144;
/** Longer sections are decoded every time. */
const CACHE_MAX_BYTES = 512;
/** Field identities kept per series section. */
const MAX_FIELDS_CACHED = 32;
/**
 * The series cache, per thread: lines of one measurement and tag set repeat from batch to batch, and
 * decoding them (unescaping, sorting labels, building series keys) is most of a line's cost.
 */
let seriesCache: Array<Series | undefined> = new Array<Series | undefined>(CACHE_MIN_SLOTS).fill(undefined);
let cacheMask = CACHE_MIN_SLOTS - 1;
let seriesCached = 0;
/** The frame labels the cached entries were built with; another set empties the cache. */
let cachedFrameLabels = "";

/** Why a section could not be read: the line's reason and message. */
export interface SeriesFailure {
  /** The discriminant. */
  readonly kind: "failure";
  /** The counted reason. */
  readonly reason: BadReason;
  /** What is wrong. */
  readonly message: string;
}

/**
 * Empties the series cache when the frame's labels differ from those its entries were built with (their
 * labels include the frame's). Frames of one source carry the same labels, so this is rare.
 *
 * @param labels The frame's labels, added to every series.
 */
export function useFrameLabels(labels: readonly Label[]): void {
  let signature = "";
  for (let k = 0; k < labels.length; k++) signature += `${labels[k]![0]}\u0001${labels[k]![1]}\u0002`;
  if (signature === cachedFrameLabels) return;
  cachedFrameLabels = signature;
  seriesCache.fill(undefined);
  seriesCached = 0;
}

/** The cached series of the section [s, p), or `undefined`. */
function lookupSeries(bytes: Uint8Array, s: number, p: number, hash: number): Series | undefined {
  const n = p - s;
  let slot = (hash ^ (hash >>> 15)) & cacheMask;
  for (;;) {
    const entry = seriesCache[slot];
    if (entry === undefined) return undefined;
    if (entry.hash === hash && entry.raw.length === n && sameBytes(entry.raw, bytes, s, n)) return entry;
    slot = (slot + 1) & cacheMask;
  }
}

/**
 * Reads the measurement and tags at the start of the line [s, e): from the cache when these bytes were
 * seen (with the same frame labels), else decoded and cached.
 *
 * @param bytes The body.
 * @param s The line's start.
 * @param e The line's end.
 * @param frameLabels The frame's labels, added to the series' own.
 * @returns The series, whose raw bytes end where the fields begin; or why the section is malformed.
 */
export function readSeries(
  bytes: Uint8Array,
  s: number,
  e: number,
  frameLabels: readonly Label[],
): Series | SeriesFailure {
  // The section ends at the first unescaped blank; hash it on the way.
  let p = s;
  let hash = FNV_OFFSET;
  while (p < e) {
    const b = bytes[p]!;
    if (b === BACKSLASH && p + 1 < e) {
      hash = Math.imul(hash ^ b, FNV_PRIME);
      hash = Math.imul(hash ^ bytes[p + 1]!, FNV_PRIME);
      p += 2;
      continue;
    }
    if (b === SPACE || b === TAB) break;
    hash = Math.imul(hash ^ b, FNV_PRIME);
    p++;
  }
  return lookupSeries(bytes, s, p, hash) ?? decodeSeries(bytes, s, e, hash, frameLabels);
}

/** Decodes the measurement and tags at the start of [s, e) and caches them. */
function decodeSeries(
  bytes: Uint8Array,
  s: number,
  e: number,
  hash: number,
  frameLabels: readonly Label[],
): Series | SeriesFailure {
  let p = scanToken(bytes, s, e, false);
  if (p === s) return { kind: "failure", reason: "empty_name", message: "Line has no measurement" };
  const measurement = unescape(bytes, s, p);
  const labels: Label[] = [];
  // tags
  while (p < e && bytes[p] === COMMA) {
    const ks = p + 1;
    const ke = scanToken(bytes, ks, e, true);
    if (ke === ks || bytes[ke] !== EQUALS) {
      return {
        kind: "failure",
        reason: "bad_tags",
        message: `Tag "${decodeText(bytes, ks, ke)}" has no key or no '='`,
      };
    }
    const vs = ke + 1;
    const ve = scanToken(bytes, vs, e, true);
    if (ve === vs || bytes[ve] === EQUALS) {
      return {
        kind: "failure",
        reason: "bad_tags",
        message: `Tag "${unescape(bytes, ks, ke)}" has no value`,
      };
    }
    labels.push([unescape(bytes, ks, ke), unescape(bytes, vs, ve)]);
    p = ve;
  }
  let invalid: BadReason | null = null;
  let invalidMessage = "";
  if (hasKeySeparator(measurement)) {
    invalid = "empty_name";
    invalidMessage = "Measurement holds a control character";
  } else {
    for (let k = 0; k < labels.length; k++) {
      if (hasKeySeparator(labels[k]![0]) || hasKeySeparator(labels[k]![1])) {
        invalid = "bad_tags";
        invalidMessage = "A tag holds a control character";
        break;
      }
    }
  }
  for (let k = 0; k < frameLabels.length; k++) labels.push(frameLabels[k]!);
  const series: Series = {
    kind: "series",
    hash,
    raw: bytes.slice(s, p),
    measurement,
    labels: normalizeLabels(labels),
    invalid,
    invalidMessage,
    fields: [],
  };
  if (p - s <= CACHE_MAX_BYTES) {
    if (seriesCached >= (cacheMask + 1) / 2) makeRoom();
    insertSeries(series);
  }
  return series;
}

/** Puts `series` in the first free slot of its probe chain. */
function insertSeries(series: Series): void {
  let slot = (series.hash ^ (series.hash >>> 15)) & cacheMask;
  while (seriesCache[slot] !== undefined) slot = (slot + 1) & cacheMask;
  seriesCache[slot] = series;
  seriesCached++;
}

/**
 * Doubles the cache and re-inserts its entries; at {@link CACHE_MAX_SLOTS}, empties it instead: past
 * that the cardinality is beyond what memoising pays for, and starting over is cheaper than evicting.
 */
function makeRoom(): void {
  const old = seriesCache;
  const slots = cacheMask + 1 >= CACHE_MAX_SLOTS ? cacheMask + 1 : (cacheMask + 1) * 2;
  seriesCache = new Array<Series | undefined>(slots).fill(undefined);
  cacheMask = slots - 1;
  seriesCached = 0;
  if (slots === old.length) return;
  for (const entry of old) if (entry !== undefined) insertSeries(entry);
}

/**
 * The identity of the field key [ks, ke) within `series`, from its cache or decoded (and cached).
 *
 * @param series The line's series.
 * @param bytes The body.
 * @param ks The key's start.
 * @param ke The key's end (its `=`).
 * @returns The field's name, series key and validity.
 */
export function fieldIdentity(series: Series, bytes: Uint8Array, ks: number, ke: number): FieldIdentity {
  const n = ke - ks;
  const fields = series.fields;
  for (let k = 0; k < fields.length; k++) {
    const field = fields[k]!;
    if (field.raw.length === n && sameBytes(field.raw, bytes, ks, n)) return field;
  }
  const key = unescape(bytes, ks, ke);
  const name = key === "value" ? series.measurement : `${series.measurement}_${key}`;
  const field: FieldIdentity = {
    raw: bytes.slice(ks, ke),
    key,
    name,
    seriesKey: seriesKey(name, series.labels),
    invalid: hasKeySeparator(key),
  };
  if (fields.length < MAX_FIELDS_CACHED) fields.push(field);
  return field;
}

/** Whether `cached` equals `bytes[at..at+n)`. */
function sameBytes(cached: Uint8Array, bytes: Uint8Array, at: number, n: number): boolean {
  for (let i = 0; i < n; i++) {
    if (cached[i] !== bytes[at + i]) return false;
  }
  return true;
}

/**
 * Scans a measurement (`tagLike` false: stops at an unescaped `,` or blank) or a tag key, tag value or
 * field key (`tagLike` true: also stops at `=`).
 *
 * @param bytes The body.
 * @param p Where the token starts.
 * @param e The line's end.
 * @param tagLike Whether `=` ends the token too.
 * @returns Where the token ends.
 */
export function scanToken(bytes: Uint8Array, p: number, e: number, tagLike: boolean): number {
  while (p < e) {
    const b = bytes[p]!;
    if (b === BACKSLASH && p + 1 < e) {
      p += 2;
      continue;
    }
    if (b === COMMA || b === SPACE || b === 0x09 || (tagLike && b === EQUALS)) break;
    p++;
  }
  return p;
}

/**
 * Decodes [s, e) and removes the backslash of `\,`, `\=` and `\ ` (others stay literal).
 *
 * @param bytes The body.
 * @param s The start.
 * @param e The end.
 * @returns The text.
 */
export function unescape(bytes: Uint8Array, s: number, e: number): string {
  let from = s;
  let text = "";
  for (let i = s; i < e - 1; i++) {
    if (bytes[i] !== BACKSLASH) continue;
    const next = bytes[i + 1];
    if (next === COMMA || next === EQUALS || next === SPACE) {
      text += decodeText(bytes, from, i);
      from = i + 1;
      i++;
    }
  }
  return from === s ? decodeText(bytes, s, e) : text + decodeText(bytes, from, e);
}
