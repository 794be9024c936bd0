/**
 * The CoScale generic-script data format: the `-d` stdout of a script, read against its `-c` definitions,
 * both carried in one script frame (see `script_frame.ts`). Protocol: `src/inputs/scripts/README.md`.
 *
 * Lines, after trimming surrounding whitespace and a trailing `\r`:
 *
 * ```text
 * M<id> <value>                                   metric without dimensions
 * M<id> "<dimId>:<value>[,<dimId>:<value>…]" <value>   dimensions by id, split on the first ':'; spaces allowed
 * M<id> "" <value>                                empty dimension list
 * E<id> <start> <end> "<message>" "<attributes JSON, inner quotes unescaped>" [S|A]
 * ```
 *
 * Values are decimals: negative, leading zeros, exponents and long fractions are fine; empty,
 * non-numeric, NaN and infinite values reject that one line. Every non-blank line yields one sample or
 * event, or exactly one `sink.bad(reason)`; a bad line never affects its neighbours. Reasons:
 *
 * | reason | when |
 * |---|---|
 * | `stray_line` | a line that is neither `M<digits>` nor `E<digits>` (a progress message, a stack trace) |
 * | `unknown_id` | an `M`/`E` id the definitions lack, or a dimension id not defined on that metric |
 * | `no_value` | `M<id>` with nothing after it, or only a dimension block |
 * | `bad_value` | a value that is not a finite decimal, or text after the value |
 * | `bad_tags` | an unterminated dimension block, or a pair without `:` |
 * | `bad_event` | an `E` line that does not follow the grammar, or whose attributes are not a JSON object |
 * | `invalid_utf8` | a line that is not valid UTF-8 |
 *
 * A frame whose header is unreadable or carries no definitions counts as one `bad_frame` line.
 *
 * Naming (the mapping the `scripts` input documents):
 * - name: the display `name` in snake_case (`Incoming traffic on interface` → `incoming_traffic_on_interface`),
 *   then the unit as a suffix (`unitSuffix` in `coscale_naming.ts`: `ms` → `_milliseconds`, `b/s` → `_bytes_per_second`,
 *   `%` → `_percent`, `#` and `""` → none, anything else snake-cased with `/` read as `per`). Values are never
 *   rescaled. An empty name becomes `coscale_metric_<id>`. The ` - Custom` suffix of the CoScale UI is not added.
 * - labels: `script` (the frame's script label), `group` (the `groups` string as defined, when not empty),
 *   each dimension as a label named by its dimension name in snake_case (`Volume Group` → `volume_group`;
 *   a name that would clash with `script`, `group`, `coscale_id` or a configured label gets a `dimension_`
 *   prefix; an empty one is `dimension_<id>`), plus the configured labels of the script.
 * - identity: CoScale identifies a metric by (script, id), not by name. When two metrics of one script
 *   derive the same name (same display name and unit), each of them also gets `coscale_id="<id>"`.
 * - kind: `calctype: Difference` and `datatype: COUNTER` → `cumulative` (the script prints a running
 *   total; the aggregation turns consecutive values of each dimension tuple into deltas: current − previous,
 *   the first value only sets the baseline, and a decrease is a reset, so the delta is the new value);
 *   `datatype: COUNT` (a count per interval) with `Instant`/`Average` → `counter` (each value is added);
 *   everything else (DOUBLE, GAUGE, GUAGE, LONG with `Instant` or the legacy `Average`) → `gauge`.
 * - time: every sample is stamped with the run's start (`runMs`).
 *
 * Events: `E<id>` becomes a `TallyEvent` titled with the event's display name (`coscale_event_<id>` if
 * empty), the message as text, the start time resolved as CoScale does (`0` = the run start, `-N` = N s
 * before it, positive = unix seconds), the end resolved the same way (`endMs`, when it is after the start),
 * labels `script`, `scope` (`server` for `S` or no suffix, `application` for `A`) and one label
 * per attribute (numbers and strings as text, anything else as JSON; a name clashing with those gets an
 * `attribute_` prefix).
 *
 * @module
 */

