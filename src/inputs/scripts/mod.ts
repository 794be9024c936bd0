/**
 * The `scripts` input plugin: runs scripts on a schedule in a sandbox and reads what they print
 * (the CoScale generic-script protocol, Nagios plugin output, Prometheus text or Influx line protocol).
 *
 * @module
 */

import type { InputPlugin } from "../input.ts";
import { example, schema } from "./config.ts";
import type { ScriptsConfig } from "./config.ts";
import { ScriptsInput } from "./run.ts";
import { scriptsPreflight } from "./_preflight.ts";

/**
 * The scripts input plugin, registered under `type = "scripts"`.
 *
 * @example
 * ```ts
 * const input = scripts.create(v.parse(scripts.schema, { scripts: [{ command: "/srv/net.sh" }] }), "scripts");
 * await input.start(ctx);
 * ```
 */
export const scripts: InputPlugin<typeof schema> = {
  type: "scripts",
  schema,
  example,
  create: createScriptsInput,
  preflight: scriptsPreflight,
};

/**
 * Creates a scripts input; it runs nothing until `start()`.
 *
 * @param config The validated config.
 * @param id The component id.
 * @returns The input.
 */
function createScriptsInput(config: ScriptsConfig, id: string): ScriptsInput {
  return new ScriptsInput(config, id);
}
