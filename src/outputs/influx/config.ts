/**
 * The config of the `influx` output: the shared forwarder keys plus the API version and its target
 * (v1 database, retention policy and credentials; v2 organization, bucket and token), precision, counter
 * temporality, compression, the events' measurement and batch limits.
 *
 * The config loader adds `type = "influx"` and makes the table strict, so these are the only keys.
 *
 * @module
 */

import * as v from "valibot";
import { httpUrl, size } from "../../config/fields.ts";
import { FORWARD_ENTRIES, FORWARD_EXAMPLE } from "../_forward_config.ts";

const KIB = 1024;
const MIB = 1024 * KIB;
const LINES_EXPECTED = "an integer from 1 to 1000000";
const DATABASE_EXPECTED = 'a database name (api = "v1" writes into one)';
const ORGANIZATION_EXPECTED = 'an organization (api = "v2" writes into one)';
const BUCKET_EXPECTED = 'a bucket (api = "v2" writes into one)';

/** The valibot schema of an `[outputs.<id>]` table with `type = "influx"` (without `type`). */
export const schema = v.pipe(
  v.strictObject({
    ...FORWARD_ENTRIES,
    url: v.pipe(
      httpUrl(),
      v.description(
        "The server's base URL: /write (api v1) or /api/v2/write (api v2) is appended. InfluxDB listens " +
          "on 8086; VictoriaMetrics takes both on 8428.",
      ),
    ),
    api: v.optional(
      v.pipe(
        v.picklist(["v1", "v2"], '"v1" or "v2"'),
        v.description(
          'The write API: "v1" (/write?db=…&rp=…, InfluxDB 1.x and VictoriaMetrics) or "v2" ' +
            "(/api/v2/write?org=…&bucket=…, InfluxDB 2 and 3).",
        ),
      ),
      "v1",
    ),
    database: v.optional(
      v.pipe(
        v.string("a database name"),
        v.description('api v1: the database (it must exist: CREATE DATABASE "tally").'),
      ),
    ),
    retention_policy: v.optional(
      v.pipe(
        v.string("a retention policy name"),
        v.description("api v1: the retention policy; empty for the database's default."),
      ),
      "",
    ),
    username: v.optional(
      v.pipe(
        v.string("a user name"),
        v.description("api v1: the user, sent with password as HTTP Basic authentication; empty for none."),
      ),
      "",
    ),
    password: v.optional(
      v.pipe(v.string("a password"), v.description("api v1: the user's password.")),
      "",
    ),
    organization: v.optional(
      v.pipe(v.string("an organization name or id"), v.description("api v2: the organization.")),
    ),
    bucket: v.optional(
      v.pipe(v.string("a bucket name"), v.description("api v2: the bucket.")),
    ),
    token: v.optional(
      v.pipe(
        v.string("an API token"),
        v.description("api v2: the API token, sent as Authorization: Token …; empty for none."),
      ),
      "",
    ),
    precision: v.optional(
      v.pipe(
        v.picklist(["ns", "us", "ms", "s"], '"ns", "us", "ms" or "s"'),
        v.description(
          "The timestamps' unit. Points are stamped with their window's start, a whole millisecond, so " +
            '"ms" loses nothing; "s" merges windows shorter than a second.',
        ),
      ),
      "ms",
    ),
    temporality: v.optional(
      v.pipe(
        v.picklist(["delta", "cumulative"], '"delta" or "cumulative"'),
        v.description(
          "Counters' value and summaries' count and sum: \"delta\" (each window's, as Telegraf's statsd " +
            'input writes them) or "cumulative" (running totals since the series started).',
        ),
      ),
      "delta",
    ),
    compression: v.optional(
      v.pipe(
        v.picklist(["gzip", "none"], '"gzip" or "none"'),
        v.description(
          'Compress each body with gzip (Content-Encoding: gzip), or "none". The outbox keeps bodies as ' +
            "they are sent, so gzip also lets it hold many times more hours of outage.",
        ),
      ),
      "gzip",
    ),
    events_measurement: v.optional(
      v.pipe(
        v.string("a measurement name"),
        v.description(
          'The measurement events are written to (fields title, text, kind…); "" sends no events. ' +
            'VictoriaMetrics stores no strings: use "" there.',
        ),
      ),
      "events",
    ),
    max_batch_lines: v.optional(
      v.pipe(
        v.number(LINES_EXPECTED),
        v.integer(LINES_EXPECTED),
        v.minValue(1, LINES_EXPECTED),
        v.maxValue(1_000_000, LINES_EXPECTED),
        v.description("The most lines (points) in one request; a flush with more is split."),
      ),
      5000,
    ),
    max_batch_size: v.optional(
      v.pipe(
        size({ min: 4 * KIB, max: 64 * MIB }),
        v.description(
          "The most bytes in one request before compression; a flush with more is split (InfluxDB 1.x " +
            "takes 25MB by default).",
        ),
      ),
      "4MiB",
    ),
  }, "a table"),
  v.rawCheck(function requireTarget({ dataset, addIssue }): void {
    if (!dataset.typed) return;
    const config = dataset.value;
    const missing: Array<[key: string, message: string]> = config.api === "v1"
      ? [["database", DATABASE_EXPECTED]]
      : [["organization", ORGANIZATION_EXPECTED], ["bucket", BUCKET_EXPECTED]];
    for (const [key, message] of missing) {
      const value = (config as Record<string, unknown>)[key];
      if (typeof value === "string" && value !== "") continue;
      // Reported at the key, so the message reads "at outputs.<id>.database: expected …, found …".
      addIssue({
        message,
        input: value,
        path: [{ type: "object", origin: "value", input: config, key, value }],
      });
    }
  }),
  v.description(
    "An influx output: InfluxDB line protocol to InfluxDB 1.x (/write), 2 and 3 (/api/v2/write) or " +
      "VictoriaMetrics, through a durable outbox (see src/outputs/influx/README.md).",
  ),
);

/** The validated config of an `influx` output. */
export type InfluxConfig = v.InferOutput<typeof schema>;

/**
 * A complete example: InfluxDB 1.x on loopback. It is what `tally config example influx` prints and what
 * the README's config block shows.
 */
export const example: v.InferInput<typeof schema> = {
  url: "http://127.0.0.1:8086",
  ...FORWARD_EXAMPLE,
  api: "v1",
  database: "tally",
  retention_policy: "",
  username: "",
  password: "",
  token: "",
  precision: "ms",
  temporality: "delta",
  compression: "gzip",
  events_measurement: "events",
  max_batch_lines: 5000,
  max_batch_size: "4MiB",
};
