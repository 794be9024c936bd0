/**
 * The data-insert payload of `POST data/` (coscale.md §3.3) turned into tally's native push metrics (the
 * `json` format's `{"metrics":[…]}`), given what the metric and subject ids stand for. Pure: the route looks
 * the ids up, this module decides what each point becomes.
 *
 * ```json
 * [{"m":675,"s":"A","d":[[1495108650,1.23],[0,1.1],[-60,4.2]]},
 *  {"m":12,"s":"s34","d":[[-60,[100,10,[1,2,3,4,5,6,7,8,9,10,11,12,13]]]],"dv":{"Queue":"q1"}}]
 * ```
 *
 * - `m` names a metric defined with `POST metrics/`: its name is the metric name; its data type the kind of a
 *   number: `DOUBLE`, `LONG` and `BINARY` a gauge, `COUNT` a counter (each value an increment), `COUNTER` a
 *   cumulative total (turned into per-window increases), `HISTOGRAM` a gauge when a plain number comes.
 * - An `m` that names no metric is kept, not dropped: as `coscale_metric_<m>`, a gauge, counted and named in
 *   the answer, so that a client pointed at tally with the ids of its old CoScale app loses nothing.
 * - A histogram `[samples, percentileWidth, [values…]]` becomes a summary of the client's own percentiles:
 *   one gauge per value with a `percentile` label (`"0"`, `"10"`, … `"100"`), and a counter `<name>.count`
 *   adding up the samples. The values sit at 0, width, 2·width … 100 when there are 100/width + 1 of them;
 *   the statsd backend's 13 values at width 10 are 0, 10, … 90, 95, 99 and 100; any other list is spread
 *   evenly from 0 to 100 (a lone value is the 100th, the maximum). With 0 samples only the count is kept (the
 *   values mean nothing).
 * - `s` becomes the label `subject`: `application` for `a`, the server's (or server group's) name for
 *   `s<id>` (`g<id>`), or the id as written, lower case, when there is none of that id.
 * - `dv` (dimension values, keyed by dimension name) become labels of those names; `subject` and
 *   `percentile` are tally's own, so a dimension of either name is refused.
 * - Times by CoScale's rule: 0 now (the arrival window), a negative number that many seconds ago, a positive
 *   one Unix seconds.
 *
 * @module
 */

import * as v from "valibot";
import { MAX_TIMESTAMP_MS, MIN_TIMESTAMP_MS, PUSH_LABELS_SCHEMA } from "../../formats/json.ts";
import type { PUSH_TYPES } from "../../formats/json.ts";
import type { BodyIssue } from "../../internal/body_issues.ts";
import { SUBJECT_SCHEMA } from "./_fields.ts";
import type { DataType } from "./_objects.ts";

const FINITE = v.pipe(v.number("a finite number"), v.finite("a finite number"));
const TIME = v.pipe(
  v.number("whole seconds: 0 now, < 0 seconds ago, > 0 Unix time"),
  v.safeInteger("whole seconds: 0 now, < 0 seconds ago, > 0 Unix time"),
);
const HISTOGRAM = v.strictTuple([
  v.pipe(v.number("a sample count"), v.safeInteger("a sample count"), v.minValue(0, "a sample count")),
  v.pipe(FINITE, v.gtValue(0, "a percentile width above 0")),
  v.pipe(
    v.array(FINITE, "a list of percentile values"),
    v.minLength(1, "at least one percentile value"),
    v.maxLength(1001, "at most 1001 percentile values"),
  ),
], "a histogram [samples, percentileWidth, [values…]]");
const POINT = v.strictTuple([
  TIME,
  v.union([FINITE, HISTOGRAM], "a number or a histogram [samples, percentileWidth, [values…]]"),
], "a point [time, value]");
const ENTRY = v.object({
  m: v.pipe(v.number("a metric id"), v.safeInteger("a metric id"), v.minValue(1, "a metric id")),
  s: SUBJECT_SCHEMA,
  d: v.array(POINT, "a list of points [[time, value], …]"),
  dv: v.optional(PUSH_LABELS_SCHEMA),
}, "an object {m, s, d}");

/** The payload's schema: a JSON array of entries. */
export const PAYLOAD_SCHEMA = v.array(ENTRY, 'a JSON array like [{"m":1,"s":"a","d":[[0,1.5]]}]');

/** One validated entry of a payload. */
export type PayloadEntry = v.InferOutput<typeof ENTRY>;

/** What the ids of a payload stand for. */
export interface PayloadLookup {
  /** The metric of an id, or `undefined` when no metric has it. */
  metric(id: number): { readonly name: string; readonly dataType: DataType } | undefined;
  /** The name of a server (`s`) or server group (`g`) of an id, or `undefined` when there is none. */
  subjectName(kind: "s" | "g", id: number): string | undefined;
}

/** One metric of a native push body. */
export interface PushedMetric {
  /** The metric name. */
  readonly name: string;
  /** The push type. */
  readonly type: (typeof PUSH_TYPES)[number];
  /** The value. */
  readonly value: number;
  /** The labels. */
  readonly labels: Readonly<Record<string, string>>;
  /** Unix ms; absent for "now" (the arrival window). */
  readonly timestamp?: number;
}

