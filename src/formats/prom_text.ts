/**
 * The Prometheus text exposition format 0.0.4: what `/metrics` endpoints, client libraries, the
 * node_exporter textfile collector and many scripts print. General on purpose: the HTTP input reuses it.
 *
 * Spec: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format. Also read:
 * the quoted UTF-8 names of Prometheus 3 (`{"my.metric","my.label"="v"} 1`), and OpenMetrics-style
 * counters declared without `_total` (`# TYPE x counter` then `x_total 1`).
 *
 * Kinds, from the family's `# TYPE` (given before its samples, as the spec requires):
 * - `counter` → `cumulative` (the value is the running total; tally derives per-window deltas, with a
 *   decrease read as a reset, and Prometheus output shows the total again);
 * - `gauge`, `untyped`, no TYPE, and anything else → `gauge`;
 * - `histogram`: `<name>_bucket` (with its `le` label), `<name>_sum` and `<name>_count` → `cumulative`
 *   each, as the separate series they are on the wire;
 * - `summary`: `<name>{quantile="…"}` → `gauge`, `<name>_sum` and `<name>_count` → `cumulative`.
 * Names are kept as printed (the Prometheus output appends `_total` to cumulative names that lack it,
 * so a histogram's `x_bucket` is re-exposed as `x_bucket_total`).
 *
 * Values are Go floats; `NaN` and `±Inf` are skipped without being counted as bad (client libraries
 * print `NaN` for empty summaries, and tally has no stale marker). A timestamp (integer ms) becomes the
 * sample time; without one the time is the frame's run start (script frames) or 0, "arrival time".
 * A label with an empty value is dropped, as Prometheus treats it as absent. Escapes `\\`, `\"`, `\n` are
 * read in label values.
 *
 * Script frames: when the bytes start with a script frame header (`{"script":`, see `script_frame.ts`), its
 * labels (`script` and the configured ones) are added to every sample, overriding printed labels of the
 * same name, and its run start is the default time. Without a header the bytes are plain exposition text.
 *
 * Bad lines (one `sink.bad` each, neighbours kept): `stray_line` (a line that is no sample: it does not start
 * with a metric name, or the name runs into a character no name or label set has), `empty_name` (a label
 * set naming no metric, or a name with a control character), `bad_tags` (malformed label set), `no_value`,
 * `bad_value`, `bad_timestamp`, `invalid_utf8`, and `bad_frame` for one frame whose header is present but
 * invalid. Comments, HELP/TYPE lines and blank lines are not counted.
 *
 * @module
 */

import type { BadReason, Label, SampleKind, SampleSink } from "../model/sample.ts";
import {
  BACKSLASH,
  COMMA,
  decodeText,
  EQUALS,
  HASH,
  hasKeySeparator,
  isBlank,
  isNonFiniteLiteral,
  isValidUtf8,
  LEFT_BRACE,
  lineCursor,
  makeSample,
  nextLine,
  normalizeLabels,
  parseDecimal,
  parseInteger,
  QUOTE,
  RIGHT_BRACE,
} from "./_text.ts";
import { openScriptFrame } from "./script_frame.ts";
import type { ScriptParseOptions } from "./script_frame.ts";

const LOWER_N = 0x6e;

/** A family type as declared by `# TYPE`. */
type FamilyType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

/** What one parse call carries from line to line. */
interface State {
  readonly types: Map<string, FamilyType>;
  readonly frameLabels: readonly Label[];
  readonly defaultTimeMs: number;
}

/** Why the last line failed, for `options.onBad`. */
let failure = "";
/** The decoded text of the last quoted token (`readQuoted`). */
let quoted = "";

/**
 * Parses Prometheus text exposition (optionally inside a script frame) into samples.
 *
 * Never throws on any input.
 *
 * @param bytes Exposition text, or a script frame whose body is exposition text; not retained.
 * @param sink Receives each sample and the reason of each rejected line.
 * @param options `onBad` receives each rejected line's number and a message.
 * @returns The sample lines seen, good and bad (comments and blank lines excluded).
 * @example
 * ```ts
 * parsePromText(new TextEncoder().encode('# TYPE hits counter\nhits{path="/"} 12 1700000000000\n'), sink);
 * // one cumulative sample: hits{path="/"} = 12 at 1700000000000
 * ```
 */
