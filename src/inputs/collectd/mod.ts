/**
 * The `collectd` input plugin: collectd's binary network protocol over UDP, plain, signed or encrypted.
 *
 * @module
 */

import { defaultTypesDb } from "../../formats/_load_types_db.ts";
import type { InputPlugin, PreflightProblem } from "../input.ts";
import { AuthFile } from "./auth_file.ts";
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
  preflight: collectdPreflight,
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

/**
 * Reads the auth file and each types.db file the way `start()` does, so a missing or unreadable one fails
 * `tally config check` too.
 *
 * @param config The validated config.
 * @returns One problem per file that cannot be read.
 */
function collectdPreflight(config: CollectdConfig): Promise<readonly PreflightProblem[]> {
  const problems: PreflightProblem[] = [];
  if (config.auth_file !== undefined) {
    try {
      new AuthFile(config.auth_file);
    } catch (error) {
      problems.push({ path: ["auth_file"], text: (error as Error).message });
    }
  }
  (config.types_db ?? []).forEach((path, index) => {
    try {
      defaultTypesDb([path]);
    } catch (error) {
      problems.push({ path: ["types_db", index], text: (error as Error).message });
    }
  });
  return Promise.resolve(problems);
}
