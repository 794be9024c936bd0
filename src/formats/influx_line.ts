/**
 * The InfluxDB line protocol: what Telegraf's `exec` scripts, InfluxDB clients and `/write` endpoints
 * send. General on purpose: the HTTP input reuses it for `/write` and `/api/v2/write`.
 *
 * Spec: https://docs.influxdata.com/influxdb/v2/reference/syntax/line-protocol/
 *
 * ```text
 * measurement[,tag=value…] field=value[,field=value…] [timestamp]
 * ```
 *
 * - Escapes: `\,` and `\ ` in the measurement; `\,`, `\=` and `\ ` in tag keys, tag values and field
 *   keys; `\"` and `\\` in string field values. Any other backslash is literal.
 * - A string field value may span lines: a newline inside its quotes belongs to the value (as InfluxDB's
 *   and Telegraf's parsers read it), so the line goes on after the closing quote.
 * - Each numeric field becomes one `gauge` sample named `<measurement>_<field>`, or just `<measurement>`
 *   for a field called `value` (Telegraf's Prometheus output names series the same way); tags become
 *   labels. Floats, integers (`1i`), unsigned integers (`1u`) and booleans (`t`/`true`… → 1, `f`/`false`…
 *   → 0) are numeric. String fields are skipped; a line with only string fields yields nothing and is
 *   counted as `no_value`.
 * - The timestamp is in nanoseconds unless a precision says otherwise (`ns`, `us`, `ms`, `s`, `m`, `h`:
 *   the script frame header's `precision`, else `options.precision`); it is converted to ms (floored).
 *   Without one, samples get the frame's run start (script frames) or 0, "arrival time".
 * - Lines starting with `#` are comments. Blank lines and comments are not counted.
 *
 * Script frames: when the bytes start with a script frame header (`{"script":`), its labels (`script`
 * and the configured ones) are added to every sample, overriding tags of the same name.
 *
 * A line is accepted or rejected as a whole, as InfluxDB does: `empty_name` (no measurement),
 * `bad_tags` (a tag without `=` or with an empty key or value), `no_value` (no fields, or only strings),
 * `bad_value` (a field value that is not a valid number, boolean or string), `bad_timestamp`,
 * `invalid_utf8`; a frame whose header is present but invalid is one `bad_frame`.
 *
 * @module
 */

import type { BadReason, Label, Sample, SampleSink } from "../model/sample.ts";
import type { LineCursor } from "./_text.ts";
import {
  BACKSLASH,
  COMMA,
  decodeText,
  EQUALS,
  HASH,
  isBlank,
  isValidUtf8,
  lineCursor,
  makeSample,
  MINUS,
  nextLine,
  parseDecimal,
  parseInteger,
  PLUS,
  QUOTE,
} from "./_text.ts";
import { fieldIdentity, readSeries, scanToken, unescape, useFrameLabels } from "./_influx_series.ts";
import type { FieldIdentity } from "./_influx_series.ts";
import { openScriptFrame } from "./script_frame.ts";
import type { InfluxPrecision, ScriptParseOptions } from "./script_frame.ts";

/** Options of {@link parseInfluxLine}. */
export interface InfluxLineOptions extends ScriptParseOptions {
  /** The timestamp precision when the frame header gives none; `ns` by default. */
  readonly precision?: InfluxPrecision;
}

/** Milliseconds per timestamp unit, as [multiply, divide] to keep the arithmetic exact where it can be. */
const PRECISION_TO_MS: Readonly<Record<InfluxPrecision, readonly [number, number]>> = {
  ns: [1, 1e6],
  us: [1, 1e3],
  ms: [1, 1],
  s: [1e3, 1],
  m: [60e3, 1],
  h: [3600e3, 1],
};

const LOWER_I = 0x69;
const LOWER_U = 0x75;

/** What one parse call carries from line to line. */
interface State {
  readonly frameLabels: readonly Label[];
  readonly defaultTimeMs: number;
  readonly multiply: number;
  readonly divide: number;
}

/** Why the last line failed, for `options.onBad`. */
let failure = "";
/** Set by `parseLine` when a string field was still open at the end of the line (it may go on). */
let unclosed = false;

/**
 * Parses InfluxDB line protocol (optionally inside a script frame) into gauge samples.
 *
 * Never throws on any input.
 *
 * @param bytes Line protocol, or a script frame whose body is line protocol; not retained.
 * @param sink Receives each sample and the reason of each rejected line.
 * @param options The default timestamp precision, and `onBad` for each rejected line's number and a message.
 * @returns The data lines seen, good and bad (comments and blank lines excluded).
 * @example
 * ```ts
 * parseInfluxLine(new TextEncoder().encode("cpu,host=a usage_idle=93.5,usage_user=4i 1700000000000000000"), sink);
 * // cpu_usage_idle{host="a"} 93.5 and cpu_usage_user{host="a"} 4, both at 1700000000000 ms
 * ```
 */
