/**
 * Test support: decodes what an OTLP/HTTP sender posts with the OpenTelemetry project's own generated
 * protobuf classes, the `protobufjs` static module that `@opentelemetry/otlp-transformer` 0.214.0 ships
 * (`build/src/generated/root.js`, generated from the `opentelemetry-proto` definitions; the last release
 * that ships them, later ones serialise by hand and cannot decode requests). Never tally's own code, never a
 * hand-written `.proto`.
 *
 * Protobuf bodies are decoded with `decode`; OTLP/JSON bodies are read with the same classes' `fromObject`;
 * both then go through `toObject` with the same options, so a test can
 * compare the two encodings field by field.
 *
 * @module
 */
import { gunzipSync } from "node:zlib";
import root from "@opentelemetry/otlp-transformer/build/src/generated/root.js";

/** The part of a protobufjs message class used here. */
interface MessageClass {
  decode(bytes: Uint8Array): unknown;
  fromObject(object: unknown): unknown;
  toObject(message: unknown, options: Record<string, unknown>): unknown;
}

/** The generated root, typed only as deep as it is walked. */
const PROTO = (root as unknown as {
  opentelemetry: {
    proto: {
      collector: {
        metrics: { v1: { ExportMetricsServiceRequest: MessageClass } };
        logs: { v1: { ExportLogsServiceRequest: MessageClass } };
      };
    };
  };
}).opentelemetry.proto.collector;

/**
 * How decoded messages are rendered: 64-bit integers as decimal strings, enums by name, every field present
 * (unset ones at their default, so a test sees `exemplars: []` and `flags: 0`), oneof members only when set.
 */
const TO_OBJECT = { longs: String, enums: String, bytes: String, defaults: true, arrays: true };

/** One attribute, decoded. */
export interface DecodedKeyValue {
  /** The key. */
  readonly key: string;
  /** The value: exactly one member is present. */
  readonly value: {
    readonly stringValue?: string;
    readonly intValue?: string;
    readonly doubleValue?: number;
    readonly boolValue?: boolean;
  };
}

/** A NumberDataPoint or SummaryDataPoint, decoded. */
export interface DecodedDataPoint {
  /** The attributes. */
  readonly attributes: DecodedKeyValue[];
  /** Nanoseconds since the epoch, as a decimal string; "0" when unset. */
  readonly startTimeUnixNano: string;
  /** Nanoseconds since the epoch, as a decimal string. */
  readonly timeUnixNano: string;
  /** A NumberDataPoint's double value. */
  readonly asDouble?: number;
  /** A NumberDataPoint's integer value. */
  readonly asInt?: string;
  /** A NumberDataPoint's exemplars. */
  readonly exemplars?: unknown[];
  /** A SummaryDataPoint's count, as a decimal string. */
  readonly count?: string;
  /** A SummaryDataPoint's sum. */
  readonly sum?: number;
  /** A SummaryDataPoint's quantiles. */
  readonly quantileValues?: Array<{ readonly quantile: number; readonly value: number }>;
  /** The flags. */
  readonly flags: number;
}

/** A Metric, decoded. */
export interface DecodedMetric {
  /** The name. */
  readonly name: string;
  /** The description. */
  readonly description: string;
  /** The unit. */
  readonly unit: string;
  /** A Gauge. */
  readonly gauge?: { readonly dataPoints: DecodedDataPoint[] };
  /** A Sum. */
  readonly sum?: {
    readonly dataPoints: DecodedDataPoint[];
    readonly aggregationTemporality: string;
    readonly isMonotonic: boolean;
  };
  /** A Summary. */
  readonly summary?: { readonly dataPoints: DecodedDataPoint[] };
  /** A Histogram (tally never sends one). */
  readonly histogram?: unknown;
  /** An ExponentialHistogram (tally never sends one). */
  readonly exponentialHistogram?: unknown;
}

/** The resource and scope every request carries. */
export interface DecodedOrigin {
  /** The resource. */
  readonly resource: { readonly attributes: DecodedKeyValue[]; readonly droppedAttributesCount: number };
  /** The schema URL. */
  readonly schemaUrl: string;
}

/** An ExportMetricsServiceRequest, decoded. */
export interface DecodedMetricsRequest {
  /** Its ResourceMetrics. */
  readonly resourceMetrics: Array<
    DecodedOrigin & {
      readonly scopeMetrics: Array<{
        readonly scope: { readonly name: string; readonly version: string };
        readonly metrics: DecodedMetric[];
        readonly schemaUrl: string;
      }>;
    }
  >;
}

/** A LogRecord, decoded. */
export interface DecodedLogRecord {
  /** Nanoseconds since the epoch, as a decimal string. */
  readonly timeUnixNano: string;
  /** Nanoseconds since the epoch, as a decimal string. */
  readonly observedTimeUnixNano: string;
  /** The severity's name, e.g. `SEVERITY_NUMBER_INFO`. */
  readonly severityNumber: string;
  /** The severity text. */
  readonly severityText: string;
  /** The body. */
  readonly body: { readonly stringValue?: string } | null;
  /** The attributes. */
  readonly attributes: DecodedKeyValue[];
  /** The event name. */
  readonly eventName: string;
  /** The trace id (empty). */
  readonly traceId: string;
  /** The span id (empty). */
  readonly spanId: string;
  /** The flags. */
  readonly flags: number;
}

/** An ExportLogsServiceRequest, decoded. */
export interface DecodedLogsRequest {
  /** Its ResourceLogs. */
  readonly resourceLogs: Array<
    DecodedOrigin & {
      readonly scopeLogs: Array<{
        readonly scope: { readonly name: string; readonly version: string };
        readonly logRecords: DecodedLogRecord[];
      }>;
    }
  >;
}

/** How a body was encoded. */
export interface BodyEncoding {
  /** `protobuf` (default) or `json`. */
  readonly encoding?: "protobuf" | "json";
  /** Whether the body is gzipped. */
  readonly gzip?: boolean;
}

/**
 * Decodes an OTLP metrics request body.
 *
 * @param body The body as posted.
 * @param how Its encoding and compression.
 * @returns The request, every field rendered (see {@link TO_OBJECT}).
 * @throws {Error} When the bytes are not a valid request (or the JSON has a field of the wrong type).
 */
export function decodeOtlpMetrics(body: Uint8Array, how: BodyEncoding = {}): DecodedMetricsRequest {
  return decode(PROTO.metrics.v1.ExportMetricsServiceRequest, body, how) as DecodedMetricsRequest;
}

/**
 * Decodes an OTLP logs request body.
 *
 * @param body The body as posted.
 * @param how Its encoding and compression.
 * @returns The request, every field rendered.
 * @throws {Error} When the bytes are not a valid request.
 */
export function decodeOtlpLogs(body: Uint8Array, how: BodyEncoding = {}): DecodedLogsRequest {
  return decode(PROTO.logs.v1.ExportLogsServiceRequest, body, how) as DecodedLogsRequest;
}

function decode(type: MessageClass, body: Uint8Array, how: BodyEncoding): unknown {
  const bytes = how.gzip === true ? new Uint8Array(gunzipSync(body)) : body;
  if (how.encoding === "json") {
    // fromObject converts OTLP/JSON's strings for 64-bit integers and "NaN"; it ignores unknown keys, so
    // tests compare a JSON body's decoding with the protobuf one's, which has every field.
    const object: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return type.toObject(type.fromObject(object), TO_OBJECT);
  }
  return type.toObject(type.decode(bytes), TO_OBJECT);
}
