/**
 * The `collectd` input plugin: collectd's binary network protocol over UDP, plain, signed or encrypted.
 *
 * @module
 */

import type { InputPlugin } from "../input.ts";
import { example, schema } from "./config.ts";
import type { CollectdConfig } from "./config.ts";
import { CollectdInput } from "./listen.ts";

/**
 * The collectd input plugin, registered under `type = "collectd"`.
 *
 * @example
 * ```ts
 * const input = collectd.create(v.parse(collectd.schema, { listen: ["udp:127.0.0.1:0"] }), "collectd");
 * await input.start(ctx);
 * ```
 */
export const collectd: InputPlugin<typeof schema> = {
  type: "collectd",
  schema,
  example,
  create: createCollectdInput,
  resources: collectdResources,
};

/**
 * Creates a collectd input; it reads and binds nothing until `start()`.
 *
 * @param config The validated config.
 * @param id The component id.
 * @returns The input.
 */
function createCollectdInput(config: CollectdConfig, id: string): CollectdInput {
  return new CollectdInput(config, id);
}

/**
 * The addresses the input binds, in canonical form, for conflict checks across components.
 *
 * @param config The validated config.
 * @returns The addresses, e.g. `["udp:127.0.0.1:25826"]`.
 */
function collectdResources(config: CollectdConfig): readonly string[] {
  return config.listen;
}
