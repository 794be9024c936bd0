/**
 * `tally config check` for the scripts input: each script's command must be an executable file in its
 * `PATH`, and an interpreter's script argument a readable file, as a run would find them.
 *
 * @module
 */

import { constants as fsConstants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import type { PreflightProblem } from "../input.ts";
import { INTERPRETER_REGEXP } from "./config.ts";
import type { ScriptsConfig } from "./config.ts";
import { DEFAULT_PATH, resolveCommand, SpawnError } from "./sandbox.ts";

/**
 * Checks every script's command (and an interpreter's script file) on this machine.
 *
 * @param config The validated scripts input config.
 * @returns One problem per script whose command or script file cannot be found or read, at
 *   `scripts[i].command`.
 */
export async function scriptsPreflight(config: ScriptsConfig): Promise<readonly PreflightProblem[]> {
  const problems: PreflightProblem[] = [];
  for (const [index, script] of config.scripts.entries()) {
    const path = ["scripts", index, "command"];
    const cwd = resolve(script.cwd ?? process.cwd());
    const env = { ...config.env, ...script.env };
    let found: string;
    try {
      found = await resolveCommand(script.command, env["PATH"] ?? DEFAULT_PATH, cwd);
    } catch (error) {
      if (!(error instanceof SpawnError)) throw error;
      problems.push({ path, text: error.message });
      continue;
    }
    // A command given as a path is taken as it is by the lookup (the spawn reports it): check it here.
    const why = await notExecutable(found);
    if (why !== undefined) {
      problems.push({
        path,
        text: `Cannot run ${JSON.stringify(script.command.join(" "))}: "${found}" ${why}`,
      });
      continue;
    }
    const command = script.command[0] ?? "";
    if (!INTERPRETER_REGEXP.test(command.slice(command.lastIndexOf("/") + 1))) continue;
    const file = script.command.slice(1).find((arg) => !arg.startsWith("-"));
    // `sh -c 'code'` carries inline code: only a path-like argument names a script file.
    if (file === undefined || !file.includes("/")) continue;
    const full = isAbsolute(file) ? file : resolve(cwd, file);
    try {
      await access(full, fsConstants.R_OK);
    } catch {
      problems.push({
        path,
        text: `cannot read the script file "${full}" that ${JSON.stringify(command)} runs`,
      });
    }
  }
  return problems;
}

async function notExecutable(file: string): Promise<string | undefined> {
  let info;
  try {
    info = await stat(file);
  } catch {
    return "does not exist";
  }
  if (!info.isFile()) return "is not a file";
  try {
    await access(file, fsConstants.X_OK);
  } catch {
    return "is not executable";
  }
  return undefined;
}
