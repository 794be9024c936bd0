/**
 * A set of bound UDP sockets for one input: binding with clear errors, the kernel receive buffer
 * (`SO_RCVBUF`, with a warning when the kernel caps it) and the datagrams the kernel dropped on a full
 * buffer, read from `/proc/net/udp*` every 5 s on Linux and counted as `dropped{reason="kernel"}`.
 *
 * Written for the collectd input, in the statsd input's manner, so that any UDP input can share it.
 *
 * @module
 */

import { createSocket } from "node:dgram";
import type { Socket as UdpSocket } from "node:dgram";
import { isIPv6 } from "node:net";
import { clearInterval, setInterval } from "node:timers";
import { formatListenAddress, parseListenAddress } from "../../config/address.ts";
import { PROC_NET_UDP, readProcNetUdp, readSocketInodes } from "../../internal/proc_net_udp.ts";
import type { InputContext } from "../input.ts";

/** How often the kernel's drop counters are read. */
const KERNEL_DROPS_EVERY_MS = 5_000;
/** How often a repeated socket error may be logged. */
const WARN_EVERY_MS = 60_000;

/** Reasons for errno codes seen when binding, phrased to end our sentence. */
const BIND_REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
};

/** Options of {@link UdpListeners}. */
export interface UdpListenersOptions {
  /** The input's type, for messages: `Cannot bind collectd listener "…": …`. */
  readonly component: string;
  /** `SO_RCVBUF` in bytes; 0 keeps the system default. */
  readonly readBuffer: number;
  /** Takes each datagram; the bytes are only valid during the call. */
  readonly onMessage: (bytes: Uint8Array) => void;
}

interface Listener {
  readonly family: keyof typeof PROC_NET_UDP;
  readonly socket: UdpSocket;
  /** The socket's inode, once found in `/proc/net/udp*`. */
  inode: number | undefined;
  /** The kernel's drop count at the last read. */
  lastDrops: number;
}

/**
 * The UDP sockets of one input: a resource; `close()` releases them.
 *
 * @example
 * ```ts
 * const udp = new UdpListeners(ctx, { component: "collectd", readBuffer: 8 << 20, onMessage });
 * await udp.bind("udp:127.0.0.1:25826");
 * udp.watchKernelDrops();
 * await udp.close();
 * ```
 */
export class UdpListeners {
  readonly #ctx: InputContext;
  readonly #options: UdpListenersOptions;
  readonly #listeners: Listener[] = [];
  readonly #bound: string[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #polling: Promise<number> | undefined;
  #kernelDrops = 0;

  /**
   * @param ctx The input's context: runtime, logger and counters.
   * @param options The component name, buffer size and datagram handler.
   */
  constructor(ctx: InputContext, options: UdpListenersOptions) {
    this.#ctx = ctx;
    this.#options = options;
  }

