/**
 * The OTLP metrics encoder, protobuf: from a flush's metrics to `ExportMetricsServiceRequest` bodies, each
 * within the configured point and byte limits. Pure apart from a bounded cache. What each metric becomes is
 * `metric_shape.ts`.
 *
 * Wire format (`opentelemetry/proto/collector/metrics/v1/metrics_service.proto`, `metrics/v1/metrics.proto`):
 *
 * ```proto
 * message ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
 * message ResourceMetrics  { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
 * message ScopeMetrics     { InstrumentationScope scope = 1; repeated Metric metrics = 2; }
 * message Metric           { string name = 1; string unit = 3; oneof data { Gauge gauge = 5; Sum sum = 7; Summary summary = 11; … } }
 * message Gauge            { repeated NumberDataPoint data_points = 1; }
 * message Sum              { repeated NumberDataPoint data_points = 1; AggregationTemporality aggregation_temporality = 2; bool is_monotonic = 3; }
 * message Summary          { repeated SummaryDataPoint data_points = 1; }
 * message NumberDataPoint  { repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3; double as_double = 4; }
 * message SummaryDataPoint { repeated KeyValue attributes = 7; fixed64 start_time_unix_nano = 2; fixed64 time_unix_nano = 3;
 *                            fixed64 count = 4; double sum = 5; repeated ValueAtQuantile quantile_values = 6; }
 * message ValueAtQuantile  { double quantile = 1; double value = 2; }
 * ```
 *
 * One request holds one resource and one scope; the series of one name and kind are the data points of one
 * `Metric`. Values are always doubles (`as_double`): a counter scaled by a sample rate is fractional, and a
 * metric whose points switch between `as_int` and `as_double` is harder on receivers than one that never
 * does. No exemplars, no flags.
 *
 * Speed: a series' attributes, and a name's `Metric` head, are encoded once with `BinaryWriter` and cached as
 * bytes (bounded by {@link ATTRIBUTE_CACHE_BYTES}, emptied before a flush when full). A flush then costs one cache lookup
 * per series to plan the batches (every message's length is known from the cached sizes and the fixed-width
 * fields), and one pass writing into a buffer allocated at its exact final size.
 *
 * @module
 */

import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { Metric } from "../../model/metric.ts";
import type { SampleKind } from "../../model/sample.ts";
import { SeriesCache } from "../_series_cache.ts";
import { fieldSize, ProtoBuffer, VARINT } from "./_proto_buffer.ts";
import {
  AGGREGATION_TEMPORALITY,
  numberValue,
  type OtlpShape,
  otlpShape,
  otlpUnit,
  pointStart,
  pointTime,
  quantileCount,
  type StartState,
  startState,
  summaryCount,
  summarySum,
  type Temporality,
} from "./metric_shape.ts";
import { attributeFields, resourceField, scopeField } from "./resource.ts";
import type { Labels } from "../../model/sample.ts";

/**
 * The most bytes the attribute cache holds before it is emptied (about 250 bytes per series with four
 * labels: its attributes, its key and the map entries), enough for the default 100 000 series.
 */
export const ATTRIBUTE_CACHE_BYTES = 64 * 1024 * 1024;

/** What a cache entry costs besides its bytes: the objects and map entries, roughly. */
const ENTRY_OVERHEAD_BYTES = 120;

/** The bytes of one `ValueAtQuantile` field: tag, length, two doubles with their tags. */
const QUANTILE_FIELD_BYTES = 20;

/** The bytes of a Sum's temporality and monotonicity fields (tag and one-byte varint each). */
const SUM_TAIL_BYTES = 4;

/** The bytes a family adds to a batch besides its points, at most: its head's field and the data's. */
const FAMILY_OVERHEAD_BYTES = 12;

/** One request body and the data points it carries. */
export interface EncodedBody {
  /** The body, uncompressed. */
  readonly body: Uint8Array;
  /** The data points (or log records) in it. */
  readonly events: number;
}

/** Options of {@link createProtobufMetrics}. */
export interface ProtobufMetricsOptions {
  /** Counters' and summaries' temporality. */
  readonly temporality: Temporality;
  /** The resource's attributes. */
  readonly resource: Labels;
  /** The scope's version: tally's version. */
  readonly version: string;
  /** The most data points per request. */
  readonly maxBatchPoints: number;
  /** The most bytes per request before compression. */
  readonly maxBatchBytes: number;
  /** The cache bound in bytes; {@link ATTRIBUTE_CACHE_BYTES} by default. */
  readonly cacheBytes?: number;
}

