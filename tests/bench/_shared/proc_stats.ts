/**
 * Reads what the benchmark measures about a receiver from Linux `/proc`: resident memory and CPU time of
 * its process tree (`/proc/PID/status`, `/proc/PID/stat`), the state of its UDP socket (`/proc/net/udp`:
 * bound or not, kernel drops, receive queue), and how busy the whole machine is (`/proc/stat`).
 *
 * @module
 * @see https://www.kernel.org/doc/html/latest/filesystems/proc.html
 */
import { readdirSync, readFileSync } from "node:fs";

/** Resident memory of a process tree, in bytes. */
export interface TreeMemory {
  /** The sum of `VmRSS` over the tree. */
  readonly rssBytes: number;
  /** The sum of `VmHWM` (peak RSS over each process's life) over the tree. */
  readonly hwmBytes: number;
  /** The processes read. */
  readonly pids: readonly number[];
}

/** The kernel's view of the UDP sockets bound to one local port. */
export interface UdpPortState {
  /** Whether any socket is bound to the port. */
  readonly bound: boolean;
  /** Datagrams the kernel dropped on these sockets (receive buffer full), summed. */
  readonly drops: number;
  /** Bytes waiting in the receive queues, summed. */
  readonly rxQueueBytes: number;
}

/** The machine's CPU time so far, from the first line of `/proc/stat`, in clock ticks. */
export interface MachineCpu {
  /** Ticks spent on anything but idle and iowait, over all CPUs. */
  readonly busy: number;
  /** All ticks, over all CPUs. */
  readonly total: number;
}

/** Clock ticks per second (`getconf CLK_TCK`, also the unit of `/proc/stat`), 100 on every Linux. */
export const CLOCK_TICKS_PER_SECOND = 100;
const STATUS_KB_REGEXP = /^(VmRSS|VmHWM):\s+(\d+)\s+kB$/gm;

/**
 * Lists `pid` and its descendants, by scanning `/proc/*\/stat` for parent ids.
 *
 * @param pid The root process.
 * @returns The root first, then its descendants.
 */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    const child = Number(entry);
    if (!Number.isInteger(child)) continue;
    const parent = parentOf(child);
    if (parent === undefined) continue;
    const list = children.get(parent);
    if (list === undefined) children.set(parent, [child]);
    else list.push(child);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) {
    for (const child of children.get(tree[i] ?? -1) ?? []) tree.push(child);
  }
  return tree;
}

/**
 * Sums `VmRSS` and `VmHWM` over `pids`; processes that are gone count zero.
 *
 * @param pids The processes, usually from {@link processTree}.
 * @returns The sums.
 */
export function treeMemory(pids: readonly number[]): TreeMemory {
  let rssBytes = 0;
  let hwmBytes = 0;
  for (const pid of pids) {
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, "utf8");
    } catch {
      continue;
    }
    for (const match of status.matchAll(STATUS_KB_REGEXP)) {
      const bytes = Number(match[2]) * 1024;
      if (match[1] === "VmRSS") rssBytes += bytes;
      else hwmBytes += bytes;
    }
  }
  return { rssBytes, hwmBytes, pids };
}

/**
 * Reads `/proc/net/udp` for sockets bound to local `port` (any address); several sockets (SO_REUSEPORT)
 * are summed.
 *
 * @param port The local UDP port.
 * @returns Whether it is bound, its kernel drops and its receive queue.
 */
export function udpPortState(port: number): UdpPortState {
  const wanted = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  let bound = false;
  let drops = 0;
  let rxQueueBytes = 0;
  const lines = readFileSync("/proc/net/udp", "utf8").split("\n");
  for (let i = 1; i < lines.length; i++) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops
    const fields = (lines[i] ?? "").trim().split(/\s+/);
    if (!(fields[1] ?? "").endsWith(wanted)) continue;
    bound = true;
    rxQueueBytes += Number.parseInt((fields[4] ?? "0:0").split(":")[1] ?? "0", 16);
    drops += Number(fields[12] ?? 0);
  }
  return { bound, drops, rxQueueBytes };
}

/**
 * Reads the machine's CPU counters; the busy share between two readings is
 * `(b.busy − a.busy) / (b.total − a.total)`, a fraction of all CPUs.
 *
 * @returns Busy and total ticks since boot.
 */
export function machineCpu(): MachineCpu {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
  // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest is already in user)
  const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((sum, value) => sum + value, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: total - idle, total };
}

/**
 * The busy share of the machine between two readings.
 *
 * @param before The earlier reading.
 * @param after The later reading.
 * @returns A fraction of all CPUs, 0 when no time passed.
 */
export function busyShare(before: MachineCpu, after: MachineCpu): number {
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}

/**
 * Sums user and system CPU time over `pids` (all their threads); processes that are gone count zero.
 *
 * @param pids The processes.
 * @returns CPU seconds since each started.
 */
export function treeCpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    // Fields after "(comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(rest[11] ?? 0) + Number(rest[12] ?? 0);
  }
  return ticks / CLOCK_TICKS_PER_SECOND;
}

function parentOf(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const parent = Number(rest[1]);
  return Number.isInteger(parent) ? parent : undefined;
}
