/**
 * The `otlp` output plugin: OTLP/HTTP metrics, and events as logs, through a durable outbox.
 *
 * @module
 */

import { hostname } from "node:os";
import { VERSION } from "../../internal/version.ts";
import { Forwarder } from "../_forwarder.ts";
import { joinUrl } from "../_join_url.ts";
import type { OutputPlugin } from "../output.ts";
import { example, schema } from "./config.ts";
import type { OtlpConfig } from "./config.ts";
import { createOtlpEncoder } from "./encode.ts";
import { resourceAttributes } from "./resource.ts";

/**
 * The otlp output plugin, registered under `type = "otlp"`.
 *
 * @example
 * ```ts
 * const output = otlp.create(v.parse(otlp.schema, { url: "http://127.0.0.1:4318" }), "collector");
 * await output.start(ctx);
 * output.write(flush);
 * ```
 */
export const otlp: OutputPlugin<typeof schema> = {
  type: "otlp",
  schema,
  example,
  create: createOtlpOutput,
};

/**
 * A signal's URL from the base URL, as the OpenTelemetry exporters build it from
 * `OTEL_EXPORTER_OTLP_ENDPOINT`: the base's path with `v1/<signal>` appended (`http://host:4318` →
 * `http://host:4318/v1/metrics`, `http://host/otlp/` → `http://host/otlp/v1/metrics`), query kept.
 *
 * @param base The base URL.
 * @param signal `metrics` or `logs`.
 * @returns The signal's URL.
 */
export function signalUrl(base: string, signal: "metrics" | "logs"): string {
  return joinUrl(base, `v1/${signal}`);
}

/**
 * Creates an otlp output; it opens and sends nothing until `start()`.
 *
 * @param config The validated config.
 * @param id The component id.
 * @returns The output.
 */
function createOtlpOutput(config: OtlpConfig, id: string): Forwarder {
  const metricsUrl = config.metrics_url ?? signalUrl(config.url, "metrics");
  const encoder = createOtlpEncoder({
    metricsUrl,
    logsUrl: config.logs_url ?? signalUrl(config.url, "logs"),
    encoding: config.encoding,
    compression: config.compression,
    temporality: config.temporality,
    resource: resourceAttributes({
      serviceName: config.service_name,
      hostName: hostname(),
      attributes: config.resource_attributes,
    }),
    version: VERSION,
    sendEvents: config.send_events,
    maxBatchPoints: config.max_batch_points,
    maxBatchBytes: config.max_batch_size,
  });
  return new Forwarder({ type: "otlp", id, config: { ...config, url: metricsUrl }, encoder });
}
