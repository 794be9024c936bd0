/**
 * The processes a script run left behind, found through Linux `/proc`: the second net under the
 * process-group kill.
 *
 * A script runs as the leader of its own session and process group, so `kill(-pid)` reaches everything
 * it forks, except processes that moved to another group (`setpgid`) or session (`setsid`, daemons).
 * Those are still its descendants by parent pid as long as the chain is unbroken, so the sandbox
 * snapshots the tree (before it signals anything: once the leader dies its children are re-parented to
 * init and the chain is gone) and signals each member one by one, checking each one's start time first
 * so that a pid reused by an unrelated process is never hit.
 *
 * `proc(5)`: `/proc/[pid]/stat` fields 3 (state), 4 (ppid), 5 (pgrp), 6 (session) and 22 (starttime,
 * clock ticks since boot). The command name (field 2) may hold spaces and parentheses, so fields are
 * read after the last `)`.
 *
 * @module
 */

import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** One process as `/proc/[pid]/stat` shows it. */
export interface ProcStat {
  /** The process id. */
  readonly pid: number;
  /** The parent's process id. */
  readonly ppid: number;
  /** The process group id. */
  readonly pgid: number;
  /** The session id. */
  readonly sid: number;
  /** The state letter (`R`, `S`, `D`, `Z`, …). */
  readonly state: string;
  /** The start time in clock ticks since boot: with the pid, the identity of the process. */
  readonly startTime: string;
}

const PID_REGEXP = /^\d+$/;

/**
 * Reads one process's stat line.
 *
 * @param pid The process id.
 * @returns The parsed fields, or `undefined` when the process is gone or `/proc` is absent.
 */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const startTime = fields[19];
  if (startTime === undefined) return undefined;
  return {
    pid,
    state: fields[0] ?? "",
    ppid: Number(fields[1]),
    pgid: Number(fields[2]),
    sid: Number(fields[3]),
    startTime,
  };
}

/**
 * Finds every live (non-zombie) process that descends from `root` by parent pid, or that sits in the
 * process group or session of `root` or of one of those descendants.
 *
 * @param root The script's pid (its group and session id too).
 * @returns The processes, `root` excluded; empty when `/proc` is not there (not Linux).
 */
export function findLeftovers(root: number): ProcStat[] {
  let names: string[];
  try {
    names = readdirSync("/proc");
  } catch {
    return [];
  }
  const all: ProcStat[] = [];
  for (const name of names) {
    if (!PID_REGEXP.test(name)) continue;
    const stat = readProcStat(Number(name));
    if (stat !== undefined) all.push(stat);
  }
  const children = new Map<number, ProcStat[]>();
  for (const stat of all) {
    const siblings = children.get(stat.ppid);
    if (siblings === undefined) children.set(stat.ppid, [stat]);
    else siblings.push(stat);
  }
  const found = new Map<number, ProcStat>();
  const groups = new Set<number>([root]);
  const stack = [root];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    for (const child of children.get(pid) ?? []) {
      if (found.has(child.pid)) continue;
      found.set(child.pid, child);
      groups.add(child.pgid);
      groups.add(child.sid);
      stack.push(child.pid);
    }
  }
  // Orphans re-parented to init keep their group and session: catch those of the tree's groups/sessions.
  for (const stat of all) {
    if (stat.pid !== root && !found.has(stat.pid) && (groups.has(stat.pgid) || groups.has(stat.sid))) {
      found.set(stat.pid, stat);
    }
  }
  // A script's tree lives in sessions of its own: never touch init, the collector or its session.
  const ownSid = readProcStat(process.pid)?.sid;
  return [...found.values()].filter((stat) =>
    stat.state !== "Z" && stat.pid > 1 && stat.pid !== process.pid && stat.sid !== ownSid
  );
}

/**
 * Sends `signal` to each process unless its pid now belongs to another process (start time changed).
 *
 * @param processes Processes found by {@link findLeftovers}.
 * @param signal The signal.
 * @returns How many were signalled.
 */
export function signalEach(processes: readonly ProcStat[], signal: NodeJS.Signals): number {
  let sent = 0;
  for (const stat of processes) {
    const now = readProcStat(stat.pid);
    if (now === undefined || now.startTime !== stat.startTime || now.state === "Z") continue;
    try {
      process.kill(stat.pid, signal);
      sent++;
    } catch {
      // Gone between the check and the kill: nothing left to do.
    }
  }
  return sent;
}

/** A process that holds a pipe open, as `/proc/[pid]/comm` names it. */
export interface PipeHolder {
  /** The process id. */
  readonly pid: number;
  /** The command name (`comm`, at most 15 characters), or `""` when it could not be read. */
  readonly command: string;
}

// Deno gives a child pipes for stdio, Bun a socketpair: either is "the run's output" here.
const OUTPUT_LINK_REGEXP = /^(?:pipe|socket):\[\d+\]$/;

/**
 * Finds the live processes of one run that still hold an output pipe (stdout or stderr a pipe or socket),
 * by the run's marker in their environment: unlike parent links, sessions and groups, a daemon keeps its
 * environment through a double fork, so this finds what keeps a run's output open after the script exited.
 *
 * @param marker The run's `NAME=value` environment entry (see `RUN_MARKER` in the sandbox).
 * @returns The holders, tally itself excluded; empty when there are none or `/proc` is not readable.
 */
export function findPipeHolders(marker: string): PipeHolder[] {
  const holders: PipeHolder[] = [];
  let names: string[];
  try {
    names = readdirSync("/proc");
  } catch {
    return [];
  }
  for (const name of names) {
    if (!PID_REGEXP.test(name) || Number(name) === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${name}/environ`, "latin1");
    } catch {
      continue; // Gone, or not ours to read.
    }
    if (!environ.split("\0").includes(marker)) continue;
    if (![1, 2].some((fd) => OUTPUT_LINK_REGEXP.test(readLink(`/proc/${name}/fd/${fd}`)))) continue;
    let command = "";
    try {
      command = readFileSync(`/proc/${name}/comm`, "utf8").trimEnd();
    } catch {
      // Exited while we looked: still name its pid.
    }
    holders.push({ pid: Number(name), command });
  }
  return holders;
}

function readLink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return "";
  }
}
