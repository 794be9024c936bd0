/**
 * The `collectd_unixsock` input plugin: polls a local collectd through its unixsock plugin, the way the
 * CoScale agent read collectd.
 *
 * @module
 */

import type { InputPlugin } from "../input.ts";
import { example, schema } from "./config.ts";
import type { CollectdUnixsockConfig } from "./config.ts";
import { CollectdUnixsockInput } from "./run.ts";

/**
 * The collectd_unixsock input plugin, registered under `type = "collectd_unixsock"`.
 *
 * @example
 * ```ts
 * const input = collectdUnixsock.create(
 *   v.parse(collectdUnixsock.schema, { path: "/var/run/collectd-unixsock" }),
 *   "collectd_unixsock",
 * );
 * await input.start(ctx);
 * ```
 */
export const collectdUnixsock: InputPlugin<typeof schema> = {
  type: "collectd_unixsock",
  schema,
  example,
  create: createCollectdUnixsockInput,
};

/**
 * Creates a collectd_unixsock input; it connects to nothing until `start()`.
 *
 * @param config The validated config.
 * @param id The component id.
 * @returns The input.
 */
function createCollectdUnixsockInput(config: CollectdUnixsockConfig, id: string): CollectdUnixsockInput {
  return new CollectdUnixsockInput(config, id);
}
