/**
 * The config of the `collectd_unixsock` input: which collectd unixsock to poll, how often, and how long
 * one poll may take.
 *
 * The config loader adds `type = "collectd_unixsock"` and makes the table strict, so these are the only
 * other keys.
 *
 * @module
 */

import * as v from "valibot";
import { duration } from "../../config/fields.ts";

/**
 * The valibot schema of an `[inputs.<id>]` table with `type = "collectd_unixsock"` (without `type`).
 *
 * Output: durations in milliseconds.
 */
export const schema = v.pipe(
  v.strictObject({
    /** The socket collectd's unixsock plugin listens on (its `SocketFile`). */
    path: v.pipe(
      v.string('the path of collectd\'s unixsock socket, like "/var/run/collectd-unixsock"'),
      v.nonEmpty('the path of collectd\'s unixsock socket, like "/var/run/collectd-unixsock"'),
      v.description("The socket collectd's unixsock plugin listens on (its SocketFile)."),
    ),
    /** How often collectd is asked for its values. */
    interval: v.optional(
      v.pipe(
        duration({ min: 100, max: 86_400_000 }),
        v.description("How often collectd is asked for its current values (LISTVAL, then GETVAL)."),
      ),
      "10s",
    ),
    /** The longest one poll may take, connecting included; a slower poll is abandoned and counted. */
    timeout: v.optional(
      v.pipe(
        duration({ min: 10, max: 3_600_000 }),
        v.description(
          "The longest one poll may take, connecting included; a slower poll is abandoned and counted.",
        ),
      ),
      "2s",
    ),
  }, "a table"),
  v.description(
    "A collectd_unixsock input: polls a local collectd through its unixsock plugin " +
      "(see src/inputs/collectd_unixsock/README.md).",
  ),
);

/** The validated config of a `collectd_unixsock` input. */
export type CollectdUnixsockConfig = v.InferOutput<typeof schema>;

/**
 * A complete example, with the socket path the CoScale agent's collectd plugin used. It is what
 * `tally config example collectd_unixsock` prints and what the README's config block shows.
 */
export const example: v.InferInput<typeof schema> = {
  path: "/var/run/csplugin-unixsock",
  interval: "10s",
  timeout: "2s",
};