export function parseInfluxLine(bytes: Uint8Array, sink: SampleSink, options?: InfluxLineOptions): number {
  const frame = openScriptFrame(bytes, sink, options, false);
  if (frame === undefined) return 1;
  const precision = frame.header?.precision ?? options?.precision ?? "ns";
  const [multiply, divide] = PRECISION_TO_MS[precision];
  const state: State = { frameLabels: frame.labels, defaultTimeMs: frame.timeMs, multiply, divide };
  useFrameLabels(frame.labels);
  const onBad = options?.onBad;
  const body = frame.body;
  const pending: Sample[] = [];
  const line = lineCursor(body);
  let lines = 0;
  while (nextLine(body, line)) {
    if (line.e === line.s || body[line.s] === HASH) continue;
    lines++;
    const first = line.number;
    let reason = parseChecked(body, line, state, pending);
    if (reason !== null && unclosed) reason = parseContinued(body, line, state, pending, reason);
    if (reason !== null) {
      sink.bad(reason);
      onBad?.({ line: first, reason, message: failure });
    } else {
      for (let k = 0; k < pending.length; k++) sink.sample(pending[k]!);
    }
    pending.length = 0;
  }
  return lines;
}

/** The fields of the line being parsed, reused from line to line. */
const lineFields: FieldIdentity[] = [];
const lineValues: number[] = [];

/** Parses one trimmed line into `out`; nothing is kept when a reason is returned. */
function parseLine(bytes: Uint8Array, s: number, e: number, state: State, out: Sample[]): BadReason | null {
  const series = readSeries(bytes, s, e, state.frameLabels);
  if (series.kind === "failure") {
    failure = series.message;
    return series.reason;
  }
  let p = s + series.raw.length;
  if (p >= e) {
    failure = `Measurement "${series.measurement}" has no fields`;
    return "no_value";
  }
  // bytes[p] is a blank: fields follow
  while (p < e && isBlank(bytes[p])) p++;
  let count = 0;
  let strings = 0;
  for (;;) {
    const ks = p;
    const ke = scanToken(bytes, ks, e, true);
    if (ke === ks || bytes[ke] !== EQUALS) {
      failure = `Field "${decodeText(bytes, ks, ke)}" has no key or no '='`;
      return "bad_value";
    }
    let q = ke + 1;
    if (bytes[q] === QUOTE) {
      // A string field: skipped, but it must be well formed.
      q++;
      while (q < e && bytes[q] !== QUOTE) q += bytes[q] === BACKSLASH ? 2 : 1;
      if (q >= e) {
        unclosed = true;
        failure = `String field "${unescape(bytes, ks, ke)}" has no closing quote`;
        return "bad_value";
      }
      q++;
      strings++;
    } else {
      const vs = q;
      while (q < e && bytes[q] !== COMMA && !isBlank(bytes[q])) q++;
      const value = fieldValue(bytes, vs, q);
      if (value !== value) {
        failure = `Field "${unescape(bytes, ks, ke)}" has an invalid value "${decodeText(bytes, vs, q)}"`;
        return "bad_value";
      }
      lineFields[count] = fieldIdentity(series, bytes, ks, ke);
      lineValues[count] = value;
      count++;
    }
    p = q;
    if (p < e && bytes[p] === COMMA) {
      p++;
      continue;
    }
    break;
  }
  let timeMs = state.defaultTimeMs;
  while (p < e && isBlank(bytes[p])) p++;
  if (p < e) {
    timeMs = timestampMs(bytes, p, e, state);
    if (timeMs !== timeMs) {
      failure = `Invalid timestamp "${decodeText(bytes, p, e)}"`;
      return "bad_timestamp";
    }
  }
  if (count === 0) {
    failure = `Measurement "${series.measurement}" has only string fields`;
    return "no_value";
  }
  if (series.invalid !== null) {
    failure = series.invalidMessage;
    return series.invalid;
  }
  for (let k = 0; k < count; k++) {
    if (lineFields[k]!.invalid) {
      failure = "A field key holds a control character";
      return "bad_value";
    }
  }
  for (let k = 0; k < count; k++) {
    const field = lineFields[k]!;
    out.push(makeSample(field.name, series.labels, field.seriesKey, "gauge", lineValues[k]!, timeMs));
  }
  return null;
}