import type { BadReason, Label, Labels, SampleKind, SampleSink } from "../model/sample.ts";
import { seriesKey } from "../model/series_key.ts";
import {
  COLON,
  COMMA,
  decodeText,
  DIGIT_0,
  hasKeySeparator,
  isBlank,
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
  snakeCase,
} from "./_text.ts";
import { coscaleKind, coscaleMetricName } from "./coscale_naming.ts";
import type { CoscaleDefinitions, CoscaleEvent } from "./coscale_definitions.ts";
import { openScriptFrame } from "./script_frame.ts";
import type { OpenedFrame, ScriptParseOptions } from "./script_frame.ts";

const UPPER_A = 0x41;
const UPPER_E = 0x45;
const UPPER_M = 0x4d;
const UPPER_S = 0x53;
const LOWER_A = 0x61;
const LOWER_S = 0x73;

/** A metric definition ready for lookups: its name, kind and labels derived once per frame. */
interface CompiledMetric {
  readonly id: number;
  readonly name: string;
  readonly kind: SampleKind;
  /** The labels every sample of the metric has, unsorted (appended to the dimension labels). */
  readonly fixed: readonly Label[];
  /** The sorted labels and key of a sample without dimensions. */
  readonly plainLabels: Labels;
  readonly plainKey: string;
  /** Dimension id → label name. */
  readonly dimensions: ReadonlyMap<number, string>;
}

/** An event definition ready for lookups. */
interface CompiledEvent {
  readonly title: string;
}

/** What a frame's definitions compile to. */
interface Compiled {
  readonly metrics: ReadonlyMap<number, CompiledMetric>;
  readonly events: ReadonlyMap<number, CompiledEvent>;
  /** Label names events use themselves, or the frame adds: attributes with these names are prefixed. */
  readonly eventReserved: ReadonlySet<string>;
  readonly frameLabels: readonly Label[];
  readonly runMs: number;
}

/** Why the last line failed, for `options.onBad`; only written on the failure path. */
let failure = "";

/**
 * Parses a CoScale script frame (header with definitions, then `-d` stdout) into samples and events.
 *
 * Never throws: a bad header, random bytes and malformed lines all become counted bad lines. Blank lines
 * are ignored and not counted.
 *
 * @param bytes A frame built by `encodeScriptFrame` with `definitions` set; not retained.
 * @param sink Receives samples, events and the reason of each rejected line.
 * @param options `onBad` receives each rejected line's number and a message (for `tally script check`).
 * @returns The number of non-blank stdout lines seen, good and bad (1 for an unreadable frame).
 * @example
 * ```ts
 * const frame = encodeScriptFrame({ script: "lvs", runMs: Date.now(), definitions }, stdout);
 * parseCoscaleScript(frame, sink); // M0 "1:vg0,2:thinpool" 107374182400 → one gauge sample
 * ```
 */
export function parseCoscaleScript(
  bytes: Uint8Array,
  sink: SampleSink,
  options?: ScriptParseOptions,
): number {
  const onBad = options?.onBad;
  const frame = openScriptFrame(bytes, sink, options, true);
  if (frame === undefined) return 1;
  const definitions = frame.header?.definitions;
  if (definitions === undefined) {
    sink.bad("bad_frame");
    onBad?.({ line: 0, reason: "bad_frame", message: "Frame header carries no CoScale definitions" });
    return 1;
  }
  const compiled = compile(definitions, frame);
  const body = frame.body;
  const line = lineCursor(body);
  let lines = 0;
  while (nextLine(body, line)) {
    const { s, e } = line;
    if (e === s) continue;
    lines++;
    let reason: BadReason | null;
    if (line.nonAscii && !isValidUtf8(body, s, e)) {
      reason = "invalid_utf8";
      failure = "Line is not valid UTF-8";
    } else {
      reason = parseLine(body, s, e, compiled, sink);
    }
    if (reason !== null) {
      sink.bad(reason);
      onBad?.({ line: line.number, reason, message: failure });
    }
  }
  return lines;
}

