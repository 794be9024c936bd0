/**
 * The config of the `otlp` output: the shared forwarder keys plus the endpoints per signal, the encoding,
 * compression, temporality, resource attributes, whether events go out as logs, and batch limits.
 *
 * The config loader adds `type = "otlp"` and makes the table strict, so these are the only keys.
 *
 * @module
 */

import * as v from "valibot";
import { httpUrl, size } from "../../config/fields.ts";
import { FORWARD_ENTRIES, FORWARD_EXAMPLE } from "../_forward_config.ts";

const KIB = 1024;
const MIB = 1024 * KIB;
const POINTS_EXPECTED = "an integer from 1 to 1000000";

/** The valibot schema of an `[outputs.<id>]` table with `type = "otlp"` (without `type`). */
export const schema = v.pipe(
  v.strictObject({
    ...FORWARD_ENTRIES,
    url: v.pipe(
      httpUrl(),
      v.description(
        "The receiver's base URL, as OTEL_EXPORTER_OTLP_ENDPOINT: metrics go to <url>/v1/metrics and " +
          "logs to <url>/v1/logs (an OpenTelemetry Collector's otlp receiver listens on port 4318).",
      ),
    ),
    metrics_url: v.optional(
      v.pipe(
        httpUrl(),
        v.description(
          "The full URL for metrics, used as it is (OTEL_EXPORTER_OTLP_METRICS_ENDPOINT); " +
            "<url>/v1/metrics when absent.",
        ),
      ),
    ),
    logs_url: v.optional(
      v.pipe(
        httpUrl(),
        v.description(
          "The full URL for logs (events), used as it is (OTEL_EXPORTER_OTLP_LOGS_ENDPOINT); " +
            "<url>/v1/logs when absent.",
        ),
      ),
    ),
    encoding: v.optional(
      v.pipe(
        v.picklist(["protobuf", "json"], '"protobuf" or "json"'),
        v.description(
          'The body: "protobuf" (application/x-protobuf, OTLP\'s default) or "json" (application/json).',
        ),
      ),
      "protobuf",
    ),
    compression: v.optional(
      v.pipe(
        v.picklist(["gzip", "none"], '"gzip" or "none"'),
        v.description(
          'Compress each body with gzip (Content-Encoding: gzip), or "none". The outbox keeps bodies as ' +
            "they are sent, so gzip also lets it hold several times more hours of outage.",
        ),
      ),
      "gzip",
    ),
    temporality: v.optional(
      v.pipe(
        v.picklist(["cumulative", "delta"], '"cumulative" or "delta"'),
        v.description(
          'Counters and summary counts and sums: "cumulative" (running totals since a stable start, what ' +
            'Prometheus-like backends need) or "delta" (each window\'s change).',
        ),
      ),
      "cumulative",
    ),
    service_name: v.optional(
      v.pipe(
        v.string("a service name"),
        v.nonEmpty("a non-empty service name"),
        v.description("The resource attribute service.name."),
      ),
      "tally",
    ),
    resource_attributes: v.optional(
      v.pipe(
        v.record(
          v.pipe(v.string(), v.nonEmpty("a non-empty attribute name")),
          v.string("an attribute value"),
          "a table of attribute names and values",
        ),
        v.description(
          'More resource attributes, e.g. { "deployment.environment.name" = "edge" }; host.name (this ' +
            "machine's host name by default) and service.name may be set here too.",
        ),
      ),
      {},
    ),
    send_events: v.optional(
      v.pipe(
        v.boolean("true or false"),
        v.description("Send events (DogStatsD _e, service checks, script and collectd events) as OTLP logs."),
      ),
      true,
    ),
    max_batch_points: v.optional(
      v.pipe(
        v.number(POINTS_EXPECTED),
        v.integer(POINTS_EXPECTED),
        v.minValue(1, POINTS_EXPECTED),
        v.maxValue(1_000_000, POINTS_EXPECTED),
        v.description("The most data points (or log records) in one request; a flush with more is split."),
      ),
      10_000,
    ),
    max_batch_size: v.optional(
      v.pipe(
        size({ min: 4 * KIB, max: 64 * MIB }),
        v.description(
          "The most bytes in one request before compression; a flush with more is split (an OpenTelemetry " +
            "Collector takes 20MiB by default).",
        ),
      ),
      "4MiB",
    ),
  }, "a table"),
  v.description(
    "An otlp output: OTLP/HTTP metrics, and events as logs, to an OpenTelemetry Collector or any OTLP " +
      "receiver, through a durable outbox (see src/outputs/otlp/README.md).",
  ),
);

/** The validated config of an `otlp` output. */
export type OtlpConfig = v.InferOutput<typeof schema>;

/**
 * A complete example: a Collector on loopback. It is what `tally config example otlp` prints and what the
 * README's config block shows.
 */
export const example: v.InferInput<typeof schema> = {
  url: "http://127.0.0.1:4318",
  ...FORWARD_EXAMPLE,
  encoding: "protobuf",
  compression: "gzip",
  temporality: "cumulative",
  service_name: "tally",
  resource_attributes: { "deployment.environment.name": "edge" },
  send_events: true,
  max_batch_points: 10_000,
  max_batch_size: "4MiB",
};
