/**
 * What a build stamps into tally for `tally version`: the commit it was built from and the target it was
 * built for, passed to the bundler as `define`s (`src/cli/version.ts` reads them).
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { resolve } from "node:path";

/** The commit and target of one build. */
export interface BuildInfo {
  /** The commit, e.g. `1a2b3c4d5e6f`, `1a2b3c4d5e6f-dirty`, or `unknown` outside a git checkout. */
  readonly commit: string;
  /** The target, e.g. `linux-x64-musl`, or `bundle` for the esbuild bundle. */
  readonly target: string;
}

/** How many hex digits of the commit hash a build keeps. */
const COMMIT_DIGITS = 12;

/**
 * Reads the commit `root` is checked out at. `TALLY_BUILD_COMMIT` in the environment wins (a release
 * pipeline building from a tarball sets it); a checkout with uncommitted changes to tracked files gets
 * `-dirty`. A tree without git metadata (an exported tarball, or git not installed) builds as `unknown`,
 * and so does a tree that is only a folder inside some other repository: that repository's commit would
 * be a lie.
 *
 * @param root The project root.
 * @param env The environment, the process's by default.
 * @returns The commit, `…-dirty`, or `unknown`.
 */
export function buildCommit(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env["TALLY_BUILD_COMMIT"]?.trim();
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const top = git(root, ["rev-parse", "--show-toplevel"]);
  if (top === undefined || canonical(top) !== canonical(root)) return "unknown";
  const hash = git(root, ["rev-parse", `--short=${COMMIT_DIGITS}`, "HEAD"]);
  if (hash === undefined) return "unknown";
  const changes = git(root, ["status", "--porcelain", "--untracked-files=no"]);
  return changes === undefined || changes === "" ? hash : `${hash}-dirty`;
}

/**
 * The `define`s that stamp `info` into the code: identifiers replaced by string literals.
 *
 * @param info The commit and target.
 * @returns `TALLY_BUILD_COMMIT` and `TALLY_BUILD_TARGET`, each a JSON string literal.
 */
export function buildDefines(info: BuildInfo): Readonly<Record<string, string>> {
  return {
    TALLY_BUILD_COMMIT: JSON.stringify(info.commit),
    TALLY_BUILD_TARGET: JSON.stringify(info.target),
  };
}

function git(cwd: string, args: readonly string[]): string | undefined {
  const result = spawnSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function canonical(path: string): string {
  try {
    return realpathSync(resolve(path));
  } catch {
    return resolve(path);
  }
}