export function parsePromText(bytes: Uint8Array, sink: SampleSink, options?: ScriptParseOptions): number {
  const frame = openScriptFrame(bytes, sink, options, false);
  if (frame === undefined) return 1;
  const state: State = { types: new Map(), frameLabels: frame.labels, defaultTimeMs: frame.timeMs };
  const onBad = options?.onBad;
  const body = frame.body;
  const line = lineCursor(body);
  let lines = 0;
  while (nextLine(body, line)) {
    const { s, e } = line;
    if (e === s) continue;
    if (line.nonAscii && !isValidUtf8(body, s, e)) {
      lines++;
      sink.bad("invalid_utf8");
      onBad?.({ line: line.number, reason: "invalid_utf8", message: "Line is not valid UTF-8" });
      continue;
    }
    if (body[s] === HASH) {
      readComment(body, s + 1, e, state);
      continue;
    }
    lines++;
    const reason = parseSample(body, s, e, state, sink);
    if (reason !== null) {
      sink.bad(reason);
      onBad?.({ line: line.number, reason, message: failure });
    }
  }
  return lines;
}

/** Records `# TYPE name type`; HELP lines and other comments carry nothing tally keeps. */
function readComment(bytes: Uint8Array, p: number, e: number, state: State): void {
  while (p < e && isBlank(bytes[p])) p++;
  if (e - p < 5 || decodeText(bytes, p, p + 5) !== "TYPE ") return;
  p += 5;
  while (p < e && isBlank(bytes[p])) p++;
  let name: string;
  if (bytes[p] === QUOTE) {
    p = readQuoted(bytes, p, e);
    if (p < 0) return;
    name = quoted;
  } else {
    const ns = p;
    while (p < e && !isBlank(bytes[p])) p++;
    name = decodeText(bytes, ns, p);
  }
  while (p < e && isBlank(bytes[p])) p++;
  const type = decodeText(bytes, p, e);
  state.types.set(
    name,
    type === "counter" || type === "gauge" || type === "histogram" || type === "summary" ? type : "untyped",
  );
}

/** Parses one sample line [s, e) (trimmed, not a comment). */
function parseSample(
  bytes: Uint8Array,
  s: number,
  e: number,
  state: State,
  sink: SampleSink,
): BadReason | null {
  let p = s;
  let name = "";
  while (p < e && isNameByte(bytes[p]!, p === s)) p++;
  if (p > s) name = decodeText(bytes, s, p);
  else if (bytes[p] !== LEFT_BRACE) {
    failure = "Line does not start with a metric name";
    return "stray_line";
  }
  const labels: Label[] = [];
  if (p < e && bytes[p] === LEFT_BRACE) {
    p = parseLabels(bytes, p + 1, e, labels, name === "");
    if (p < 0) return "bad_tags";
    if (name === "") {
      name = braceName;
      if (name === "") {
        failure = "Label set names no metric";
        return "empty_name";
      }
    }
  } else if (p < e && !isBlank(bytes[p])) {
    failure = `Unexpected character after the metric name "${name}"`;
    return "stray_line";
  }
  while (p < e && isBlank(bytes[p])) p++;
  if (p >= e) {
    failure = `Sample "${name}" has no value`;
    return "no_value";
  }
  const vs = p;
  while (p < e && !isBlank(bytes[p])) p++;
  const ve = p;
  while (p < e && isBlank(bytes[p])) p++;
  let timeMs = state.defaultTimeMs;
  if (p < e) {
    const ts = p;
    while (p < e && !isBlank(bytes[p])) p++;
    const t = parseInteger(bytes, ts, p);
    if (t !== t || p < e) {
      failure = `Sample "${name}" has an invalid timestamp "${decodeText(bytes, ts, e)}"`;
      return "bad_timestamp";
    }
    timeMs = t;
  }
  const value = parseDecimal(bytes, vs, ve);
  if (value !== value) {
    if (isNonFiniteLiteral(bytes, vs, ve)) return null;
    failure = `Sample "${name}" has an invalid value "${decodeText(bytes, vs, ve)}"`;
    return "bad_value";
  }
  if (hasKeySeparator(name)) {
    failure = "Metric name holds a control character";
    return "empty_name";
  }
  for (let k = 0; k < state.frameLabels.length; k++) labels.push(state.frameLabels[k]!);
  sink.sample(makeSample(name, normalizeLabels(labels), undefined, kindOf(name, state.types), value, timeMs));
  return null;
}

/** The metric name found inside the braces (`{"name", …}`), set by `parseLabels`. */
let braceName = "";

/**
 * Parses `name="value",…}` from `p` (just after `{`) into `out`.
 *
 * @returns The index just after `}`, or -1 (with `failure` set) on a syntax error.
 */