/** Dispatches one trimmed, non-empty, UTF-8-valid line. */
function parseLine(
  bytes: Uint8Array,
  s: number,
  e: number,
  compiled: Compiled,
  sink: SampleSink,
): BadReason | null {
  const first = bytes[s];
  if (first === UPPER_M || first === UPPER_E) {
    let p = s + 1;
    while (p < e && isDigit(bytes[p]!)) p++;
    // `M`/`E` followed by digits and then a blank or the end; "Mail server ready" is a stray line.
    if (p > s + 1 && p - s <= 10 && (p === e || isBlank(bytes[p]))) {
      const id = parseInteger(bytes, s + 1, p);
      return first === UPPER_M
        ? parseMetric(bytes, p, e, id, compiled, sink)
        : parseEvent(bytes, p, e, id, compiled, sink);
    }
  }
  failure = `Line is neither an M<id> nor an E<id> line: "${preview(bytes, s, e)}"`;
  return "stray_line";
}

/** Parses the rest of an `M<id>` line from `p` (just after the id). */
function parseMetric(
  bytes: Uint8Array,
  p: number,
  e: number,
  id: number,
  compiled: Compiled,
  sink: SampleSink,
): BadReason | null {
  const metric = compiled.metrics.get(id);
  if (metric === undefined) {
    failure = `Metric id ${id} is not defined (defined: ${idList(compiled.metrics)})`;
    return "unknown_id";
  }
  p = skipBlanks(bytes, p, e);
  let dimStart = -1;
  let dimEnd = -1;
  if (p < e && bytes[p] === QUOTE) {
    dimStart = p + 1;
    dimEnd = dimStart;
    while (dimEnd < e && bytes[dimEnd] !== QUOTE) dimEnd++;
    if (dimEnd >= e) {
      failure = "Dimension block has no closing quote";
      return "bad_tags";
    }
    p = skipBlanks(bytes, dimEnd + 1, e);
  }
  if (p >= e) {
    failure = `Metric ${id} has no value`;
    return "no_value";
  }
  const valueStart = p;
  while (p < e && !isBlank(bytes[p])) p++;
  const valueEnd = p;
  if (skipBlanks(bytes, p, e) < e) {
    failure = `Unexpected text after the value of metric ${id}: "${preview(bytes, valueStart, e)}"`;
    return "bad_value";
  }
  const value = parseDecimal(bytes, valueStart, valueEnd);
  if (value !== value) {
    failure = `Value "${
      preview(bytes, valueStart, valueEnd)
    }" of metric ${id} is not a finite decimal number`;
    return "bad_value";
  }

  if (dimStart < 0 || dimEnd === dimStart) {
    sink.sample(
      makeSample(metric.name, metric.plainLabels, metric.plainKey, metric.kind, value, compiled.runMs),
    );
    return null;
  }
  const labels: Label[] = [];
  let a = dimStart;
  while (a <= dimEnd) {
    let b = a;
    let colon = -1;
    while (b < dimEnd && bytes[b] !== COMMA) {
      if (bytes[b] === COLON && colon < 0) colon = b;
      b++;
    }
    // Empty pairs (`"1:a,"`, `", 1:a"`) are tolerated; a pair needs `<id>:`.
    let ps = a;
    while (ps < b && isBlank(bytes[ps])) ps++;
    if (ps < b) {
      if (colon < 0) {
        failure = `Dimension pair "${preview(bytes, ps, b)}" of metric ${id} has no ':'`;
        return "bad_tags";
      }
      let ie = colon;
      while (ie > ps && isBlank(bytes[ie - 1])) ie--;
      const dimId = parseInteger(bytes, ps, ie);
      const labelName = dimId === dimId ? metric.dimensions.get(dimId) : undefined;
      if (labelName === undefined) {
        failure = `Dimension id "${preview(bytes, ps, ie)}" is not defined on metric ${id} (defined: ${
          idList(metric.dimensions)
        })`;
        return "unknown_id";
      }
      labels.push([labelName, decodeText(bytes, colon + 1, b)]);
    }
    a = b + 1;
  }
  for (let k = 0; k < metric.fixed.length; k++) labels.push(metric.fixed[k]!);
  const sorted = normalizeLabels(labels);
  for (let k = 0; k < sorted.length; k++) {
    if (hasKeySeparator(sorted[k]![1])) {
      failure = `A dimension value of metric ${id} holds a control character`;
      return "bad_tags";
    }
  }
  sink.sample(makeSample(metric.name, sorted, undefined, metric.kind, value, compiled.runMs));
  return null;
}

