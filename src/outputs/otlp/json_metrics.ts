/**
 * The OTLP metrics encoder, JSON (`encoding = "json"`): the same requests as `protobuf_metrics.ts`, written
 * in OTLP/JSON (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding): field names in
 * lowerCamelCase, 64-bit integers (times, summary counts) as decimal strings, enums as numbers, doubles as
 * numbers (`"NaN"`, `"Infinity"`, `"-Infinity"` as strings, as proto3 JSON writes them).
 *
 * Built as objects and serialised with `JSON.stringify`: JSON is the encoding for receivers without
 * protobuf, not for speed (the benchmark in `docs/BENCHMARKS.md` gives both figures).
 *
 * @module
 */

import type { Metric } from "../../model/metric.ts";
import type { Labels } from "../../model/sample.ts";
import { nanosText } from "./_proto_buffer.ts";
import {
  AGGREGATION_TEMPORALITY,
  numberValue,
  otlpShape,
  otlpUnit,
  pointStart,
  pointTime,
  type StartState,
  startState,
  summaryCount,
  summaryQuantiles,
  summarySum,
  type Temporality,
} from "./metric_shape.ts";
import type { EncodedBody, ProtobufMetricsOptions } from "./protobuf_metrics.ts";
import { jsonAttributes, type JsonKeyValue, SCOPE_NAME } from "./resource.ts";

/** The most series whose start state is kept before the table is emptied (as the protobuf cache is). */
const START_STATES = 200_000;

/** Options of {@link createJsonMetrics}: those of the protobuf encoder. */
export type JsonMetricsOptions = Omit<ProtobufMetricsOptions, "cacheBytes">;

/**
 * Creates the JSON metrics encoder of one output.
 *
 * @param options The temporality, resource, scope version and batch limits.
 * @returns A function from a flush's metrics to request bodies (UTF-8 JSON), in order.
 * @example
 * ```ts
 * const encode = createJsonMetrics({ temporality: "delta", resource: [], version: "0.1.0",
 *   maxBatchPoints: 10_000, maxBatchBytes: 4 << 20 });
 * const bodies = encode(flush.metrics);
 * ```
 */
export function createJsonMetrics(
  options: JsonMetricsOptions,
): (metrics: readonly Metric[]) => EncodedBody[] {
  const { temporality, maxBatchPoints, maxBatchBytes } = options;
  const resource = { attributes: jsonAttributes(options.resource) };
  const scope = { name: SCOPE_NAME, version: options.version };
  const starts = new Map<string, StartState>();
  const utf8 = new TextEncoder();

  function start(metric: Metric): number {
    const id = `${metric.kind}\x00${metric.key}`;
    let state = starts.get(id);
    if (state === undefined) {
      if (starts.size >= START_STATES) starts.clear();
      state = startState(metric);
      starts.set(id, state);
    }
    return pointStart(metric, temporality, state);
  }

  function encodeBatch(points: ReadonlyArray<readonly [Metric, number]>, out: EncodedBody[]): void {
    const body = utf8.encode(JSON.stringify(metricsRequest(points, { temporality, resource, scope })));
    if (body.length > maxBatchBytes && points.length > 1) {
      const half = Math.ceil(points.length / 2);
      encodeBatch(points.slice(0, half), out);
      encodeBatch(points.slice(half), out);
      return;
    }
    out.push({ body, events: points.length });
  }

  return function encodeJsonMetrics(metrics: readonly Metric[]): EncodedBody[] {
    const out: EncodedBody[] = [];
    // Starts are taken in flush order, as the protobuf encoder does, before any batch is written.
    const points = metrics.map((metric) => [metric, start(metric)] as const);
    for (let from = 0; from < points.length; from += maxBatchPoints) {
      encodeBatch(points.slice(from, from + maxBatchPoints), out);
    }
    return out;
  };
}

/** What every request of an output repeats, in OTLP/JSON form. */
export interface JsonRequestParts {
  /** Counters' and summaries' temporality. */
  readonly temporality: Temporality;
  /** The resource object. */
  readonly resource: { readonly attributes: readonly JsonKeyValue[] };
  /** The scope object. */
  readonly scope: { readonly name: string; readonly version: string };
}

/**
 * One `ExportMetricsServiceRequest` as an OTLP/JSON object: the series of one name and kind are the data
 * points of one Metric.
 *
 * @param points The metrics with their data points' starts (see `pointStart`), in order.
 * @param parts The temporality, resource and scope.
 * @returns The request object, for `JSON.stringify` (or for a protobuf library's `fromObject`).
 */
export function metricsRequest(
  points: ReadonlyArray<readonly [Metric, number]>,
  parts: JsonRequestParts,
): Record<string, unknown> {
  const families = new Map<string, { metric: Record<string, unknown>; dataPoints: unknown[] }>();
  for (const [metric, startMs] of points) {
    const id = `${metric.kind}\x00${metric.name}`;
    let family = families.get(id);
    if (family === undefined) {
      family = newFamily(metric, parts.temporality);
      families.set(id, family);
    }
    family.dataPoints.push(dataPoint(metric, startMs, parts.temporality));
  }
  return {
    resourceMetrics: [{
      resource: parts.resource,
      scopeMetrics: [{ scope: parts.scope, metrics: [...families.values()].map((f) => f.metric) }],
    }],
  };
}

/** A family's Metric object, whose data points the batch fills in. */
function newFamily(
  metric: Metric,
  temporality: Temporality,
): { metric: Record<string, unknown>; dataPoints: unknown[] } {
  const dataPoints: unknown[] = [];
  const unit = otlpUnit(metric.kind);
  const head = { name: metric.name, ...(unit !== "" ? { unit } : {}) };
  switch (otlpShape(metric.kind)) {
    case "gauge":
      return { metric: { ...head, gauge: { dataPoints } }, dataPoints };
    case "summary":
      return { metric: { ...head, summary: { dataPoints } }, dataPoints };
    case "monotonic_sum":
    case "sum": {
      const sum = {
        dataPoints,
        aggregationTemporality: AGGREGATION_TEMPORALITY[temporality],
        isMonotonic: otlpShape(metric.kind) === "monotonic_sum",
      };
      return { metric: { ...head, sum }, dataPoints };
    }
  }
}

function dataPoint(metric: Metric, startMs: number, temporality: Temporality): Record<string, unknown> {
  const point = metric.point;
  const times = {
    ...(startMs !== 0 ? { startTimeUnixNano: nanosText(startMs) } : {}),
    timeUnixNano: nanosText(pointTime(metric)),
  };
  const attributes = jsonAttributes(metric.labels as Labels);
  if (point.kind !== "summary") {
    return { attributes, ...times, asDouble: jsonDouble(numberValue(point, temporality)) };
  }
  return {
    attributes,
    ...times,
    count: String(summaryCount(point, temporality)),
    sum: jsonDouble(summarySum(point, temporality)),
    quantileValues: summaryQuantiles(point).map((q) => ({ quantile: q.q, value: jsonDouble(q.value) })),
  };
}

/** A double as proto3 JSON writes it: a number, or a string for NaN and the infinities. */
function jsonDouble(value: number): number | string {
  if (Number.isFinite(value)) return value;
  return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
}
