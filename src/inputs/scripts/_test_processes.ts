/**
 * Test helpers: is a process still running, and what is left of a script's session, read from `/proc`.
 *
 * A killed orphan stays a zombie until init reaps it (and some container inits never do), so "gone"
 * means gone or a zombie: a zombie runs nothing and holds nothing but its pid.
 *
 * @module
 */

import { readdirSync } from "node:fs";
import { readProcStat } from "./_proc_tree.ts";

/**
 * The absolute path of a testdata script.
 *
 * @param name The file name, e.g. `flood.sh`.
 * @returns The path, e.g. `/…/src/inputs/scripts/testdata/flood.sh`.
 */
export function testdata(name: string): string {
  return new URL(`./testdata/${name}`, import.meta.url).pathname;
}

/**
 * Whether `pid` is a running (non-zombie) process.
 *
 * @param pid The process id.
 * @returns True when it exists and is not a zombie.
 */
export function isRunning(pid: number): boolean {
  const stat = readProcStat(pid);
  return stat !== undefined && stat.state !== "Z";
}

/**
 * The running processes whose process group or session is `id` (a script's pid).
 *
 * @param id The group/session id.
 * @returns Their pids.
 */
export function runningInGroupOrSession(id: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProcStat(Number(name));
    if (stat !== undefined && stat.state !== "Z" && (stat.pgid === id || stat.sid === id)) {
      pids.push(stat.pid);
    }
  }
  return pids;
}

/**
 * The `PID <n>` lines a testdata script printed.
 *
 * @param stdout The script's output.
 * @returns The pids, in order.
 */
export function printedPids(stdout: Uint8Array): number[] {
  return [...new TextDecoder().decode(stdout).matchAll(/^PID (\d+)$/gm)].map((m) => Number(m[1]));
}
