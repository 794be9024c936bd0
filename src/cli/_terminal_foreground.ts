/**
 * Whether this process runs in the foreground process group of a terminal, read from `/proc/self/stat`.
 *
 * `tally wrap` needs it: in a terminal's foreground, Ctrl-C and Ctrl-\ already send SIGINT and SIGQUIT to
 * the whole group, the wrapped command included, so forwarding them again would deliver them twice (and a
 * command that takes a second Ctrl-C as "stop now" would skip its clean shutdown).
 *
 * @module
 * @see https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html
 */

import { readFileSync } from "node:fs";

/**
 * Reads the answer from a `/proc/PID/stat` line: field 5 `pgrp`, field 7 `tty_nr` (0 without a controlling
 * terminal) and field 8 `tpgid` (the terminal's foreground process group).
 *
 * @param stat The line; the command name in parentheses may hold spaces and parentheses itself.
 * @returns Whether the process has a terminal and its group is that terminal's foreground group, or
 *   `undefined` when the line cannot be read.
 */
export function foregroundOfTerminal(stat: string): boolean | undefined {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state).
  const pgrp = Number(fields[2]);
  const ttyNr = Number(fields[4]);
  const tpgid = Number(fields[5]);
  if (!Number.isInteger(pgrp) || !Number.isInteger(ttyNr) || !Number.isInteger(tpgid)) return undefined;
  return ttyNr !== 0 && tpgid === pgrp;
}

/**
 * Tells whether this process is in its terminal's foreground process group now.
 *
 * @returns The answer; `false` where `/proc` cannot be read (then signals are forwarded, as elsewhere).
 */
export function inTerminalForeground(): boolean {
  try {
    return foregroundOfTerminal(readFileSync("/proc/self/stat", "utf8")) ?? false;
  } catch {
    return false;
  }
}