function parseLabels(bytes: Uint8Array, p: number, e: number, out: Label[], nameAllowed: boolean): number {
  braceName = "";
  for (;;) {
    while (p < e && isBlank(bytes[p])) p++;
    if (p >= e) {
      failure = "Label set has no closing brace";
      return -1;
    }
    if (bytes[p] === RIGHT_BRACE) return p + 1;
    let labelName: string;
    if (bytes[p] === QUOTE) {
      p = readQuoted(bytes, p, e);
      if (p < 0) {
        failure = "Quoted name has no closing quote";
        return -1;
      }
      labelName = quoted;
      while (p < e && isBlank(bytes[p])) p++;
      if (bytes[p] !== EQUALS) {
        // A quoted string without `=` is the metric name (Prometheus 3 UTF-8 names), first and once.
        if (!nameAllowed || braceName !== "" || out.length > 0) {
          failure = `Quoted label name "${labelName}" has no value`;
          return -1;
        }
        braceName = labelName;
        if (bytes[p] === COMMA) p++;
        continue;
      }
    } else {
      const ns = p;
      while (p < e && isNameByte(bytes[p]!, p === ns) && bytes[p] !== 0x3a) p++;
      if (p === ns) {
        failure = "Label name is missing or invalid";
        return -1;
      }
      labelName = decodeText(bytes, ns, p);
      while (p < e && isBlank(bytes[p])) p++;
      if (bytes[p] !== EQUALS) {
        failure = `Label "${labelName}" has no '='`;
        return -1;
      }
    }
    p++;
    while (p < e && isBlank(bytes[p])) p++;
    if (bytes[p] !== QUOTE) {
      failure = `Label "${labelName}" has an unquoted value`;
      return -1;
    }
    p = readQuoted(bytes, p, e);
    if (p < 0) {
      failure = `Label "${labelName}" has no closing quote`;
      return -1;
    }
    if (hasKeySeparator(labelName) || hasKeySeparator(quoted)) {
      failure = `Label "${labelName}" holds a control character`;
      return -1;
    }
    if (quoted !== "") out.push([labelName, quoted]);
    while (p < e && isBlank(bytes[p])) p++;
    if (bytes[p] === COMMA) p++;
    else if (bytes[p] !== RIGHT_BRACE) {
      failure = `Expected ',' or '}' after label "${labelName}"`;
      return -1;
    }
  }
}

/**
 * Reads a double-quoted string starting at `p` (the opening quote), unescaping `\\`, `\"` and `\n`
 * (any other escape is kept as written). Sets {@link quoted}.
 *
 * @returns The index after the closing quote, or -1 when there is none.
 */
function readQuoted(bytes: Uint8Array, p: number, e: number): number {
  let q = p + 1;
  let escaped = false;
  while (q < e && bytes[q] !== QUOTE) {
    if (bytes[q] === BACKSLASH) {
      escaped = true;
      q++;
    }
    q++;
  }
  if (q >= e) return -1;
  if (!escaped) {
    quoted = decodeText(bytes, p + 1, q);
    return q + 1;
  }
  let text = "";
  let from = p + 1;
  for (let r = p + 1; r < q; r++) {
    if (bytes[r] !== BACKSLASH) continue;
    text += decodeText(bytes, from, r);
    const next = bytes[r + 1];
    text += next === LOWER_N
      ? "\n"
      : next === BACKSLASH
      ? "\\"
      : next === QUOTE
      ? '"'
      : "\\" + decodeText(bytes, r + 1, r + 2);
    r++;
    from = r + 1;
  }
  quoted = text + decodeText(bytes, from, q);
  return q + 1;
}

/** Whether a byte may appear in a metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`). */
function isNameByte(b: number, first: boolean): boolean {
  return (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || b === 0x5f || b === 0x3a ||
    (!first && b >= 0x30 && b <= 0x39);
}

/** The kind of a sample name given the declared family types. */
function kindOf(name: string, types: ReadonlyMap<string, FamilyType>): SampleKind {
  const own = types.get(name);
  if (own !== undefined) return own === "counter" ? "cumulative" : "gauge";
  const family = suffixFamily(name, types);
  if (family === "histogram") return "cumulative";
  if (family === "summary" && !name.endsWith("_bucket")) return "cumulative";
  if (family === "counter" && name.endsWith("_total")) return "cumulative";
  return "gauge";
}

const SUFFIXES = ["_bucket", "_sum", "_count", "_total"] as const;

/** The declared type of the family a suffixed sample name belongs to, if any. */
function suffixFamily(name: string, types: ReadonlyMap<string, FamilyType>): FamilyType | undefined {
  if (types.size === 0) return undefined;
  for (const suffix of SUFFIXES) {
    if (name.endsWith(suffix)) return types.get(name.slice(0, -suffix.length));
  }
  return undefined;
}
