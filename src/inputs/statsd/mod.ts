/**
 * The `statsd` input plugin: StatsD and DogStatsD lines over UDP, TCP and Unix datagram sockets.
 *
 * @module
 */

import type { InputPlugin } from "../input.ts";
import { example, schema } from "./config.ts";
import type { StatsdConfig } from "./config.ts";
import { StatsdInput } from "./listen.ts";

/**
 * The statsd input plugin, registered under `type = "statsd"`.
 *
 * @example
 * ```ts
 * const input = statsd.create(v.parse(statsd.schema, { listen: ["udp:127.0.0.1:0"] }), "statsd");
 * await input.start(ctx);
 * ```
 */
export const statsd: InputPlugin<typeof schema> = {
  type: "statsd",
  schema,
  example,
  defaultConfig: { listen: ["udp:127.0.0.1:8125"] },
  create: createStatsdInput,
  resources: statsdResources,
};

/**
 * Creates a statsd input; it binds nothing until `start()`.
 *
 * @param config The validated config.
 * @param id The component id.
 * @returns The input.
 */
function createStatsdInput(config: StatsdConfig, id: string): StatsdInput {
  return new StatsdInput(config, id);
}

/**
 * The addresses the input binds, in canonical form, for conflict checks across components.
 *
 * @param config The validated config.
 * @returns The addresses, e.g. `["udp:127.0.0.1:8125"]`.
 */
function statsdResources(config: StatsdConfig): readonly string[] {
  return config.listen;
}
