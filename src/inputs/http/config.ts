/**
 * The config of the `http` input: what the push routes do with the Influx `db`, `rp` and `bucket`
 * parameters, and how long a request may wait for room in the pipeline.
 *
 * Where the routes are served, the token they require and the body limit are the `[http]` table's
 * (`listen`, `token`, `max_body`): every route of tally shares one listener. The config loader adds
 * `type = "http"` and makes the table strict, so these are the only other keys.
 *
 * @module
 */

import * as v from "valibot";
import { duration } from "../../config/fields.ts";

const LABEL_REGEXP = /^(?:[A-Za-z_][A-Za-z0-9_]*)?$/;
const LABEL_EXPECTED = 'a label name like "db" (letters, digits and "_"), or "" for none';

function tagName(description: string) {
  return v.optional(
    v.pipe(
      v.string(LABEL_EXPECTED),
      v.regex(LABEL_REGEXP, LABEL_EXPECTED),
      v.description(description),
    ),
    "",
  );
}

/**
 * The valibot schema of an `[inputs.<id>]` table with `type = "http"` (without `type`).
 *
 * Output: `ack_wait` in milliseconds.
 */
export const schema = v.pipe(
  v.strictObject({
    /**
     * The label that carries the `db` parameter of `POST /write`, as Telegraf's `influxdb_listener` does
     * with `database_tag`; empty (the default) ignores `db`.
     */
    database_tag: tagName(
      'The label given the "db" parameter of POST /write (Telegraf\'s database_tag); "" ignores "db".',
    ),
    /** The label that carries the `rp` parameter of `POST /write`; empty (the default) ignores `rp`. */
    retention_policy_tag: tagName(
      'The label given the "rp" parameter of POST /write (Telegraf\'s retention_policy_tag); "" ignores it.',
    ),
    /**
     * The label that carries the `bucket` parameter of `POST /api/v2/write`, as Telegraf's
     * `influxdb_v2_listener` does with `bucket_tag`; empty (the default) ignores `bucket`.
     */
    bucket_tag: tagName(
      'The label given the "bucket" parameter of POST /api/v2/write (Telegraf\'s bucket_tag); "" ignores it.',
    ),
    /**
     * How long a request may wait for room in the pipeline's rings before it is answered 503 (with
     * `Retry-After`): pushes slow down under load before anything is refused, and nothing is dropped.
     */
    ack_wait: v.optional(
      v.pipe(
        duration({ min: 0, max: 60_000 }),
        v.description(
          "How long a push may wait for room in the pipeline before it is answered 503 with Retry-After.",
        ),
      ),
      "5s",
    ),
  }, "a table"),
  v.description(
    "The http input: push routes on the [http] listener for JSON, Influx line protocol, Prometheus text, " +
      "StatsD lines and events, acknowledged once durable (see src/inputs/http/README.md).",
  ),
);

/** The validated config of an `http` input. */
export type HttpConfig = v.InferOutput<typeof schema>;

/**
 * A complete example: Influx `db` and `bucket` kept as labels, as a Telegraf chain would want them. It is
 * what `tally config example http` prints and what the README's config block shows.
 */
export const example: v.InferInput<typeof schema> = {
  database_tag: "db",
  retention_policy_tag: "",
  bucket_tag: "bucket",
  ack_wait: "5s",
};
