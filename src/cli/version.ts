/**
 * `tally version`: the version, the commit and target it was built from and for, and the runtime.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { CliIo } from "./cli_io.ts";
import { VERSION } from "../internal/version.ts";

/**
 * Stamped in by the build (`build/build_info.ts` passes them as `define`s): replaced by string literals in
 * `dist/tally*` and `dist/tally.mjs`, absent when tally runs from source.
 */
declare const TALLY_BUILD_COMMIT: string | undefined;
declare const TALLY_BUILD_TARGET: string | undefined;

const USAGE = `Usage: tally version

Prints tally's version, the commit and target it was built from and for, and the runtime with the
platform it runs on, e.g.
  tally ${VERSION} (commit 1a2b3c4d5e6f, target linux-x64-musl, bun 1.4.5 on linux/x64)

A build from a tree without git metadata says "commit unknown"; running from source says "target source".

Options:
  -h, --help   show this help
`;

/** Where a build came from. */
export interface BuildStamp {
  /** The commit, `unknown` when the build had no git metadata or tally runs from source. */
  readonly commit: string;
  /** The build target (`linux-x64`, `bundle`, …), `source` when tally runs from source. */
  readonly target: string;
}

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
 * The commit and target stamped in by the build.
 *
 * @returns The stamp; `unknown` and `source` when nothing was stamped.
 */
export function buildStamp(): BuildStamp {
  return {
    commit: typeof TALLY_BUILD_COMMIT === "string" ? TALLY_BUILD_COMMIT : "unknown",
    target: typeof TALLY_BUILD_TARGET === "string" ? TALLY_BUILD_TARGET : "source",
  };
}

/**
 * The version line: `tally <version> (commit <commit>, target <target>, <runtime> <version> on <os>/<arch>)`.
 * Installers read the version as the second word.
 *
 * @param stamp The build stamp, {@link buildStamp}'s by default.
 * @returns The line, without a newline.
 */
export function versionLine(stamp: BuildStamp = buildStamp()): string {
  const versions: Readonly<Record<string, string | undefined>> = process.versions;
  const [runtime, runtimeVersion] = versions["bun"] !== undefined
    ? ["bun", versions["bun"]]
    : versions["deno"] !== undefined
    ? ["deno", versions["deno"]]
    : ["node", versions["node"] ?? "unknown"];
  return `tally ${VERSION} (commit ${stamp.commit}, target ${stamp.target}, ${runtime} ${runtimeVersion} on ${process.platform}/${process.arch})`;
}
