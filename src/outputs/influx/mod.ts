/**
 * The `influx` output plugin: InfluxDB line protocol (v1 `/write`, v2 `/api/v2/write`) through a durable
 * outbox.
 *
 * @module
 */

import { Forwarder } from "../_forwarder.ts";
import { joinUrl } from "../_join_url.ts";
import type { OutputPlugin } from "../output.ts";
import { example, schema } from "./config.ts";
import type { InfluxConfig } from "./config.ts";
import { createInfluxEncoder } from "./encode.ts";

/**
 * The influx output plugin, registered under `type = "influx"`.
 *
 * @example
 * ```ts
 * const output = influx.create(v.parse(influx.schema, { url: "http://127.0.0.1:8086", database: "tally" }), "influx");
 * await output.start(ctx);
 * output.write(flush);
 * ```
 */
export const influx: OutputPlugin<typeof schema> = {
  type: "influx",
  schema,
  example,
  create: createInfluxOutput,
};

/**
 * The write URL and the authorisation header of a config: v1 `/write?db=…&rp=…&precision=…` with the user
 * as HTTP Basic authentication (the header rather than the `u`/`p` query parameters, which proxies and
 * access logs record); v2 `/api/v2/write?org=…&bucket=…&precision=…` with `Authorization: Token …`.
 *
 * InfluxDB 1.x spells microseconds `u` (it reads an unknown precision, `us` included, as nanoseconds);
 * v2 and VictoriaMetrics spell it `us` (VictoriaMetrics takes both).
 *
 * @param config The validated config.
 * @returns The URL, and the headers to add (none without credentials).
 */
export function influxTarget(config: InfluxConfig): { url: string; headers: Record<string, string> } {
  if (config.api === "v1") {
    const url = joinUrl(config.url, "write", {
      db: config.database ?? "",
      rp: config.retention_policy,
      precision: config.precision === "us" ? "u" : config.precision,
    });
    // RFC 7617: base64 of the UTF-8 bytes of "user:password".
    const credentials = String.fromCharCode(
      ...new TextEncoder().encode(`${config.username}:${config.password}`),
    );
    const headers: Record<string, string> = config.username === ""
      ? {}
      : { authorization: `Basic ${btoa(credentials)}` };
    return { url, headers };
  }
  const url = joinUrl(config.url, "api/v2/write", {
    org: config.organization ?? "",
    bucket: config.bucket ?? "",
    precision: config.precision,
  });
  return { url, headers: config.token === "" ? {} : { authorization: `Token ${config.token}` } };
}

/**
 * Creates an influx output; it opens and sends nothing until `start()`.
 *
 * @param config The validated config.
 * @param id The component id.
 * @returns The output.
 */
function createInfluxOutput(config: InfluxConfig, id: string): Forwarder {
  const encoder = createInfluxEncoder({
    api: config.api,
    precision: config.precision,
    temporality: config.temporality,
    compression: config.compression,
    eventsMeasurement: config.events_measurement,
    maxBatchLines: config.max_batch_lines,
    maxBatchBytes: config.max_batch_size,
  });
  const target = influxTarget(config);
  return new Forwarder({
    type: "influx",
    id,
    // The user's own headers win, as for every forwarder.
    config: { ...config, url: target.url, headers: { ...target.headers, ...config.headers } },
    encoder,
  });
}
