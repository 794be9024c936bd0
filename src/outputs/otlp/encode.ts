/**
 * The OTLP encoder: from a flush to request bodies for two endpoints, metrics (`/v1/metrics`,
 * `protobuf_metrics.ts` or `json_metrics.ts`) and events as logs (`/v1/logs`, `log_records.ts`), each body
 * compressed when the config asks and prefixed with its route (see `Encoder.routes`), so both signals share
 * the output's one outbox and keep their order.
 *
 * @module
 */

import { gzipSync } from "node:zlib";
import type { OutboxInput } from "../../store/outbox.ts";
import type { EncodedFlush, Encoder } from "../_forwarder.ts";
import { routedBody } from "../_forwarder.ts";
import type { OutputFlush } from "../output.ts";
import { createJsonMetrics } from "./json_metrics.ts";
import { jsonLogs, logRecordOf, protobufLogs } from "./log_records.ts";
import type { Temporality } from "./metric_shape.ts";
import { createProtobufMetrics, type EncodedBody } from "./protobuf_metrics.ts";
import type { Labels } from "../../model/sample.ts";

/** The route of metrics bodies (index in `Encoder.routes`). */
export const METRICS_ROUTE = 0;
/** The route of logs bodies. */
export const LOGS_ROUTE = 1;

/**
 * The gzip level: 1 shrinks OTLP protobuf about 8× at 4-5× the speed of the default 6, which shrinks it about
 * 13× (`tests/bench/forward.ts --only otlp`, `docs/BENCHMARKS.md`): an edge box is short of CPU first.
 */
const GZIP_LEVEL = 1;

/** Options of {@link createOtlpEncoder}. */
export interface OtlpEncoderOptions {
  /** Where metrics go. */
  readonly metricsUrl: string;
  /** Where logs (events) go. */
  readonly logsUrl: string;
  /** The body encoding. */
  readonly encoding: "protobuf" | "json";
  /** Whether bodies are gzipped. */
  readonly compression: "gzip" | "none";
  /** Counters' and summaries' temporality. */
  readonly temporality: Temporality;
  /** The resource's attributes. */
  readonly resource: Labels;
  /** The scope's version: tally's version. */
  readonly version: string;
  /** Whether events are sent as logs. */
  readonly sendEvents: boolean;
  /** The most data points (or log records) per request. */
  readonly maxBatchPoints: number;
  /** The most bytes per request before compression. */
  readonly maxBatchBytes: number;
  /** The clock for log records' observed time, in ms since the epoch; `Date.now` by default. */
  readonly now?: () => number;
  /** The metrics encoder's cache bound in bytes (tests). */
  readonly cacheBytes?: number;
}

/**
 * The outbox format of an OTLP output's bodies: what a stored body means depends on the encoding and the
 * compression (the route byte is the signal, not a URL, so the URLs may change across restarts).
 *
 * @param encoding The body encoding.
 * @param compression The compression.
 * @returns E.g. `otlp/1.0;signals=metrics,logs;protobuf;gzip`.
 */
export function otlpFormat(encoding: "protobuf" | "json", compression: "gzip" | "none"): string {
  return `otlp/1.0;signals=metrics,logs;${encoding};${compression}`;
}

/**
 * The request headers of an OTLP/HTTP output (the sender adds `User-Agent`).
 *
 * @param encoding The body encoding.
 * @param compression The compression.
 * @returns The headers.
 */
export function otlpHeaders(
  encoding: "protobuf" | "json",
  compression: "gzip" | "none",
): Readonly<Record<string, string>> {
  return {
    "content-type": encoding === "protobuf" ? "application/x-protobuf" : "application/json",
    ...(compression === "gzip" ? { "content-encoding": "gzip" } : {}),
  };
}

/**
 * Creates the OTLP encoder for one output.
 *
 * @param options The endpoints, encoding, compression, temporality, resource and batch limits.
 * @returns The encoder: format, headers, routes and `encode`.
 * @example
 * ```ts
 * const encoder = createOtlpEncoder({ metricsUrl: "http://127.0.0.1:4318/v1/metrics",
 *   logsUrl: "http://127.0.0.1:4318/v1/logs", encoding: "protobuf", compression: "gzip",
 *   temporality: "cumulative", resource: [["service.name", "tally"]], version: "0.1.0", sendEvents: true,
 *   maxBatchPoints: 10_000, maxBatchBytes: 4 << 20 });
 * const { batches } = encoder.encode(flush); // route byte + gzipped ExportMetricsServiceRequest, …
 * ```
 */
export function createOtlpEncoder(options: OtlpEncoderOptions): Encoder {
  const { encoding, compression } = options;
  const now = options.now ?? Date.now;
  const shared = {
    temporality: options.temporality,
    resource: options.resource,
    version: options.version,
    maxBatchPoints: options.maxBatchPoints,
    maxBatchBytes: options.maxBatchBytes,
  };
  const metrics = encoding === "protobuf"
    ? createProtobufMetrics({
      ...shared,
      ...(options.cacheBytes !== undefined ? { cacheBytes: options.cacheBytes } : {}),
    })
    : createJsonMetrics(shared);
  const logs = encoding === "protobuf" ? protobufLogs : jsonLogs;

  function stored(route: number, bodies: readonly EncodedBody[], out: OutboxInput[]): void {
    for (const { body, events } of bodies) {
      const wire = compression === "gzip" ? gzipSync(body, { level: GZIP_LEVEL }) : body;
      out.push({ body: routedBody(route, wire), events });
    }
  }

  return {
    format: otlpFormat(encoding, compression),
    headers: otlpHeaders(encoding, compression),
    routes: [options.metricsUrl, options.logsUrl],
    encode(flush: OutputFlush): EncodedFlush {
      const batches: OutboxInput[] = [];
      if (flush.metrics.length > 0) stored(METRICS_ROUTE, metrics(flush.metrics), batches);
      if (options.sendEvents && flush.events.length > 0) {
        const nowMs = now();
        const records = flush.events.map((event) => logRecordOf(event, nowMs));
        stored(LOGS_ROUTE, logs(records, shared), batches);
      }
      return { batches };
    },
  };
}
