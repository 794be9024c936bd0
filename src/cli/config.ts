/**
 * `tally config check FILE` and `tally config example [PLUGIN]`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { formatDuration } from "../config/duration.ts";
import { exampleConfig, unknownPluginMessage } from "../config/example.ts";
import { ConfigError, loadConfig } from "../config/load.ts";
import { keyPath } from "../config/config_error.ts";
import type { ConfigIssue } from "../config/config_error.ts";
import type { InputPlugin } from "../inputs/input.ts";
import { INPUTS } from "../inputs/registry.ts";
import { OUTPUTS } from "../outputs/registry.ts";
import type { CliIo } from "./cli_io.ts";
import { type Config, PLUGINS } from "./_plugins.ts";

const USAGE = `Usage: tally config check FILE
       tally config example [PLUGIN]

  check FILE         validates FILE as "tally run --config FILE" would; exit 0 when valid, 2 when not
  example [PLUGIN]   prints a complete, commented config with the defaults, or only the table of
                     PLUGIN: an input (${Object.keys(INPUTS).join(", ")})
                     or an output (${Object.keys(OUTPUTS).join(", ")})

Options:
  -h, --help         show this help
`;

/**
 * Runs `tally config`.
 *
 * @param args The arguments after `config`.
 * @param io Output streams and the working directory FILE resolves against.
 * @returns 0 when the file is valid or the example was printed, 2 on a usage or config error.
 */
export function config(args: readonly string[], io: CliIo): Promise<number> {
  return runConfig(args, io);
}

async function runConfig(args: readonly string[], io: CliIo): Promise<number> {
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args: [...args],
      options: { help: { type: "boolean", short: "h" } },
      allowPositionals: true,
    });
    if (parsed.values.help === true) {
      io.stdout(USAGE);
      return 0;
    }
    positionals = parsed.positionals;
  } catch (error) {
    return usageError((error as Error).message, io);
  }
  const [action, ...rest] = positionals;
  switch (action) {
    case "check":
      if (rest.length !== 1 || rest[0] === undefined) return usageError("Expected exactly one FILE", io);
      return await check(rest[0], io);
    case "example":
      if (rest.length > 1) return usageError(`Expected at most one PLUGIN, found ${rest.length}`, io);
      return example(rest[0], io);
    case undefined:
      return usageError("Expected an action: check or example", io);
    default:
      return usageError(`Unknown config action "${action}"`, io);
  }
}

async function check(file: string, io: CliIo): Promise<number> {
  let loaded: Config;
  try {
    loaded = loadConfig(file, { ...PLUGINS, cwd: io.cwd });
    await preflight(file, loaded);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`${error.message}\n`);
    return 2;
  }
  io.stdout(`Config "${file}" is valid: ${summary(loaded)}\n`);
  return 0;
}

/** Runs every input's preflight, so files and commands a start needs are checked as `run` will find them. */
async function preflight(file: string, loaded: Config): Promise<void> {
  const issues: ConfigIssue[] = [];
  for (const [id, input] of Object.entries(loaded.inputs)) {
    const plugin: InputPlugin = INPUTS[input.type];
    for (const problem of await plugin.preflight?.(input) ?? []) {
      const path = ["inputs", id, ...problem.path];
      issues.push({ path, where: keyPath(path), text: problem.text });
    }
  }
  if (issues.length > 0) throw ConfigError.fromIssues(file, issues);
}

/** One line about what the config would run, e.g. `1 input (statsd: udp:127.0.0.1:8125), http …`. */
function summary(loaded: Config): string {
  const inputs = Object.entries(loaded.inputs).map(([id, input]) => {
    const plugin: InputPlugin = INPUTS[input.type];
    const name = id === input.type ? id : `${id} (${input.type})`;
    const resources = plugin.resources?.(input) ?? [];
    return resources.length === 0 ? name : `${name}: ${resources.join(", ")}`;
  });
  const count = `${inputs.length} input${inputs.length === 1 ? "" : "s"}`;
  const outputs = Object.entries(loaded.outputs).map(([id, output]) => {
    const name = id === output.type ? id : `${id} (${output.type})`;
    return `${name}: ${output.url}`;
  });
  const outputText = outputs.length === 0
    ? ""
    : `, ${outputs.length} output${outputs.length === 1 ? "" : "s"} (${outputs.join("; ")})`;
  const { hostname, port } = loaded.http.listen;
  const http = `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
  return `${count}${inputs.length === 0 ? "" : ` (${inputs.join("; ")})`}${outputText}, http ${http}, ` +
    `data dir ${loaded.agent.data_dir}, flush every ${formatDuration(loaded.agent.flush_interval)}`;
}

function example(plugin: string | undefined, io: CliIo): number {
  if (plugin !== undefined && !Object.hasOwn(INPUTS, plugin) && !Object.hasOwn(OUTPUTS, plugin)) {
    return usageError(unknownPluginMessage(plugin, PLUGINS), io);
  }
  io.stdout(exampleConfig(plugin, PLUGINS));
  return 0;
}

function usageError(message: string, io: CliIo): number {
  io.stderr(`${message}\n\n${USAGE}`);
  return 2;
}
