/**
 * The `http` input plugin: tally's push API (JSON metrics and events, Influx line protocol, Prometheus
 * text, StatsD lines) on the shared HTTP endpoint, each 2xx given once the body is durable.
 *
 * @module
 */

import type { InputPlugin } from "../input.ts";
import { example, schema } from "./config.ts";
import type { HttpConfig } from "./config.ts";
import { HttpInput } from "./listen.ts";

/**
 * The http input plugin, registered under `type = "http"`. On by default: `tally run` without an
 * `[inputs]` table accepts pushes on `http.listen`.
 *
 * @example
 * ```ts
 * const input = http.create(v.parse(http.schema, {}), "http");
 * await input.start(ctx);
 * ```
 */
export const http: InputPlugin<typeof schema> = {
  type: "http",
  schema,
  example,
  defaultConfig: {},
  create: createHttpInput,
};

/**
 * Creates an http input; it serves nothing until `start()`.
 *
 * @param config The validated config.
 * @param id The component id.
 * @returns The input.
 */
function createHttpInput(config: HttpConfig, id: string): HttpInput {
  return new HttpInput(config, id);
}
