/**
 * Linux's per-socket UDP counters from `/proc/net/udp` and `/proc/net/udp6`: how many datagrams the
 * kernel dropped because a socket's receive buffer was full, and how many bytes wait in it.
 *
 * Format (one socket per line after a header; see `udp4_format_sock` in `net/ipv4/udp.c`):
 * `sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ref pointer drops`,
 * addresses as `HEXADDR:HEXPORT`, queues in hex, inode and drops in decimal.
 *
 * @module
 */

import { readdir, readFile, readlink } from "node:fs/promises";

/** One UDP socket's counters. */
export interface UdpSocketCounters {
  /** The datagrams the kernel dropped for this socket since it was created (receive buffer full). */
  readonly drops: number;
  /** The bytes queued in the receive buffer, waiting to be read. */
  readonly rxQueue: number;
  /** The local port the socket is bound to. */
  readonly localPort: number;
}

/** The files listing UDP sockets, by address family. */
export const PROC_NET_UDP = { udp4: "/proc/net/udp", udp6: "/proc/net/udp6" } as const;

const WHITESPACE_REGEXP = /\s+/;
const SOCKET_LINK_REGEXP = /^socket:\[(\d+)\]$/;
// Column indexes after splitting a line on whitespace.
const LOCAL_ADDRESS = 1;
const QUEUES = 4;
const INODE = 9;
const DROPS = 12;

/**
 * Parses the text of `/proc/net/udp` or `/proc/net/udp6`.
 *
 * Lines that do not parse are skipped, and so are sockets with inode 0 (not attached to a file).
 * Kernels before 2.6.27 have no `drops` column; their drops read as 0.
 *
 * @param text The file's text, header included.
 * @returns The sockets by inode.
 * @example
 * ```ts
 * parseProcNetUdp(text).get(30454); // { drops: 48, rxQueue: 1664, localPort: 8125 }
 * ```
 */
export function parseProcNetUdp(text: string): Map<number, UdpSocketCounters> {
  const sockets = new Map<number, UdpSocketCounters>();
  const lines = text.split("\n");
  // The first line is the header.
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    const fields = line.split(WHITESPACE_REGEXP);
    const local = fields[LOCAL_ADDRESS] ?? "";
    const queues = fields[QUEUES] ?? "";
    const localPort = Number.parseInt(local.slice(local.lastIndexOf(":") + 1), 16);
    const rxQueue = Number.parseInt(queues.slice(queues.indexOf(":") + 1), 16);
    const inode = Number(fields[INODE]);
    const drops = fields[DROPS] === undefined ? 0 : Number(fields[DROPS]);
    if (!local.includes(":") || !queues.includes(":")) continue;
    if (!Number.isSafeInteger(inode) || inode <= 0 || Number.isNaN(localPort) || Number.isNaN(rxQueue)) {
      continue;
    }
    if (!Number.isSafeInteger(drops)) continue;
    sockets.set(inode, { drops, rxQueue, localPort });
  }
  return sockets;
}

/**
 * Reads and parses one of {@link PROC_NET_UDP}.
 *
 * @param path The file, `/proc/net/udp` or `/proc/net/udp6`.
 * @returns The sockets by inode, or `undefined` when the file cannot be read (not Linux, no procfs).
 */
export async function readProcNetUdp(path: string): Promise<Map<number, UdpSocketCounters> | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  return parseProcNetUdp(text);
}

/**
 * Lists the inodes of the sockets this process holds open, from the `socket:[INODE]` links in
 * `/proc/self/fd`. It tells our socket apart from another process's on the same port (possible with
 * `SO_REUSEPORT`, or across address families).
 *
 * @param fdDir The fd directory; `/proc/self/fd` unless testing.
 * @returns The inodes, or `undefined` when the directory cannot be read.
 */
export async function readSocketInodes(fdDir = "/proc/self/fd"): Promise<Set<number> | undefined> {
  let names: string[];
  try {
    names = await readdir(fdDir);
  } catch {
    return undefined;
  }
  const links = await Promise.all(names.map((name) => readlink(`${fdDir}/${name}`).catch(() => "")));
  const inodes = new Set<number>();
  for (const link of links) {
    const m = SOCKET_LINK_REGEXP.exec(link);
    if (m !== null) inodes.add(Number(m[1]));
  }
  return inodes;
}
