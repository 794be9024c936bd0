/**
 * The statsd input's transport: UDP (`node:dgram`), TCP (`node:net`, newline-delimited) and Unix datagram
 * sockets (through the runtime facade). It only moves bytes: each datagram, and each run of whole lines
 * read from a TCP connection, becomes one frame in the `statsd` format; the workers parse them.
 *
 * Counted here: `tally_input_packets_total{transport}` (datagrams; reads on TCP), drops for
 * `reason="line_too_long"`, `"incomplete_line"` (a connection cut mid-line) and `"kernel"` (datagrams the
 * kernel dropped on a full UDP receive buffer, read from `/proc/net/udp` every 5 s on Linux), and errors
 * for `error_type="tcp_connection_limit"`, `"tcp_connection"` and `"socket"`. Received bytes and ring drops
 * are counted by `emit`.
 *
 * @module
 */

import { createSocket } from "node:dgram";
import type { Socket as UdpSocket } from "node:dgram";
import { createServer, isIPv6 } from "node:net";
import type { Server as TcpServer, Socket as TcpSocket } from "node:net";
import { clearInterval, setInterval } from "node:timers";
import { formatListenAddress, parseListenAddress } from "../../config/address.ts";
import { PROC_NET_UDP, readProcNetUdp, readSocketInodes } from "../../internal/proc_net_udp.ts";
import { SelfStats } from "../../internal/self_stats.ts";
import type { SelfCell } from "../../internal/self_stats.ts";
import { FORMAT_IDS } from "../../model/frame.ts";
import type { Closer } from "../../runtime/types.ts";
import type { Input, InputContext } from "../input.ts";
import type { StatsdConfig } from "./config.ts";
import { LineFramer } from "./_line_framer.ts";
import type { LineFramerSink } from "./_line_framer.ts";

/** How often the kernel's drop counters are read. */
const KERNEL_DROPS_EVERY_MS = 5_000;
/** How often a repeated warning (connection limit, capped buffer) may be logged. */
const WARN_EVERY_MS = 60_000;