/**
 * The timestamp [p, e) in ms, by the line's precision; NaN when it is not an integer. Nanosecond and
 * microsecond timestamps have more digits than a double holds exactly, so those are split into their
 * millisecond part and the rest, which keeps the result exact (flooring, as for shorter ones).
 */
function timestampMs(bytes: Uint8Array, p: number, e: number, state: State): number {
  const t = parseInteger(bytes, p, e);
  if (t === t) return Math.floor((t * state.multiply) / state.divide);
  const sub = state.divide === 1e6 ? 6 : state.divide === 1e3 ? 3 : 0;
  if (sub > 0 && bytes[p] !== MINUS && e - p > sub) {
    const ms = parseInteger(bytes, p, e - sub);
    const rest = parseInteger(bytes, e - sub, e);
    if (ms === ms && rest === rest && bytes[e - sub] !== PLUS && bytes[e - sub] !== MINUS) return ms;
  }
  const ts = parseLongInteger(bytes, p, e);
  return ts !== ts ? NaN : Math.floor((ts * state.multiply) / state.divide);
}

/** Validates the UTF-8 of the cursor's line and parses it. */
function parseChecked(body: Uint8Array, line: LineCursor, state: State, out: Sample[]): BadReason | null {
  unclosed = false;
  if (line.nonAscii && !isValidUtf8(body, line.s, line.e)) {
    failure = "Line is not valid UTF-8";
    return "invalid_utf8";
  }
  return parseLine(body, line.s, line.e, state, out);
}

/**
 * A string field was still open at the end of the line: takes in the following lines until the line
 * parses (a newline inside a quoted value, rare). When it never does, only the first line is rejected
 * (with its own reason) and the cursor goes back to just after it, so a line that merely lacks its closing
 * quote does not swallow its neighbours.
 */
function parseContinued(
  body: Uint8Array,
  line: LineCursor,
  state: State,
  out: Sample[],
  firstReason: BadReason,
): BadReason | null {
  const firstFailure = failure;
  const { next, number, start, end, s, e, nonAscii } = line;
  let reason: BadReason | null = firstReason;
  while (reason !== null && unclosed && nextLine(body, line)) {
    line.s = s;
    line.start = start;
    line.nonAscii ||= nonAscii;
    out.length = 0;
    reason = parseChecked(body, line, state, out);
  }
  if (reason === null) return null;
  out.length = 0;
  Object.assign(line, { next, number, start, end, s, e, nonAscii });
  failure = firstFailure;
  return firstReason;
}

/** A field's numeric value: float, `<int>i`, `<uint>u` or a boolean; NaN when none of those. */
function fieldValue(bytes: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n === 0) return NaN;
  const last = bytes[e - 1];
  if (last === LOWER_I || last === LOWER_U) {
    const v = parseInteger(bytes, s, e - 1);
    const value = v === v ? v : parseLongInteger(bytes, s, e - 1);
    return last === LOWER_U && value < 0 ? NaN : value;
  }
  const first = bytes[s];
  if (first === 0x74 || first === 0x54 || first === 0x66 || first === 0x46) return booleanValue(bytes, s, e);
  return parseDecimal(bytes, s, e);
}

/** `t`, `T`, `true`, `True`, `TRUE` → 1; `f`, `F`, `false`, `False`, `FALSE` → 0; else NaN. */
function booleanValue(bytes: Uint8Array, s: number, e: number): number {
  const n = e - s;
  if (n === 1) {
    return bytes[s] === 0x74 || bytes[s] === 0x54 ? 1 : bytes[s] === 0x66 || bytes[s] === 0x46 ? 0 : NaN;
  }
  if (n !== 4 && n !== 5) return NaN;
  const word = n === 4 ? BOOLEAN_WORDS_4 : BOOLEAN_WORDS_5;
  for (let w = 0; w < word.length; w++) {
    const candidate = word[w]!;
    let k = 0;
    while (k < n && bytes[s + k] === candidate.charCodeAt(k)) k++;
    if (k === n) return n === 4 ? 1 : 0;
  }
  return NaN;
}

const BOOLEAN_WORDS_4 = ["true", "True", "TRUE"] as const;
const BOOLEAN_WORDS_5 = ["false", "False", "FALSE"] as const;

/** Parses an integer too long for `parseInteger` (nanosecond timestamps, 64-bit fields) as a double. */
function parseLongInteger(bytes: Uint8Array, s: number, e: number): number {
  let i = s;
  if (i < e && (bytes[i] === 0x2d || bytes[i] === 0x2b)) i++;
  if (i === e || e - i > 20) return NaN;
  for (let k = i; k < e; k++) {
    const b = bytes[k]!;
    if (b < 0x30 || b > 0x39) return NaN;
  }
  return Number(decodeText(bytes, s, e));
}