/** The series of one name and kind: one `Metric` per request. */
interface _Family {
  /** The `name` and `unit` fields of the Metric. */
  readonly head: Uint8Array;
  readonly shape: OtlpShape;
  /** The Metric's data field: 5 gauge, 7 sum, 11 summary. */
  readonly field: number;
  /** The batch the members below belong to. */
  batch: number;
  /** The indices in the flush of this batch's points of the family. */
  members: number[];
  /** The bytes of those points' fields. */
  pointBytes: number;
}

/** One cached series. */
interface _Series {
  /** Its attributes as `attributes` fields (number 7) of a data point. */
  readonly attributes: Uint8Array;
  readonly family: _Family;
  readonly start: StartState;
}

/**
 * Creates the protobuf metrics encoder of one output.
 *
 * @param options The temporality, resource, scope version and batch limits.
 * @returns A function from a flush's metrics to request bodies (uncompressed), in order.
 * @example
 * ```ts
 * const encode = createProtobufMetrics({ temporality: "cumulative", resource: [["service.name", "tally"]],
 *   version: "0.1.0", maxBatchPoints: 10_000, maxBatchBytes: 4 << 20 });
 * const bodies = encode(flush.metrics); // ExportMetricsServiceRequest bytes
 * ```
 */
export function createProtobufMetrics(
  options: ProtobufMetricsOptions,
): (metrics: readonly Metric[]) => EncodedBody[] {
  const { temporality, maxBatchPoints, maxBatchBytes } = options;
  const resource = resourceField(options.resource);
  const scope = scopeField(options.version);
  const temporalityNumber = AGGREGATION_TEMPORALITY[temporality];
  // A request's bytes besides its metrics: the resource and scope, and two fields' tags and lengths.
  const baseBytes = resource.length + scope.length + 12;
  const cacheLimit = options.cacheBytes ?? ATTRIBUTE_CACHE_BYTES;
  const seriesCache = new SeriesCache<_Series>();
  const families = new Map<string, _Family>();
  let cachedBytes = 0;
  let batchNumber = 0;
  // Per flush, by the metric's index: its series, its point's size and start (reused arrays).
  const seriesOf: _Series[] = [];
  const sizeOf: number[] = [];
  const startOf: number[] = [];

  function lookup(metric: Metric): _Series {
    const found = seriesCache.get(metric);
    if (found !== undefined) return found;
    const familyKey = `${metric.kind}\x00${metric.name}`;
    let family = families.get(familyKey);
    if (family === undefined) {
      family = newFamily(metric.kind, metric.name);
      families.set(familyKey, family);
      cachedBytes += family.head.length + familyKey.length * 2 + ENTRY_OVERHEAD_BYTES;
    }
    const series: _Series = {
      attributes: attributeFields(7, metric.labels),
      family,
      start: startState(metric),
    };
    seriesCache.set(metric, series);
    cachedBytes += series.attributes.length + metric.key.length * 2 + ENTRY_OVERHEAD_BYTES;
    return series;
  }

  function pointSize(metric: Metric, series: _Series, start: number): number {
    const point = metric.point;
    const times = (start !== 0 ? 9 : 0) + 9;
    if (point.kind === "summary") {
      return series.attributes.length + times + 9 + 9 + quantileCount(point) * QUANTILE_FIELD_BYTES;
    }
    return series.attributes.length + times + 9;
  }

  function writeBatch(metrics: readonly Metric[], batch: readonly _Family[], points: number): EncodedBody {
    let scopeBytes = scope.length;
    for (const family of batch) scopeBytes += fieldSize(metricBytes(family));
    const resourceMetricsBytes = resource.length + fieldSize(scopeBytes);
    const out = new ProtoBuffer(fieldSize(resourceMetricsBytes));
    out.open(1, resourceMetricsBytes);
    out.raw(resource);
    out.open(2, scopeBytes);
    out.raw(scope);
    for (const family of batch) {
      out.open(2, metricBytes(family));
      out.raw(family.head);
      out.open(family.field, dataBytes(family));
      for (const i of family.members) {
        out.open(1, sizeOf[i]!);
        writePoint(out, metrics[i]!, seriesOf[i]!, startOf[i]!);
      }
      if (family.shape === "monotonic_sum" || family.shape === "sum") {
        out.tag(2, VARINT);
        out.varint(temporalityNumber);
        out.tag(3, VARINT);
        out.varint(family.shape === "monotonic_sum" ? 1 : 0);
      }
    }
    return { body: out.finish(), events: points };
  }

  function writePoint(out: ProtoBuffer, metric: Metric, series: _Series, start: number): void {
    out.raw(series.attributes);
    if (start !== 0) out.nanos(2, start);
    out.nanos(3, pointTime(metric));
    const point = metric.point;
    if (point.kind !== "summary") {
      out.double(4, numberValue(point, temporality));
      return;
    }
    out.fixed64(4, summaryCount(point, temporality));
    out.double(5, summarySum(point, temporality));
    const qs = point.quantiles;
    if (qs[0]?.q !== 0) writeQuantile(out, 0, point.min);
    for (const quantile of qs) writeQuantile(out, quantile.q, quantile.value);
    if (qs[qs.length - 1]?.q !== 1) writeQuantile(out, 1, point.max);
  }

  return function encodeProtobufMetrics(metrics: readonly Metric[]): EncodedBody[] {
    // Emptied between flushes only, so that the series of one name share one family within a flush.
    if (cachedBytes > cacheLimit) {
      seriesCache.clear();
      families.clear();
      cachedBytes = 0;
    }
    const out: EncodedBody[] = [];
    let batch: _Family[] = [];
    let points = 0;
    let bytes = baseBytes;
    batchNumber++;
    for (let i = 0; i < metrics.length; i++) {
      const metric = metrics[i]!;
      const series = lookup(metric);
      const start = pointStart(metric, temporality, series.start);
      const size = pointSize(metric, series, start);
      const field = fieldSize(size);
      const family = series.family;
      const joining = family.batch === batchNumber ? 0 : family.head.length + FAMILY_OVERHEAD_BYTES;
      if (points > 0 && (points >= maxBatchPoints || bytes + field + joining > maxBatchBytes)) {
        out.push(writeBatch(metrics, batch, points));
        batch = [];
        points = 0;
        bytes = baseBytes;
        batchNumber++;
      }
      if (family.batch !== batchNumber) {
        family.batch = batchNumber;
        family.members = [];
        family.pointBytes = 0;
        batch.push(family);
        bytes += family.head.length + FAMILY_OVERHEAD_BYTES;
      }
      family.members.push(i);
      family.pointBytes += field;
      seriesOf[i] = series;
      sizeOf[i] = size;
      startOf[i] = start;
      points++;
      bytes += field;
    }
    if (points > 0) out.push(writeBatch(metrics, batch, points));
    // Let go of this flush's objects; the arrays keep their capacity.
    seriesOf.length = 0;
    for (const family of batch) family.members = [];
    return out;
  };
}

/** A family's cached head: the Metric's name and, if any, unit. */
function newFamily(kind: SampleKind, name: string): _Family {
  const shape = otlpShape(kind);
  const unit = otlpUnit(kind);
  const writer = new BinaryWriter().tag(1, WireType.LengthDelimited).string(name);
  if (unit !== "") writer.tag(3, WireType.LengthDelimited).string(unit);
  const field = shape === "gauge" ? 5 : shape === "summary" ? 11 : 7;
  return { head: writer.finish(), shape, field, batch: 0, members: [], pointBytes: 0 };
}

/** The bytes of a family's data message (Gauge, Sum or Summary) in the current batch. */
function dataBytes(family: _Family): number {
  const sum = family.shape === "monotonic_sum" || family.shape === "sum";
  return family.pointBytes + (sum ? SUM_TAIL_BYTES : 0);
}

/** The bytes of a family's Metric message in the current batch. */
function metricBytes(family: _Family): number {
  return family.head.length + fieldSize(dataBytes(family));
}

function writeQuantile(out: ProtoBuffer, q: number, value: number): void {
  out.open(6, 18);
  out.double(1, q);
  out.double(2, value);
}