/** Reasons for errno codes seen when binding, phrased to end our sentence. */
const BIND_REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ENOENT: "no such file or directory",
  ENOTDIR: "a path component is not a directory",
  EROFS: "read-only file system",
};
const RUNTIME_BIND_PREFIX_REGEXP = /^Cannot bind [^"]*"(?:[^"\\]|\\.)*": /;

interface UdpListener {
  readonly address: string;
  readonly family: keyof typeof PROC_NET_UDP;
  readonly socket: UdpSocket;
  /** The socket's inode, once found in `/proc/net/udp*`. */
  inode: number | undefined;
  /** The kernel's drop count at the last read. */
  lastDrops: number;
}

interface Cells {
  readonly udpPackets: SelfCell;
  readonly tcpReads: SelfCell;
  readonly unixPackets: SelfCell;
  readonly kernelDrops: SelfCell;
  readonly incompleteLines: SelfCell;
  readonly connectionLimit: SelfCell;
  readonly connectionErrors: SelfCell;
  readonly socketErrors: SelfCell;
}

/**
 * A running statsd input: a resource that owns its sockets.
 *
 * @example
 * ```ts
 * const input = new StatsdInput({ listen: ["udp:127.0.0.1:8125"], read_buffer: 8 << 20,
 *   max_line_length: 65536, max_tcp_connections: 256 }, "statsd");
 * await input.start(ctx); // every listener bound
 * await input.stop(); // no frame is emitted after this resolves
 * ```
 */
export class StatsdInput implements Input {
  readonly #config: StatsdConfig;
  readonly #id: string;
  #ctx: InputContext | undefined;
  #cells: Cells | undefined;
  #stopped = false;
  #stopping: Promise<void> | undefined;
  readonly #udp: UdpListener[] = [];
  readonly #tcp: TcpServer[] = [];
  readonly #unix: Closer[] = [];
  readonly #connections = new Map<TcpSocket, LineFramer>();
  readonly #bound: string[] = [];
  #sink: LineFramerSink | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #polling: Promise<number> | undefined;
  #kernelDrops = 0;
  #onAbort: (() => void) | undefined;

  /**
   * @param config The validated config.
   * @param id The component id (the config key), for self-metrics labels.
   */
  constructor(config: StatsdConfig, id: string) {
    this.#config = config;
    this.#id = id;
  }

  /**
   * Binds every listener; when one fails, closes those already bound.
   *
   * @param ctx The collector's side: `emit`, the runtime, the logger and counters.
   * @returns Resolves once every listener is bound.
   * @throws {Error} `Cannot bind statsd listener "udp:127.0.0.1:8125": address already in use`, with the
   *   runtime's error as `cause`; or when started twice.
   */
  async start(ctx: InputContext): Promise<void> {
    if (this.#ctx !== undefined) {
      throw new Error(`Cannot start statsd input "${this.#id}": it was already started`);
    }
    this.#ctx = ctx;
    this.#cells = createCells(ctx, this.#id);
    const tooLong = ctx.stats.dropped("line_too_long");
    this.#sink = {
      frame: (bytes) => {
        if (!this.#stopped) ctx.emit(bytes, FORMAT_IDS.statsd);
      },
      tooLong: () => tooLong.add(),
    };
    try {
      for (const text of this.#config.listen) await this.#bind(text);
    } catch (error) {
      this.#stopped = true;
      await this.#closeAll();
      throw error;
    }
    if (this.#udp.length > 0) {
      await this.#findInodes();
      const pollKernelDrops = () => void this.refreshKernelDrops();
      this.#timer = setInterval(pollKernelDrops, KERNEL_DROPS_EVERY_MS);
      this.#timer.unref();
    }
    this.#onAbort = () => void this.stop();
    ctx.signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /**
   * Stops: reads the kernel's drop counters a last time, then closes every listener and connection. Lines
   * already read are emitted as they arrive; a partial line on an open connection is counted as dropped
   * (`reason="incomplete_line"`).
   *
   * @returns Resolves when closed; no frame is emitted after. Calling it again returns the same promise.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  /**
   * The addresses bound, with the port the system picked where the config said 0.
   *
   * @returns The addresses in config form, e.g. `["udp:127.0.0.1:41234"]`; empty before start and after stop.
   */
  addresses(): readonly string[] {
    return [...this.#bound];
  }

  /**
   * The datagrams the kernel dropped on this input's UDP sockets since they were bound, as of the last
   * read of `/proc/net/udp` (every 5 s, and at stop). Always 0 where there is no `/proc`.
   *
   * @returns The count.
   */
  kernelDrops(): number {
    return this.#kernelDrops;
  }

  /**
   * Reads `/proc/net/udp` and `/proc/net/udp6` now and adds the new kernel drops to
   * `dropped{reason="kernel"}`.
   *
   * @returns The total as in {@link kernelDrops}.
   */
  refreshKernelDrops(): Promise<number> {
    this.#polling ??= this.#readKernelDrops().finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  async #bind(text: string): Promise<void> {
    const address = parseListenAddress(text);
    if (address === undefined) throw bindError(text, "not an address");
    switch (address.transport) {
      case "udp":
        return await this.#bindUdp(text, address.host, address.port);
      case "tcp":
        return await this.#bindTcp(text, address.host, address.port);
      case "unix":
        return await this.#bindUnix(text, address.path);
    }
  }

  async #bindUdp(text: string, host: string, port: number): Promise<void> {
    const ctx = this.#ctx!;
    const cells = this.#cells!;
    const family = isIPv6(host) ? "udp6" : "udp4";
    // Deno's node:dgram does not set SO_RCVBUF from `recvBufferSize`: it allocates a JS buffer of twice
    // that size for every datagram instead (Deno 2.9), which at 8 MiB would cost 16 MiB per packet.
    const readBuffer = ctx.runtime.name === "deno" ? 0 : this.#config.read_buffer;
    if (readBuffer !== this.#config.read_buffer) {
      ctx.log.warn("read_buffer is not applied on Deno; UDP sockets keep the system's default buffer", {
        address: text,
        read_buffer: this.#config.read_buffer,
      });
    }
    const socket = createSocket({
      type: family,
      reuseAddr: false,
      ...(readBuffer > 0 ? { recvBufferSize: readBuffer } : {}),
    });
    const emit = ctx.emit;
    const packets = cells.udpPackets;
    const onUdpMessage = (message: Uint8Array): void => {
      if (this.#stopped) return;
      packets.add();
      // `emit` copies into the ring, so the runtime's buffer is handed over as is.
      if (message.length > 0) emit(message, FORMAT_IDS.statsd);
    };
    socket.on("message", onUdpMessage);
    await new Promise<void>((resolve, reject) => {
      function onBindError(error: Error): void {
        closeQuietly(socket);
        reject(bindError(text, error));
      }
      socket.once("error", onBindError);
      socket.bind({ port, address: host, exclusive: true }, function onUdpBound() {
        socket.off("error", onBindError);
        resolve();
      });
    });
    socket.on("error", function onUdpError(error: Error): void {
      cells.socketErrors.add();
      ctx.log.every(`udp_error:${text}`, WARN_EVERY_MS, "UDP socket error", {
        address: text,
        error: error.message,
      });
    });
    this.#udp.push({ address: text, family, socket, inode: undefined, lastDrops: 0 });
    const local = socket.address();
    this.#listening(text, formatListenAddress({ transport: "udp", host: local.address, port: local.port }));
    if (readBuffer > 0) warnIfCapped(ctx, text, socket, readBuffer);
  }

  async #bindTcp(text: string, host: string, port: number): Promise<void> {
    const server = createServer();
    const onTcpConnection = (socket: TcpSocket): void => this.#accept(socket);
    server.on("connection", onTcpConnection);
    await new Promise<void>((resolve, reject) => {
      function onListenError(error: Error): void {
        server.close();
        reject(bindError(text, error));
      }
      server.once("error", onListenError);
      server.listen({ port, host, exclusive: true }, function onTcpListening() {
        server.off("error", onListenError);
        resolve();
      });
    });
    const ctx = this.#ctx!;
    const cells = this.#cells!;
    server.on("error", function onTcpServerError(error: Error): void {
      cells.socketErrors.add();
      ctx.log.every(`tcp_error:${text}`, WARN_EVERY_MS, "TCP listener error", {
        address: text,
        error: error.message,
      });
    });
    this.#tcp.push(server);
    const local = server.address();
    const bound = local !== null && typeof local === "object"
      ? formatListenAddress({ transport: "tcp", host: local.address, port: local.port })
      : text;
    this.#listening(text, bound);
  }

  #accept(socket: TcpSocket): void {
    const cells = this.#cells!;
    if (this.#stopped) {
      socket.destroy();
      return;
    }
    const max = this.#config.max_tcp_connections;
    if (this.#connections.size >= max) {
      socket.destroy();
      cells.connectionLimit.add();
      this.#ctx!.log.every("tcp_connection_limit", WARN_EVERY_MS, "Refused a TCP connection: too many open", {
        max_tcp_connections: max,
      });
      return;
    }
    const framer = new LineFramer(this.#config.max_line_length, this.#sink!);
    this.#connections.set(socket, framer);
    const reads = cells.tcpReads;
    const onTcpData = (chunk: Uint8Array): void => {
      if (this.#stopped) return;
      reads.add();
      framer.push(chunk);
    };
    const onTcpEnd = (): void => {
      if (!this.#stopped) framer.end();
    };
    // Resets by clients are routine; they are counted, not logged.
    const onTcpConnectionError = (): void => cells.connectionErrors.add();
    const onTcpClose = (): void => {
      if (framer.discard() > 0) cells.incompleteLines.add();
      this.#connections.delete(socket);
    };
    socket.on("data", onTcpData);
    socket.on("end", onTcpEnd);
    socket.on("error", onTcpConnectionError);
    socket.on("close", onTcpClose);
  }

  async #bindUnix(text: string, path: string): Promise<void> {
    const ctx = this.#ctx!;
    const packets = this.#cells!.unixPackets;
    const emit = ctx.emit;
    const onUnixDatagram = (bytes: Uint8Array): void => {
      if (this.#stopped) return;
      packets.add();
      if (bytes.length > 0) emit(bytes, FORMAT_IDS.statsd);
    };
    let closer: Closer;
    try {
      closer = await ctx.runtime.listenUnixDatagram(path, onUnixDatagram);
    } catch (error) {
      throw bindError(text, error);
    }
    this.#unix.push(closer);
    this.#listening(text, text);
  }

  #listening(configured: string, bound: string): void {
    this.#bound.push(bound);
    this.#ctx!.log.info("Listening", { address: configured, ...(bound !== configured ? { bound } : {}) });
  }

  /** Finds each UDP socket's inode: its bound port in `/proc/net/udp*`, narrowed to this process's fds. */
  async #findInodes(): Promise<void> {
    const own = await readSocketInodes();
    const claimed = new Set<number>();
    for (const family of ["udp4", "udp6"] as const) {
      const listeners = this.#udp.filter((l) => l.family === family);
      if (listeners.length === 0) continue;
      const sockets = await readProcNetUdp(PROC_NET_UDP[family]);
      if (sockets === undefined) continue;
      for (const listener of listeners) {
        const port = listener.socket.address().port;
        const candidates = [...sockets].filter(([inode, s]) =>
          s.localPort === port && !claimed.has(inode) && (own === undefined || own.has(inode))
        );
        // Without /proc/self/fd only an unambiguous port match is trusted.
        if (candidates.length === 0 || (own === undefined && candidates.length > 1)) continue;
        const [inode, counters] = candidates[0]!;
        claimed.add(inode);
        listener.inode = inode;
        listener.lastDrops = counters.drops;
      }
    }
  }

  async #readKernelDrops(): Promise<number> {
    const cell = this.#cells?.kernelDrops;
    if (cell === undefined) return this.#kernelDrops;
    for (const family of ["udp4", "udp6"] as const) {
      const listeners = this.#udp.filter((l) => l.family === family && l.inode !== undefined);
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

  async #stopAll(): Promise<void> {
    if (this.#ctx === undefined) {
      this.#stopped = true;
      return;
    }
    if (this.#onAbort !== undefined) this.#ctx.signal.removeEventListener("abort", this.#onAbort);
    if (this.#timer !== undefined) clearInterval(this.#timer);
    // Read while still receiving, so the count covers the socket's whole life.
    if (this.#udp.length > 0) await this.refreshKernelDrops();
    this.#stopped = true;
    await this.#closeAll();
  }

  async #closeAll(): Promise<void> {
    const cells = this.#cells!;
    const closing: Promise<void>[] = [];
    for (const server of this.#tcp) {
      closing.push(new Promise((resolve) => server.close(() => resolve())));
    }
    for (const [socket, framer] of this.#connections) {
      if (framer.discard() > 0) cells.incompleteLines.add();
      socket.destroy();
    }
    this.#connections.clear();
    for (const { socket } of this.#udp) {
      closing.push(new Promise((resolve) => closeQuietly(socket, resolve)));
    }
    for (const closer of this.#unix) closing.push(closer.close());
    this.#tcp.length = 0;
    this.#udp.length = 0;
    this.#unix.length = 0;
    this.#bound.length = 0;
    await Promise.all(closing);
  }
}

function createCells(ctx: InputContext, id: string): Cells {
  const registry = ctx.selfStats ?? new SelfStats();
  const options = {
    type: "counter",
    help: "Datagrams (UDP, Unix) and reads (TCP) received by an input, by transport",
  } as const;
  const packets = (transport: string) =>
    registry.cell(
      "tally_input_packets_total",
      { component_type: "statsd", component_id: id, transport },
      options,
    );
  return {
    udpPackets: packets("udp"),
    tcpReads: packets("tcp"),
    unixPackets: packets("unix"),
    kernelDrops: ctx.stats.dropped("kernel"),
    incompleteLines: ctx.stats.dropped("incomplete_line"),
    connectionLimit: ctx.stats.errors("tcp_connection_limit"),
    connectionErrors: ctx.stats.errors("tcp_connection"),
    socketErrors: ctx.stats.errors("socket"),
  };
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

function bindError(address: string, cause: unknown): Error {
  const message = `Cannot bind statsd listener ${JSON.stringify(address)}: ${bindReason(cause)}`;
  return typeof cause === "string" ? new Error(message) : new Error(message, { cause });
}

function bindReason(cause: unknown): string {
  if (typeof cause === "string") return cause;
  // The errno name may sit on the error or, when the runtime wrapped it, on its cause.
  for (let current = cause, depth = 0; depth < 4 && isObject(current); depth++, current = current["cause"]) {
    const code = current["code"];
    if (typeof code === "string" && BIND_REASONS[code] !== undefined) return BIND_REASONS[code];
  }
  const message = isObject(cause) && typeof cause["message"] === "string" ? cause["message"] : String(cause);
  const reason = message.replace(RUNTIME_BIND_PREFIX_REGEXP, "");
  return /^[A-Z][a-z]/.test(reason) ? reason[0]!.toLowerCase() + reason.slice(1) : reason;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
