/**
 * What one aggregated tally metric becomes in OTLP, whatever the encoding (protobuf or JSON):
 *
 * | tally kind | OTLP metric | value | start_time_unix_nano |
 * |---|---|---|---|
 * | counter (StatsD `c`, ABSOLUTE) | Sum, monotonic | cumulative: the running total; delta: the window's sum | cumulative: the series' start; delta: the window's start |
 * | cumulative (collectd COUNTER, DERIVE with min ≥ 0, …) | Sum, monotonic | cumulative: the source's total; delta: the window's increase | cumulative: the series' start, moved to the window's start when the total fell (a reset); delta: the window's start |
 * | signed_cumulative (collectd DERIVE with min < 0 or U) | Sum, **not** monotonic | cumulative: the source's total; delta: the window's signed change | as counter |
 * | gauge | Gauge | the value at the end of the window | none |
 * | set | Gauge | the window's distinct count | none |
 * | timer (unit `ms`), histogram, distribution | Summary | count and sum per the temporality; quantile values of the window, with 0 = min and 1 = max | as counter |
 *
 * Every point's `time_unix_nano` is the end of its window (`timeMs + intervalMs`): the moment its value is
 * as of, after which a cumulative total has counted the whole window and a delta covers
 * [start, time). The local store and `remote_write` stamp the window's start instead.
 *
 * @module
 */

import type { Metric, Point, Quantile } from "../../model/metric.ts";
import type { SampleKind } from "../../model/sample.ts";

/** The OTLP metric type (and monotonicity) a tally kind becomes. */
export type OtlpShape = "monotonic_sum" | "sum" | "gauge" | "summary";

/** The temporality the output sends counters and summary counts and sums with. */
export type Temporality = "cumulative" | "delta";

/** OTLP's `AggregationTemporality` numbers. */
export const AGGREGATION_TEMPORALITY: Readonly<Record<Temporality, number>> = { delta: 1, cumulative: 2 };

/**
 * The OTLP type of a kind.
 *
 * @param kind The tally kind.
 * @returns The shape (see the module table).
 */
export function otlpShape(kind: SampleKind): OtlpShape {
  switch (kind) {
    case "counter":
    case "cumulative":
      return "monotonic_sum";
    case "signed_cumulative":
      return "sum";
    case "gauge":
    case "set":
      return "gauge";
    case "timer":
    case "histogram":
    case "distribution":
      return "summary";
  }
}

/**
 * The unit of a kind's metric: StatsD timers are milliseconds; nothing else says.
 *
 * @param kind The tally kind.
 * @returns A UCUM unit, or `""` for none.
 */
export function otlpUnit(kind: SampleKind): string {
  return kind === "timer" ? "ms" : "";
}

/**
 * The value of a Sum or Gauge data point.
 *
 * @param point The metric's point (not a summary).
 * @param temporality The output's temporality.
 * @returns The value.
 */
export function numberValue(point: Point, temporality: Temporality): number {
  switch (point.kind) {
    case "counter":
      return temporality === "cumulative" ? point.total : point.delta;
    case "gauge":
      return point.value;
    case "set":
      return point.count;
    case "summary":
      return temporality === "cumulative" ? point.totalSum : point.sum;
  }
}

/**
 * The count of a Summary data point: a `fixed64`, so a count scaled by a sample rate is rounded.
 *
 * @param point The summary point.
 * @param temporality The output's temporality.
 * @returns A non-negative integer.
 */
export function summaryCount(point: Extract<Point, { kind: "summary" }>, temporality: Temporality): number {
  return Math.max(0, Math.round(temporality === "cumulative" ? point.totalCount : point.count));
}

/**
 * The sum of a Summary data point.
 *
 * @param point The summary point.
 * @param temporality The output's temporality.
 * @returns The sum.
 */
export function summarySum(point: Extract<Point, { kind: "summary" }>, temporality: Temporality): number {
  return temporality === "cumulative" ? point.totalSum : point.sum;
}

/**
 * The quantile values of a Summary point, ascending: the window's min as quantile 0 and its max as
 * quantile 1 (OTLP's convention) around the configured quantiles, unless those already include 0 or 1.
 *
 * @param point The summary point.
 * @returns The quantiles and values.
 */
export function summaryQuantiles(point: Extract<Point, { kind: "summary" }>): Quantile[] {
  const qs = point.quantiles;
  const out: Quantile[] = [];
  if (qs[0]?.q !== 0) out.push({ q: 0, value: point.min });
  out.push(...qs);
  if (qs[qs.length - 1]?.q !== 1) out.push({ q: 1, value: point.max });
  return out;
}

/**
 * How many quantile values a Summary point carries (see {@link summaryQuantiles}), without allocating.
 *
 * @param point The summary point.
 * @returns The count.
 */
export function quantileCount(point: Extract<Point, { kind: "summary" }>): number {
  const qs = point.quantiles;
  return qs.length + (qs[0]?.q !== 0 ? 1 : 0) + (qs[qs.length - 1]?.q !== 1 ? 1 : 0);
}

/**
 * The state a series carries from flush to flush for its cumulative start: a `cumulative` source's total
 * that falls is a reset (the source restarted), which OTLP signals with a new start time.
 */
export interface StartState {
  /** The start sent with the series' cumulative points, in ms since the epoch. */
  startMs: number;
  /** The last total seen, for reset detection. */
  lastTotal: number;
  /** The window of the last total seen; late windows do not take part. */
  lastTimeMs: number;
}

/**
 * A fresh start state for a series.
 *
 * @param metric The series' first metric.
 * @returns The state.
 */
export function startState(metric: Metric): StartState {
  return { startMs: metric.startMs, lastTotal: NaN, lastTimeMs: -Infinity };
}

/**
 * The start and time of a metric's data point, updating the series' start state.
 *
 * @param metric The metric.
 * @param temporality The output's temporality.
 * @param state The series' start state (changed when a `cumulative` total fell).
 * @returns The start in ms since the epoch, or 0 for none (gauges).
 */
export function pointStart(metric: Metric, temporality: Temporality, state: StartState): number {
  if (metric.startMs > state.startMs) {
    // The series restarted in tally (expired and came back): a new stream.
    state.startMs = metric.startMs;
    state.lastTotal = NaN;
  }
  const point = metric.point;
  if (point.kind === "gauge" || point.kind === "set") return 0;
  if (temporality === "delta") return metric.timeMs;
  if (metric.kind === "cumulative" && point.kind === "counter" && metric.timeMs > state.lastTimeMs) {
    if (point.total < state.lastTotal) state.startMs = Math.max(state.startMs, metric.timeMs);
    state.lastTotal = point.total;
    state.lastTimeMs = metric.timeMs;
  }
  return state.startMs;
}

/**
 * The time of a metric's data point: the end of its window, in ms since the epoch.
 *
 * @param metric The metric.
 * @returns `timeMs + intervalMs`, rounded to whole ms.
 */
export function pointTime(metric: Metric): number {
  return Math.round(metric.timeMs + metric.intervalMs);
}
