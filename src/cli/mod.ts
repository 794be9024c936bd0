/**
 * The `tally` command line: picks the command and hands it the rest of the arguments.
 *
 * Commands are imported when they run, so `tally version` or `tally config check` do not load the
 * store, the HTTP server or the pipeline.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { CliIo } from "./cli_io.ts";

/** A command: the arguments after its name in, an exit code out. */
type Command = (args: readonly string[], io: CliIo) => Promise<number>;

const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  run: async () => (await import("./run.ts")).run,
  config: async () => (await import("./config.ts")).config,
  query: async () => (await import("./query.ts")).query,
  push: async () => (await import("./push.ts")).push,
  event: async () => (await import("./event.ts")).event,
  wrap: async () => (await import("./wrap.ts")).wrap,
  script: async () => (await import("./script.ts")).script,
  version: async () => (await import("./version.ts")).version,
};

const USAGE = `Usage: tally COMMAND [options]

Commands:
  run                       run the collector (embedded defaults without --config)
  config check FILE         validate a config file
  config example [PLUGIN]   print a complete, commented config (or one input's table)
  query NAME [--since 1h]   print the latest values of stored series
  push NAME=VALUE[,L=V]...  send metrics to the running agent; --stdin reads statsd, influx, json
                            or CoScale "data insert" lines
  event MESSAGE             send an event (--start -300 --end 0 --attr k=v)
  wrap [--name N] -- CMD    run a command; send its duration, exit code and an event spanning it
  script check CMDLINE      run a script once (-c, -d) and show its definitions, values and problems
  script run CMDLINE        run a script once and print the samples and events it would send
  version                   print the version, the commit and target it was built from, the runtime
  help [COMMAND]            show this help, or a command's

Options:
  -h, --help                show this help
      --version             same as "tally version"

Run "tally COMMAND --help" for a command's options. Exit codes: 0 ok, 1 runtime failure,
2 usage or config error.
`;

/**
 * Runs the command line.
 *
 * @param argv The arguments after the executable (`process.argv.slice(2)`).
 * @param io Output streams, environment, working directory and the shutdown signal.
 * @returns The exit code: 0 ok, 1 runtime failure, 2 usage or config error.
 * @throws {Error} Whatever a command did not handle; `main.ts` reports it and exits 1.
 * @example
 * ```ts
 * const code = await cli(["config", "check", "tally.toml"], io);
 * ```
 */
export async function cli(argv: readonly string[], io: CliIo): Promise<number> {
  const at = argv.findIndex((arg) => !arg.startsWith("-"));
  const leading = at < 0 ? argv : argv.slice(0, at);
  let flags: { help?: boolean | undefined; version?: boolean | undefined };
  try {
    flags = parseArgs({
      args: [...leading],
      options: { help: { type: "boolean", short: "h" }, version: { type: "boolean" } },
    }).values;
  } catch (error) {
    return usageError((error as Error).message, io);
  }
  if (flags.help === true) {
    io.stdout(USAGE);
    return 0;
  }
  if (flags.version === true) return await dispatch("version", [], io);
  if (at < 0) return usageError("Expected a command", io);

  const name = argv[at] ?? "";
  const rest = argv.slice(at + 1);
  if (name === "help") {
    const [topic, ...extra] = rest;
    if (topic === undefined) {
      io.stdout(USAGE);
      return 0;
    }
    if (extra.length > 0 || !isCommand(topic)) {
      return usageError(`Unknown help topic "${rest.join(" ")}"`, io);
    }
    return await dispatch(topic, ["--help"], io);
  }
  if (!isCommand(name)) return usageError(`Unknown command "${name}"`, io);
  return await dispatch(name, rest, io);
}

async function dispatch(name: string, args: readonly string[], io: CliIo): Promise<number> {
  const load = COMMANDS[name];
  if (load === undefined) return usageError(`Unknown command "${name}"`, io);
  const command = await load();
  return await command(args, io);
}

function isCommand(name: string): boolean {
  return Object.hasOwn(COMMANDS, name);
}

function usageError(message: string, io: CliIo): number {
  io.stderr(`${message}\n\n${USAGE}`);
  return 2;
}
