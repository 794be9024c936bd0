/**
 * tally's native push body: the JSON `POST /api/v1/push` takes (and `tally push --format json` sends).
 *
 * ```json
 * {"metrics":[{"name":"deploys","type":"counter","value":1,"labels":{"env":"prod"},"timestamp":1764748800000}]}
 * ```
 *
 * - `name`: the metric name as sent (no control characters).
 * - `type`: `counter`, `gauge`, `timer`, `histogram`, `distribution`, `set` or `cumulative`: the
 *   {@link SampleKind} of the same name, aggregated as the StatsD sample of that type is; `cumulative` is a
 *   running total as its source counts it (collectd's COUNTER, CoScale's COUNTER data type), turned into
 *   window deltas with a restart from 0 when it decreases.
 * - `value`: a finite number; for a `set`, the member, a string or a number (counted as its text).
 * - `labels`: optional, string values.
 * - `timestamp`: optional, Unix **milliseconds**; absent means arrival time (the window the body arrived
 *   in). A number below 1e11 is refused: it is a time in seconds, which would land in 1973.
 *
 * The HTTP route validates the body with {@link PUSH_BODY_SCHEMA} before it acknowledges it (a 400 names
 * every bad field), so in the worker a bad metric only shows up in bodies that skipped the route (a
 * replayed inbox row written by an older tally). The worker checks each metric again with
 * {@link PUSH_METRIC_SCHEMA} all the same, because a frame is only bytes: each bad metric is counted
 * (`empty_name`, `unknown_type`, `bad_value`, `bad_tags` or `bad_timestamp`, from its first problem) and
 * skipped, its neighbours kept; a body that is not a JSON object with a `metrics` array is one `bad_value`.
 *
 * @module
 */

import * as v from "valibot";
import type { BadReason, Label, Sample, SampleSink } from "../model/sample.ts";
import { bodyIssues } from "../internal/body_issues.ts";
import { seriesKey } from "../model/series_key.ts";
import { hasKeySeparator, makeSample, normalizeLabels } from "./_text.ts";
import type { ScriptParseOptions } from "./script_frame.ts";

/** The smallest timestamp taken as milliseconds: 1e11 ms is March 1973, 1e11 s the year 5138. */
export const MIN_TIMESTAMP_MS = 1e11;
/** The largest timestamp accepted: 1e14 ms is the year 5138. */
export const MAX_TIMESTAMP_MS = 1e14;

const MAX_NAME_LENGTH = 1024;

const NAME = v.pipe(
  v.string("a metric name"),
  v.check(isName, "a non-empty metric name without control characters"),
  v.maxLength(MAX_NAME_LENGTH, `a metric name of at most ${MAX_NAME_LENGTH} characters`),
);

/** The `labels` of a metric (or of a pushed event): an object of string values. */
export const PUSH_LABELS_SCHEMA = v.record(
  v.pipe(
    v.string(),
    v.check(isName, "a non-empty label name without control characters"),
    v.maxLength(MAX_NAME_LENGTH, `a label name of at most ${MAX_NAME_LENGTH} characters`),
  ),
  v.pipe(
    v.string("a string label value"),
    v.check(
      (text: string) => !hasKeySeparator(text),
      "a label value without the characters U+0000 to U+0002",
    ),
  ),
  'an object of string labels like {"env": "prod"}',
);

/** A time in Unix milliseconds, refusing seconds. */
export const TIMESTAMP_MS_SCHEMA = v.pipe(
  v.number("Unix milliseconds"),
  v.integer("Unix milliseconds (an integer)"),
  v.minValue(MIN_TIMESTAMP_MS, `Unix milliseconds (at least ${MIN_TIMESTAMP_MS}; seconds are too small)`),
  v.maxValue(MAX_TIMESTAMP_MS, `Unix milliseconds (at most ${MAX_TIMESTAMP_MS})`),
);

const FINITE = v.pipe(v.number("a finite number"), v.finite("a finite number"));

/** The metric types: the StatsD kinds of the same name. */
export const PUSH_TYPES = [
  "counter",
  "gauge",
  "timer",
  "histogram",
  "distribution",
  "set",
  "cumulative",
] as const;

/**
 * One metric of a push body. Not a variant on `type`: a variant stops at a bad `type`, and a 400 should
 * name every bad field at once. Whether `value` suits the type is checked once the rest is valid.
 */
export const PUSH_METRIC_SCHEMA = v.pipe(
  v.strictObject({
    name: NAME,
    type: v.picklist(
      PUSH_TYPES,
      'one of "counter", "gauge", "timer", "histogram", "distribution", "set" or "cumulative"',
    ),
    value: v.union([FINITE, v.string()], "a finite number (or, for a set, a string member)"),
    labels: v.optional(PUSH_LABELS_SCHEMA),
    timestamp: v.optional(TIMESTAMP_MS_SCHEMA),
  }, "a metric object"),
  v.forward(
    v.check((metric) => metric.type === "set" || typeof metric.value === "number", "a finite number"),
    ["value"],
  ),
);

/** The whole push body. */
export const PUSH_BODY_SCHEMA = v.strictObject({
  metrics: v.array(PUSH_METRIC_SCHEMA, "an array of metrics"),
}, 'an object like {"metrics": [...]}');