/**
 * Parses the rest of an `E<id>` line from `p`: `<start> <end> "<message>" "<attributes>" [S|A]`.
 *
 * The message runs to the first `"` followed by blanks and a `"` that opens the attributes; the
 * attributes run to the last `"` of the line, so their inner quotes need no escaping (as CoScale scripts
 * print them). The attributes may be missing altogether (`E1 0 0 "msg"`).
 */
function parseEvent(
  bytes: Uint8Array,
  p: number,
  e: number,
  id: number,
  compiled: Compiled,
  sink: SampleSink,
): BadReason | null {
  const event = compiled.events.get(id);
  if (event === undefined) {
    failure = `Event id ${id} is not defined (defined: ${idList(compiled.events)})`;
    return "unknown_id";
  }
  p = skipBlanks(bytes, p, e);
  const startStart = p;
  while (p < e && !isBlank(bytes[p])) p++;
  const start = parseInteger(bytes, startStart, p);
  p = skipBlanks(bytes, p, e);
  const endStart = p;
  while (p < e && !isBlank(bytes[p])) p++;
  const end = parseInteger(bytes, endStart, p);
  if (start !== start || end !== end) {
    failure = `Event ${id} needs integer start and end times, found "${preview(bytes, startStart, p)}"`;
    return "bad_event";
  }
  p = skipBlanks(bytes, p, e);

  // The optional scope letter, then the closing quote of the last quoted field.
  let last = e;
  let scope = "server";
  const tail = bytes[last - 1];
  if (
    (tail === UPPER_S || tail === LOWER_S || tail === UPPER_A || tail === LOWER_A) && last - 2 >= p &&
    (isBlank(bytes[last - 2]) || bytes[last - 2] === QUOTE)
  ) {
    if (tail === UPPER_A || tail === LOWER_A) scope = "application";
    last--;
    while (last > p && isBlank(bytes[last - 1])) last--;
  }
  if (p >= last || bytes[p] !== QUOTE || last - p < 2 || bytes[last - 1] !== QUOTE) {
    failure = `Event ${id} needs a quoted message, optionally a quoted JSON object and S or A`;
    return "bad_event";
  }
  const close = last - 1;
  const messageStart = p + 1;
  // Find `"` blanks `"` where the second quote opens the attributes (`{` or an empty `""`).
  let messageEnd = close;
  let attributesStart = -1;
  for (let q = messageStart; q < close; q++) {
    if (bytes[q] !== QUOTE || !isBlank(bytes[q + 1])) continue;
    const open = skipBlanks(bytes, q + 1, close + 1);
    if (open <= close && bytes[open] === QUOTE) {
      const body = skipBlanks(bytes, open + 1, close);
      if (open === close || body === close || bytes[body] === LEFT_BRACE) {
        messageEnd = q;
        attributesStart = open === close ? close : open + 1;
        break;
      }
    }
  }
  const labels: Label[] = [["scope", scope]];
  if (attributesStart >= 0 && skipBlanks(bytes, attributesStart, close) < close) {
    let ae = close;
    while (ae > attributesStart && isBlank(bytes[ae - 1])) ae--;
    if (bytes[ae - 1] !== RIGHT_BRACE) {
      failure = `Attributes of event ${id} are not a JSON object`;
      return "bad_event";
    }
    const attributes = parseJsonObject(decodeText(bytes, attributesStart, ae));
    if (attributes === undefined) {
      failure = `Attributes of event ${id} are not a JSON object: "${preview(bytes, attributesStart, ae)}"`;
      return "bad_event";
    }
    for (const name of Object.keys(attributes)) {
      const value = attributes[name];
      const text = typeof value === "string"
        ? value
        : typeof value === "number" || typeof value === "boolean"
        ? String(value)
        : value === null
        ? ""
        : JSON.stringify(value);
      labels.push([compiled.eventReserved.has(name) ? `attribute_${name}` : name, text]);
    }
  }
  const startMs = resolveTime(start, compiled.runMs);
  const endMs = resolveTime(end, compiled.runMs);
  for (let k = 0; k < compiled.frameLabels.length; k++) labels.push(compiled.frameLabels[k]!);
  const sorted = normalizeLabels(labels);
  for (let k = 0; k < sorted.length; k++) {
    const label = sorted[k]!;
    if (hasKeySeparator(label[0]) || hasKeySeparator(label[1])) {
      failure = `An attribute of event ${id} holds a control character`;
      return "bad_event";
    }
  }
  sink.event({
    kind: "event",
    title: event.title,
    text: decodeText(bytes, messageStart, messageEnd),
    timeMs: startMs,
    // An end before the start (a script's typo) leaves an instant event rather than a negative span.
    ...(endMs > startMs ? { endMs } : {}),
    labels: sorted,
    status: -1,
  });
  return null;
}

