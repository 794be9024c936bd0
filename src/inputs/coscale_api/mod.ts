/**
 * The `coscale_api` input plugin: the CoScale-compatible API (`login/`, metric and event definitions, metric
 * data, event data under `/api/v1/app/{appId}/`) on the shared HTTP endpoint, so that the CoScale CLI and the
 * CoScale statsd backend work against tally unchanged.
 *
 * @module
 */

import type { InputPlugin } from "../input.ts";
import { example, schema } from "./config.ts";
import type { CoscaleApiConfig } from "./config.ts";
import { CoscaleApiInput } from "./listen.ts";

/**
 * The coscale_api input plugin, registered under `type = "coscale_api"`. On by default, next to the http
 * input: `tally run` without an `[inputs]` table answers CoScale's clients on `http.listen`.
 *
 * @example
 * ```ts
 * const input = coscaleApi.create(v.parse(coscaleApi.schema, {}), "coscale_api");
 * await input.start(ctx);
 * ```
 */
export const coscaleApi: InputPlugin<typeof schema> = {
  type: "coscale_api",
  schema,
  example,
  defaultConfig: {},
  create: createCoscaleApiInput,
};

/**
 * Creates a coscale_api input; it serves nothing until `start()`.
 *
 * @param config The validated config.
 * @param id The component id.
 * @returns The input.
 */
function createCoscaleApiInput(config: CoscaleApiConfig, id: string): CoscaleApiInput {
  return new CoscaleApiInput(config, id);
}