/** One validated metric of a push body. */
export type PushMetric = v.InferOutput<typeof PUSH_METRIC_SCHEMA>;

const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: false });

/**
 * Parses a push body into samples, one per valid metric.
 *
 * Never throws on any input.
 *
 * @param bytes The JSON body (UTF-8); not retained.
 * @param sink Receives each sample and the reason of each rejected metric.
 * @param options `onBad` receives each rejected metric's 1-based position (0 for the body) and a message.
 * @returns The metrics seen, good and bad (1 for each body that is not a push body at all).
 * @example
 * ```ts
 * parseJson(new TextEncoder().encode('{"metrics":[{"name":"deploys","type":"counter","value":1}]}'), sink);
 * // one counter sample: deploys += 1 at arrival time
 * ```
 */
export function parseJson(bytes: Uint8Array, sink: SampleSink, options?: ScriptParseOptions): number {
  const text = decoder.decode(bytes);
  const newline = text.indexOf("\n");
  if (newline >= 0 && text.trim().indexOf("\n") >= 0) {
    // Several one-line bodies joined by the inbox, or one body printed over several lines: the first line
    // alone is a whole JSON document only in the first case.
    const first = parseDocument(text.slice(0, newline));
    if (first !== undefined) {
      let seen = 0;
      let start = 0;
      for (let line = 1; start < text.length; line++) {
        let end = text.indexOf("\n", start);
        if (end < 0) end = text.length;
        const part = line === 1
          ? first
          : text.slice(start, end).trim() === ""
          ? null
          : parseDocument(text.slice(start, end));
        start = end + 1;
        if (part === null) continue;
        seen += readBody(part, sink, options, seen, `Body on line ${line}`);
      }
      return seen;
    }
  }
  const body = parseDocument(text);
  return readBody(body, sink, options, 0, "Body");
}

/** A parsed JSON document, or `undefined` when the text is not JSON (once per body: no hot loop). */
function parseDocument(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Hands the metrics of one push body to the sink.
 *
 * @returns The metrics seen, 1 for a body that is not a push body.
 */
function readBody(
  body: unknown,
  sink: SampleSink,
  options: ScriptParseOptions | undefined,
  before: number,
  what: string,
): number {
  const metrics = typeof body === "object" && body !== null
    ? (body as { metrics?: unknown }).metrics
    : undefined;
  if (!Array.isArray(metrics)) {
    sink.bad("bad_value");
    const message = body === undefined
      ? `${what} is not JSON`
      : `${what} is not an object with a "metrics" array`;
    options?.onBad?.({ line: before + 1, reason: "bad_value", message });
    return 1;
  }
  for (let i = 0; i < metrics.length; i++) {
    const parsed = v.safeParse(PUSH_METRIC_SCHEMA, metrics[i]);
    if (parsed.success) {
      sink.sample(pushSample(parsed.output));
      continue;
    }
    const reason = reasonOf(parsed.issues[0]);
    sink.bad(reason);
    if (options?.onBad !== undefined) {
      const issue = bodyIssues(parsed.issues, PUSH_METRIC_SCHEMA)[0];
      const where = issue === undefined || issue.path === "" ? "" : `${issue.path}: `;
      options.onBad({
        line: before + i + 1,
        reason,
        message: `Metric ${before + i}: ${where}${issue?.message ?? "invalid"}`,
      });
    }
  }
  return metrics.length;
}

/**
 * The sample one validated metric becomes.
 *
 * @param metric The metric, validated with {@link PUSH_METRIC_SCHEMA}.
 * @returns The sample.
 */
export function pushSample(metric: PushMetric): Sample {
  const list: Label[] = [];
  if (metric.labels !== undefined) {
    for (const name of Object.keys(metric.labels)) list.push([name, metric.labels[name]!]);
  }
  const labels = normalizeLabels(list);
  const timeMs = metric.timestamp ?? 0;
  if (metric.type !== "set") {
    // The schema's check made sure: only a set's value may be a string.
    return makeSample(metric.name, labels, undefined, metric.type, metric.value as number, timeMs);
  }
  // The same property order as makeSample, so set samples share the hidden class.
  return {
    name: metric.name,
    labels,
    key: seriesKey(metric.name, labels),
    kind: "set",
    value: 0,
    member: String(metric.value),
    rate: 1,
    gaugeDelta: false,
    timeMs,
  };
}

/**
 * Whether a name is non-empty and free of control characters (names end up in series keys, exposition
 * text and terminals).
 *
 * @param text The name.
 * @returns True when it has at least one character and none below U+0020 nor U+007F.
 */
export function isName(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return false;
  }
  return true;
}

/** The counted reason for a metric's first problem, by the field it is about. */
function reasonOf(issue: v.BaseIssue<unknown> | undefined): BadReason {
  switch (issue?.path?.[0]?.key) {
    case "name":
      return "empty_name";
    case "type":
      return "unknown_type";
    case "labels":
      return "bad_tags";
    case "timestamp":
      return "bad_timestamp";
    default:
      return "bad_value";
  }
}