  /**
   * Binds one address.
   *
   * @param text A canonical `udp:HOST:PORT` address.
   * @returns Resolves once bound.
   * @throws {Error} `Cannot bind collectd listener "udp:127.0.0.1:25826": address already in use`, with the
   *   system error as `cause`.
   */
  async bind(text: string): Promise<void> {
    const address = parseListenAddress(text);
    const component = this.#options.component;
    if (address === undefined || address.transport !== "udp") {
      throw new Error(`Cannot bind ${component} listener ${JSON.stringify(text)}: not a UDP address`);
    }
    const ctx = this.#ctx;
    const family = isIPv6(address.host) ? "udp6" : "udp4";
    // Deno's node:dgram does not set SO_RCVBUF from `recvBufferSize`: it allocates a JS buffer of twice
    // that size for every datagram instead (Deno 2.9), so the option is left out there.
    const wanted = this.#options.readBuffer;
    const readBuffer = ctx.runtime.name === "deno" ? 0 : wanted;
    if (readBuffer !== wanted) {
      ctx.log.warn("read_buffer is not applied on Deno; UDP sockets keep the system's default buffer", {
        address: text,
        read_buffer: wanted,
      });
    }
    const socket = createSocket({
      type: family,
      reuseAddr: false,
      ...(readBuffer > 0 ? { recvBufferSize: readBuffer } : {}),
    });
    socket.on("message", this.#options.onMessage);
    await new Promise<void>((resolve, reject) => {
      function onBindError(error: Error): void {
        closeQuietly(socket);
        reject(bindError(component, text, error));
      }
      socket.once("error", onBindError);
      socket.bind({ port: address.port, address: address.host, exclusive: true }, function onUdpBound() {
        socket.off("error", onBindError);
        resolve();
      });
    });
    const socketErrors = ctx.stats.errors("socket");
    socket.on("error", function onUdpError(error: Error): void {
      socketErrors.add();
      ctx.log.every(`udp_error:${text}`, WARN_EVERY_MS, "UDP socket error", {
        address: text,
        error: error.message,
      });
    });
    this.#listeners.push({ family, socket, inode: undefined, lastDrops: 0 });
    const local = socket.address();
    const bound = formatListenAddress({ transport: "udp", host: local.address, port: local.port });
    this.#bound.push(bound);
    ctx.log.info("Listening", { address: text, ...(bound !== text ? { bound } : {}) });
    if (readBuffer > 0) warnIfCapped(ctx, text, socket, readBuffer);
  }

  /**
   * The addresses bound, with the port the system picked where the config said 0.
   *
   * @returns The addresses, e.g. `["udp:127.0.0.1:41234"]`.
   */
  addresses(): readonly string[] {
    return [...this.#bound];
  }

  /**
   * Finds the sockets in `/proc/net/udp*` and reads their drop counters every 5 s from now on.
   *
   * @returns Resolves once the sockets were looked up.
   */
  async watchKernelDrops(): Promise<void> {
    await this.#findInodes();
    const refresh = () => void this.refreshKernelDrops();
    this.#timer = setInterval(refresh, KERNEL_DROPS_EVERY_MS);
    this.#timer.unref();
  }

  /**
   * Reads the kernel's drop counters now and adds the new drops to `dropped{reason="kernel"}`.
   *
   * @returns The drops since the sockets were bound; 0 where there is no `/proc`.
   */
  refreshKernelDrops(): Promise<number> {
    this.#polling ??= this.#readKernelDrops().finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  /**
   * Reads the drop counters a last time and closes every socket.
   *
   * @returns Resolves when closed.
   */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#listeners.length > 0) await this.refreshKernelDrops();
    const closing = this.#listeners.map(({ socket }) =>
      new Promise<void>((resolve) => closeQuietly(socket, resolve))
    );
    this.#listeners.length = 0;
    this.#bound.length = 0;
    await Promise.all(closing);
  }

  /** Finds each socket's inode: its bound port in `/proc/net/udp*`, narrowed to this process's fds. */
  async #findInodes(): Promise<void> {
    const own = await readSocketInodes();
    for (const family of ["udp4", "udp6"] as const) {
      const listeners = this.#listeners.filter((l) => l.family === family);
      if (listeners.length === 0) continue;
      const sockets = await readProcNetUdp(PROC_NET_UDP[family]);
      if (sockets === undefined) continue;
      for (const listener of listeners) {
        const port = listener.socket.address().port;
        const candidates = [...sockets].filter(([inode, s]) =>
          s.localPort === port && (own === undefined || own.has(inode))
        );
        // Without /proc/self/fd only an unambiguous port match is trusted.
        if (candidates.length !== 1) continue;
        const [inode, counters] = candidates[0]!;
        listener.inode = inode;
        listener.lastDrops = counters.drops;
      }
    }
  }

  async #readKernelDrops(): Promise<number> {
    const cell = this.#ctx.stats.dropped("kernel");
    for (const family of ["udp4", "udp6"] as const) {
      const listeners = this.#listeners.filter((l) => l.family === family && l.inode !== undefined);
      if (listeners.length === 0) continue;
      const sockets = await readProcNetUdp(PROC_NET_UDP[family]);
      if (sockets === undefined) continue;
      for (const listener of listeners) {
        const counters = sockets.get(listener.inode!);
        if (counters === undefined) continue;
        const increase = counters.drops - listener.lastDrops;
        listener.lastDrops = counters.drops;
        if (increase <= 0) continue;
        this.#kernelDrops += increase;
        cell.add(increase);
      }
    }
    return this.#kernelDrops;
  }
}

/** Warns when the kernel granted a smaller receive buffer than configured (it caps at rmem_max). */
function warnIfCapped(ctx: InputContext, address: string, socket: UdpSocket, wanted: number): void {
  let granted: number;
  try {
    // Linux reports double the size set, to account for its bookkeeping overhead (socket(7)).
    granted = Math.floor(socket.getRecvBufferSize() / 2);
  } catch {
    return;
  }
  if (granted >= wanted) return;
  ctx.log.warn("UDP receive buffer capped by the kernel; raise it with sysctl -w net.core.rmem_max=BYTES", {
    address,
    read_buffer: wanted,
    granted,
  });
}

function closeQuietly(socket: UdpSocket, done?: () => void): void {
  try {
    socket.close(done);
  } catch {
    // Already closed (the bind failed before the socket was running).
    done?.();
  }
}

function bindError(component: string, address: string, cause: unknown): Error {
  let reason: string | undefined;
  for (let current = cause, depth = 0; depth < 4 && isObject(current); depth++, current = current["cause"]) {
    const code = current["code"];
    if (typeof code === "string" && BIND_REASONS[code] !== undefined) {
      reason = BIND_REASONS[code];
      break;
    }
  }
  reason ??= cause instanceof Error ? cause.message : String(cause);
  return new Error(`Cannot bind ${component} listener ${JSON.stringify(address)}: ${reason}`, { cause });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