/** What a payload became. */
export interface PayloadMetrics {
  /** The push metrics, in payload order. */
  readonly metrics: readonly PushedMetric[];
  /** How many points the payload had. */
  readonly points: number;
  /** The metric ids no metric has, with how many points each had. */
  readonly undefinedIds: ReadonlyMap<number, number>;
  /** What is wrong beyond the schema (a time out of range, a reserved dimension name); nothing kept then. */
  readonly issues: readonly BodyIssue[];
}

/** The labels tally sets itself. */
const RESERVED_LABELS = ["subject", "percentile"];

/**
 * Turns a validated payload into push metrics.
 *
 * @param entries The payload's entries.
 * @param lookup What the metric and subject ids stand for.
 * @param receivedMs The arrival time, for times relative to now.
 * @returns The metrics, the point count, the undefined ids and the issues (paths under `data`).
 */
export function payloadMetrics(
  entries: readonly PayloadEntry[],
  lookup: PayloadLookup,
  receivedMs: number,
): PayloadMetrics {
  const metrics: PushedMetric[] = [];
  const undefinedIds = new Map<number, number>();
  const issues: BodyIssue[] = [];
  let points = 0;
  entries.forEach((entry, i) => {
    const dimensions = entry.dv ?? {};
    for (const reserved of RESERVED_LABELS) {
      if (Object.hasOwn(dimensions, reserved)) {
        issues.push({
          path: `data[${i}].dv.${reserved}`,
          message:
            `expected a dimension name other than "${reserved}" (tally's own label), found "${reserved}"`,
        });
      }
    }
    const defined = lookup.metric(entry.m);
    if (defined === undefined) undefinedIds.set(entry.m, (undefinedIds.get(entry.m) ?? 0) + entry.d.length);
    const name = defined?.name ?? `coscale_metric_${entry.m}`;
    const type = numberType(defined?.dataType ?? "DOUBLE");
    const labels = { ...dimensions, subject: subjectLabel(entry.s, lookup) };
    entry.d.forEach(([time, value], j) => {
      points++;
      const timestamp = timeMs(time, receivedMs);
      if (timestamp === undefined) {
        issues.push({
          path: `data[${i}].d[${j}][0]`,
          message:
            `expected a time between 1973 and 5138 (0 now, < 0 seconds ago, > 0 Unix seconds), found ${time}`,
        });
        return;
      }
      const at = timestamp === 0 ? {} : { timestamp };
      if (typeof value === "number") {
        metrics.push({ name, type, value, labels, ...at });
        return;
      }
      const [samples, width, values] = value;
      if (samples > 0) {
        const positions = percentilePositions(width, values.length);
        values.forEach((percentileValue, k) => {
          const percentile = String(Math.round(positions[k]! * 1000) / 1000);
          metrics.push({
            name,
            type: "gauge",
            value: percentileValue,
            labels: { ...labels, percentile },
            ...at,
          });
        });
      }
      metrics.push({ name: `${name}.count`, type: "counter", value: samples, labels, ...at });
    });
  });
  return { metrics, points, undefinedIds, issues };
}

/**
 * Where the values of a histogram sit, in percent.
 *
 * @param width The percentile width the client sent.
 * @param count How many values it sent.
 * @returns The percentile of each value.
 */
export function percentilePositions(width: number, count: number): number[] {
  if (Math.abs((count - 1) * width - 100) < 1e-9) return Array.from({ length: count }, (_, i) => i * width);
  // The statsd backend's fixed list: width 10, then 95, 99 and 100 (coscale.md §4).
  if (width === 10 && count === 13) return [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 100];
  if (count === 1) return [100];
  return Array.from({ length: count }, (_, i) => (100 * i) / (count - 1));
}

/** The push type a number of a metric of this data type becomes. */
function numberType(dataType: DataType): PushedMetric["type"] {
  switch (dataType) {
    case "COUNT":
      return "counter";
    case "COUNTER":
      return "cumulative";
    default:
      return "gauge";
  }
}

/**
 * The `subject` label of a subject id: `application`, or the server's (server group's) name, or the id.
 *
 * @param subject The subject as sent: `a`, `s<id>` or `g<id>`, any case.
 * @param lookup What the ids stand for.
 * @returns The label's value.
 */
export function subjectLabel(subject: string, lookup: PayloadLookup): string {
  const kind = subject[0]!.toLowerCase();
  if (kind === "a") return "application";
  const id = Number(subject.slice(1));
  return lookup.subjectName(kind as "s" | "g", id) ?? `${kind}${id}`;
}

/**
 * A CoScale time in Unix ms: 0 stays 0 (now), a negative number is seconds before `receivedMs`, a positive
 * one Unix seconds.
 *
 * @param seconds The time as sent.
 * @param receivedMs The arrival time.
 * @returns The time in ms, 0 for now, or `undefined` when it falls outside what a push may carry.
 */
export function timeMs(seconds: number, receivedMs: number): number | undefined {
  if (seconds === 0) return 0;
  const ms = seconds < 0 ? receivedMs + seconds * 1000 : seconds * 1000;
  return ms >= MIN_TIMESTAMP_MS && ms <= MAX_TIMESTAMP_MS ? ms : undefined;
}
