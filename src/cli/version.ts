/**
 * `tally version`: the version, the runtime and the platform.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { CliIo } from "./cli_io.ts";

/** tally's version; a test keeps it equal to `package.json`'s. */
export const VERSION = "0.1.0";

const USAGE = `Usage: tally version

Prints tally's version, the runtime it runs on and the platform, e.g.
  tally ${VERSION} (bun 1.4.5, linux/x64)

Options:
  -h, --help   show this help
`;

/**
 * Runs `tally version`.
 *
 * @param args The arguments after `version`.
 * @param io Output streams.
 * @returns 0, or 2 on a usage error.
 */
export function version(args: readonly string[], io: CliIo): Promise<number> {
  let help: boolean | undefined;
  try {
    help = parseArgs({ args: [...args], options: { help: { type: "boolean", short: "h" } } }).values.help;
  } catch (error) {
    io.stderr(`${(error as Error).message}\n\n${USAGE}`);
    return Promise.resolve(2);
  }
  io.stdout(help === true ? USAGE : `${versionLine()}\n`);
  return Promise.resolve(0);
}

/**
 * The version line: `tally <version> (<runtime> <runtime version>, <os>/<arch>)`.
 *
 * @returns The line, without a newline.
 */
export function versionLine(): string {
  const versions: Readonly<Record<string, string | undefined>> = process.versions;
  const [runtime, runtimeVersion] = versions["bun"] !== undefined
    ? ["bun", versions["bun"]]
    : versions["deno"] !== undefined
    ? ["deno", versions["deno"]]
    : ["node", versions["node"] ?? "unknown"];
  return `tally ${VERSION} (${runtime} ${runtimeVersion}, ${process.platform}/${process.arch})`;
}
