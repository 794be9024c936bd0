/**
 * The config of the `coscale_api` input: how much metric data one request may carry, and how long a
 * request may wait for room in the pipeline.
 *
 * Where the routes are served and the token `login/` checks are the `[http]` table's (`listen`, `token`):
 * the CoScale-compatible API shares tally's one listener. The config loader adds `type = "coscale_api"`
 * and makes the table strict, so these are the only other keys.
 *
 * @module
 */

import * as v from "valibot";
import { duration, size } from "../../config/fields.ts";

const MIB = 1024 * 1024;

/**
 * The valibot schema of an `[inputs.<id>]` table with `type = "coscale_api"` (without `type`).
 *
 * Output: `max_data` in bytes, `ack_wait` in milliseconds.
 */
export const schema = v.pipe(
  v.strictObject({
    /**
     * The largest metric data one `POST data/` may carry, as JSON once `cdata` is decoded and unzipped
     * (CoScale's own limit, which its CLI batches to, is 10 MiB); larger gets 413.
     */
    max_data: v.optional(
      v.pipe(
        size({ min: 1024, max: 256 * MIB }),
        v.description(
          "The most metric data one POST data/ may carry, as JSON once cdata is unzipped (CoScale's limit).",
        ),
      ),
      "10MiB",
    ),
    /**
     * How long a request may wait for room in the pipeline's rings before it is answered 503: data slows
     * down under load before anything is refused, and nothing is dropped.
     */
    ack_wait: v.optional(
      v.pipe(
        duration({ min: 0, max: 60_000 }),
        v.description("How long a data insert may wait for room in the pipeline before it is answered 503."),
      ),
      "5s",
    ),
  }, "a table"),
  v.description(
    "The CoScale-compatible API on the [http] listener: login/, definitions, data/ and events for the CoScale " +
      "CLI and statsd backend (see src/inputs/coscale_api/README.md).",
  ),
);

/** The validated config of a `coscale_api` input. */
export type CoscaleApiConfig = v.InferOutput<typeof schema>;

/**
 * A complete example: CoScale's own limits. It is what `tally config example coscale_api` prints and what
 * the README's config block shows.
 */
export const example: v.InferInput<typeof schema> = {
  max_data: "10MiB",
  ack_wait: "5s",
};