/** Resolves a CoScale time: 0 = the run start, negative = seconds before it, positive = unix seconds. */
function resolveTime(seconds: number, runMs: number): number {
  if (seconds > 0) return seconds * 1000;
  return runMs === 0 ? 0 : runMs + seconds * 1000;
}

/**
 * Parses a JSON object, or returns undefined. Runs only for event lines (rare, never the hot path), and
 * `JSON.parse` has no non-throwing form.
 */
function parseJsonObject(text: string): Readonly<Record<string, unknown>> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Compiles a frame's definitions: names, kinds, label names and reserved names, once per frame. */
function compile(definitions: CoscaleDefinitions, frame: OpenedFrame): Compiled {
  const frameLabels = frame.labels;
  const reserved = new Set<string>(["script", "group", "coscale_id"]);
  for (const [name] of frameLabels) reserved.add(name);

  const names = new Map<number, string>();
  const seen = new Map<string, number>();
  for (const metric of definitions.metrics) {
    const name = coscaleMetricName(metric);
    names.set(metric.id, name);
    seen.set(name, (seen.get(name) ?? 0) + 1);
  }
  const metrics = new Map<number, CompiledMetric>();
  for (const metric of definitions.metrics) {
    const name = names.get(metric.id)!;
    const fixed: Label[] = [];
    if (metric.groups.length > 0) fixed.push(["group", metric.groups.join(",")]);
    if (seen.get(name)! > 1) fixed.push(["coscale_id", String(metric.id)]);
    for (const label of frameLabels) fixed.push(label);
    const dimensions = new Map<number, string>();
    const used = new Set<string>();
    for (const dimension of metric.dimensions) {
      let label = snakeCase(dimension.name);
      if (label === "") label = `dimension_${dimension.id}`;
      else if (reserved.has(label)) label = `dimension_${label}`;
      if (used.has(label)) label = `${label}_${dimension.id}`;
      used.add(label);
      dimensions.set(dimension.id, label);
    }
    const plainLabels = normalizeLabels(fixed.slice());
    metrics.set(metric.id, {
      id: metric.id,
      name,
      kind: coscaleKind(metric),
      fixed,
      plainLabels,
      plainKey: seriesKey(name, plainLabels),
      dimensions,
    });
  }
  const events = new Map<number, CompiledEvent>();
  for (const event of definitions.events) events.set(event.id, { title: eventTitle(event) });
  const eventReserved = new Set<string>(["scope"]);
  for (const [name] of frameLabels) eventReserved.add(name);
  return { metrics, events, eventReserved, frameLabels, runMs: frame.timeMs };
}

/** The title of an event definition. */
function eventTitle(event: CoscaleEvent): string {
  return event.name.trim() === "" ? `coscale_event_${event.id}` : event.name;
}

function isDigit(b: number): boolean {
  return b >= DIGIT_0 && b <= DIGIT_0 + 9;
}

function skipBlanks(bytes: Uint8Array, p: number, e: number): number {
  while (p < e && isBlank(bytes[p])) p++;
  return p;
}

/** The ids of a map as a short list for messages. */
function idList(map: ReadonlyMap<number, unknown>): string {
  if (map.size === 0) return "none";
  const ids = [...map.keys()].sort((a, b) => a - b);
  return ids.length > 12 ? `${ids.slice(0, 12).join(", ")}, …` : ids.join(", ");
}

/** A slice as text for a message, shortened. */
function preview(bytes: Uint8Array, s: number, e: number): string {
  const text = decodeText(bytes, s, Math.min(e, s + 60));
  return e - s > 60 ? `${text}…` : text;
}
