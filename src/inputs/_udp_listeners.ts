/**
 * The UDP sockets of one input (statsd, collectd): binding with clear errors, the kernel receive buffer
 * (`SO_RCVBUF`, with a warning when the kernel caps it) and the datagrams the kernel dropped on a full
 * buffer, read from `/proc/net/udp` and `/proc/net/udp6` every 5 s on Linux and counted as
 * `dropped{reason="kernel"}`. Socket errors after binding are counted as `errors{error_type="socket"}`.
 *
 * Two ways to read, picked by the input's `udp_receive` (logged with each `Listening` line as `receive`):
 * - `recvmmsg`: a socket opened through the runtime's FFI and read in batches of up to 64 datagrams per
 *   call ({@link UdpBatchReader}); `auto` takes it wherever the runtime has FFI;
 * - `dgram`: `node:dgram`, one callback per datagram; `auto` falls back to it where FFI is unavailable.
 *
 * It only moves bytes: the input's `onMessage` counts datagrams and emits them.
 *
 * @module
 */

import type { Socket as DgramSocket } from "node:dgram";
import { clearInterval, setInterval } from "node:timers";
import { formatListenAddress, parseListenAddress } from "../config/address.ts";
import { PROC_NET_UDP, readProcNetUdp, readSocketInodes } from "../internal/proc_net_udp.ts";
import type { SelfCell } from "../internal/self_stats.ts";
import { FFI_UNAVAILABLE } from "../runtime/types.ts";
import type { UdpSocket } from "../runtime/types.ts";
import type { FormatId } from "../model/frame.ts";
import type { SocketOpening } from "../pipeline/pipeline.ts";
import type { InputContext } from "./input.ts";
import { bindError } from "./_bind_error.ts";
import { BATCH_DATAGRAMS, UdpBatchReader } from "./_udp_batch_reader.ts";
import type { UdpReceive } from "./_udp_receive.ts";

/** How often the kernel's drop counters are read. */
const KERNEL_DROPS_EVERY_MS = 5_000;
/** How often a repeated socket error may be logged. */
const WARN_EVERY_MS = 60_000;
const FAMILIES = ["udp4", "udp6"] as const;
/** An IPv4 or IPv6 literal, as the config's address syntax lets through (anything else is a host name). */
const IP_LITERAL_REGEXP = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*)$/;

/** Options of {@link UdpListeners}. */
export interface UdpListenersOptions {
  /** The input's type, for messages: `Cannot bind statsd listener "…": …`. */
  readonly component: string;
  /** The `SO_RCVBUF` size in bytes; 0 keeps the system's default. */
  readonly readBuffer: number;
  /** How sockets are read; `auto` by default. */
  readonly receive?: UdpReceive;
  /**
   * The format of the datagrams, when they need nothing from the main thread: then a socket read with
   * `recvmmsg` is handed to the pipeline's workers (`InputContext.attachSocket`), which parse its datagrams
   * without `onMessage` (after `opening`, where given). Without it (collectd with keys undoes transport
   * security on the main thread), the main thread reads every socket.
   */
  readonly format?: FormatId;
  /** Counts datagrams the workers read from a socket handed to them (`onMessage` is not called for those). */
  readonly onPackets?: (count: number) => void;
  /** What the workers do to each datagram before `format` parses it; nothing when absent. */
  readonly opening?: SocketOpening;
  /** The handler of each datagram; the bytes are only valid during the call. Not called once closing. */
  readonly onMessage: (bytes: Uint8Array) => void;
}

interface Listener {
  readonly family: keyof typeof PROC_NET_UDP;
  /** The bound host (an IP address). */
  readonly host: string;
  /** The bound port. */
  readonly port: number;
  /** How it is read. */
  readonly receive: Exclude<UdpReceive, "auto">;
  /** Which thread reads it: the pipeline's workers, or the main thread. */
  readonly readBy: "workers" | "main";
  /** The receive buffer the kernel granted, in bytes; 0 when unknown or not asked for. */
  readonly granted: number;
  /** Stops reading (onMessage is not called after) and closes the socket. */
  readonly close: () => Promise<void>;
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
 * await udp.bind("udp:127.0.0.1:25826"); // "udp:127.0.0.1:25826"
 * await udp.watchKernelDrops();
 * await udp.close(); // reads the kernel's drops a last time; onMessage is not called after
 * ```
 */
export class UdpListeners {
  readonly #ctx: InputContext;
  readonly #options: UdpListenersOptions;
  readonly #kernelDropped: SelfCell;
  readonly #listeners: Listener[] = [];
  readonly #bound: string[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #polling: Promise<number> | undefined;
  #kernelDrops = 0;

  /**
   * @param ctx The input's context: runtime, logger and counters.
   * @param options The input's type, the buffer size and the datagram handler.
   */
  constructor(ctx: InputContext, options: UdpListenersOptions) {
    this.#ctx = ctx;
    this.#options = options;
    // Made now, so that the series reads 0 from the start rather than appearing with the first drop.
    this.#kernelDropped = ctx.stats.dropped("kernel");
  }

  /**
   * Binds one address; `onMessage` takes its datagrams from now on.
   *
   * @param text A canonical `udp:HOST:PORT` address.
   * @returns The address bound, with the port the system picked where `text` said 0.
   * @throws {Error} `Cannot bind statsd listener "udp:127.0.0.1:8125": address already in use`, with the
   *   system's error as `cause`; or `…: not a UDP address`.
   */
  async bind(text: string): Promise<string> {
    const address = parseListenAddress(text);
    const component = this.#options.component;
    if (address === undefined || address.transport !== "udp") {
      throw bindError(component, text, "not a UDP address");
    }
    const mode = this.#options.receive ?? "auto";
    const listener =
      (mode === "dgram" ? undefined : await this.#bindLibc(text, address.host, address.port)) ??
        await this.#bindDgram(text, address.host, address.port);
    this.#listeners.push(listener);
    const bound = formatListenAddress({ transport: "udp", host: listener.host, port: listener.port });
    this.#bound.push(bound);
    this.#ctx.log.info("Listening", {
      address: text,
      ...(bound !== text ? { bound } : {}),
      receive: listener.receive,
      read_by: listener.readBy,
    });
    warnIfCapped(this.#ctx, text, listener.granted, this.#options.readBuffer);
    return bound;
  }

  /**
   * Binds through the runtime's FFI; `undefined` when FFI is unavailable and the mode lets `dgram` take
   * over (said once in the log).
   */
  async #bindLibc(text: string, host: string, port: number): Promise<Listener | undefined> {
    const ctx = this.#ctx;
    const { component, readBuffer, onMessage } = this.#options;
    const required = this.#options.receive === "recvmmsg";
    if (ctx.runtime.openUdp === undefined) {
      if (required) {
        throw bindError(
          component,
          text,
          `udp_receive "recvmmsg" needs FFI, which ${ctx.runtime.name} lacks here`,
        );
      }
      return undefined;
    }
    let socket: UdpSocket;
    try {
      // libc binds addresses, not names: resolve the way node:dgram does for udp4 sockets.
      const ip = IP_LITERAL_REGEXP.test(host)
        ? host
        : (await (await import("node:dns/promises")).lookup(host, { family: 4 })).address;
      socket = await ctx.runtime.openUdp({ host: ip, port, receiveBufferBytes: readBuffer });
    } catch (error) {
      if ((error as { code?: unknown }).code !== FFI_UNAVAILABLE || required) {
        throw bindError(component, text, error);
      }
      ctx.log.warn("Cannot read UDP in batches; falling back to node:dgram", {
        address: text,
        error: (error as Error).message,
      });
      return undefined;
    }
    const format = this.#options.format;
    let detach: (() => Promise<void>) | undefined;
    try {
      detach = format === undefined || ctx.attachSocket === undefined ? undefined : await ctx.attachSocket(
        socket.fd,
        format,
        this.#options.onPackets ?? (() => {}),
        this.#options.opening,
      );
    } catch (error) {
      await socket.close();
      throw bindError(component, text, error);
    }
    const granted = readBuffer > 0 ? socket.grantedReceiveBuffer() : 0;
    const listener = {
      family: socket.host.includes(":") ? "udp6" : "udp4",
      host: socket.host,
      port: socket.port,
      receive: "recvmmsg",
      granted,
      inode: undefined,
      lastDrops: 0,
    } as const;
    if (detach !== undefined) {
      const letGo = detach;
      return {
        ...listener,
        readBy: "workers",
        async close() {
          await letGo();
          await socket.close();
        },
      };
    }
    const socketErrors = ctx.stats.errors("socket");
    const reader = new UdpBatchReader(socket.createBatch(BATCH_DATAGRAMS), {
      onMessage,
      onError(errno) {
        socketErrors.add();
        ctx.log.every(`udp_error:${text}`, WARN_EVERY_MS, "UDP socket error", { address: text, errno });
      },
    });
    return {
      ...listener,
      readBy: "main",
      close() {
        reader.stop();
        return socket.close();
      },
    };
  }

  async #bindDgram(text: string, host: string, port: number): Promise<Listener> {
    const ctx = this.#ctx;
    const component = this.#options.component;
    const family = host.includes(":") ? "udp6" : "udp4";
    // Where recvBufferSize does not reach SO_RCVBUF (Deno), passing it would only cost memory per datagram.
    const wanted = this.#options.readBuffer;
    const readBuffer = ctx.runtime.dgramReceiveBuffer ? wanted : 0;
    if (readBuffer !== wanted) {
      ctx.log.warn("read_buffer is not applied on Deno; UDP sockets keep the system's default buffer", {
        address: text,
        read_buffer: wanted,
      });
    }
    // Loaded only where it is used: node:dgram alone adds megabytes to the resident set.
    const { createSocket } = await import("node:dgram");
    const socket = createSocket({
      type: family,
      reuseAddr: false,
      ...(readBuffer > 0 ? { recvBufferSize: readBuffer } : {}),
    });
    const onMessage = this.#options.onMessage;
    socket.on("message", onMessage);
    await new Promise<void>((resolve, reject) => {
      function onBindError(error: Error): void {
        closeQuietly(socket);
        reject(bindError(component, text, error));
      }
      socket.once("error", onBindError);
      socket.bind({ port, address: host, exclusive: true }, function onUdpBound() {
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
    const local = socket.address();
    return {
      family,
      host: local.address,
      port: local.port,
      receive: "dgram",
      readBy: "main",
      granted: readBuffer > 0 ? grantedDgramBuffer(socket) : 0,
      close() {
        socket.off("message", onMessage);
        return new Promise<void>((resolve) => closeQuietly(socket, resolve));
      },
      inode: undefined,
      lastDrops: 0,
    };
  }

  /**
   * The addresses bound, with the port the system picked where the config said 0.
   *
   * @returns The addresses in bind order, e.g. `["udp:127.0.0.1:41234"]`; empty after `close()`.
   */
  addresses(): readonly string[] {
    return [...this.#bound];
  }

  /**
   * Finds the sockets bound so far in `/proc/net/udp*` and reads their drop counters every 5 s from now on.
   * Does nothing when none is bound.
   *
   * @returns Resolves once the sockets were looked up.
   */
  async watchKernelDrops(): Promise<void> {
    if (this.#listeners.length === 0 || this.#timer !== undefined) return;
    await this.#findInodes();
    const pollKernelDrops = () => void this.refreshKernelDrops();
    this.#timer = setInterval(pollKernelDrops, KERNEL_DROPS_EVERY_MS);
    this.#timer.unref();
  }

  /**
   * The datagrams the kernel dropped on these sockets since they were bound, as of the last read of
   * `/proc/net/udp*` (every 5 s once watched, and at `close()`). Always 0 where there is no `/proc`.
   *
   * @returns The count; it stays readable after `close()`.
   */
  kernelDrops(): number {
    return this.#kernelDrops;
  }

  /**
   * Reads `/proc/net/udp` and `/proc/net/udp6` now and adds the new kernel drops to
   * `dropped{reason="kernel"}`. Concurrent calls share one read.
   *
   * @returns The total as in {@link kernelDrops}.
   */
  refreshKernelDrops(): Promise<number> {
    this.#polling ??= this.#readKernelDrops().finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  /**
   * Stops watching, reads the kernel's drop counters a last time while the sockets still receive (so the
   * count covers their whole life), then stops calling `onMessage` and closes every socket. Calling it
   * again does nothing.
   *
   * @returns Resolves when every socket is closed.
   */
  async close(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#listeners.some((l) => l.inode !== undefined)) await this.refreshKernelDrops();
    const closing = this.#listeners.map((listener) => listener.close());
    this.#listeners.length = 0;
    this.#bound.length = 0;
    await Promise.all(closing);
  }

  /** Finds each socket's inode: its bound port in `/proc/net/udp*`, narrowed to this process's fds. */
  async #findInodes(): Promise<void> {
    const own = await readSocketInodes();
    const claimed = new Set<number>();
    for (const family of FAMILIES) {
      const listeners = this.#listeners.filter((l) => l.family === family);
      if (listeners.length === 0) continue;
      const sockets = await readProcNetUdp(PROC_NET_UDP[family]);
      if (sockets === undefined) continue;
      for (const listener of listeners) {
        const port = listener.port;
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
    for (const family of FAMILIES) {
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
        this.#kernelDropped.add(increase);
      }
    }
    return this.#kernelDrops;
  }
}

/** The receive buffer the kernel granted a node:dgram socket; 0 when it cannot tell. */
function grantedDgramBuffer(socket: DgramSocket): number {
  try {
    // Linux reports double the size set, to account for its bookkeeping overhead (socket(7)).
    return Math.floor(socket.getRecvBufferSize() / 2);
  } catch {
    return 0;
  }
}

/** Warns when the kernel granted a smaller receive buffer than configured (it caps at rmem_max). */
function warnIfCapped(ctx: InputContext, address: string, granted: number, wanted: number): void {
  if (granted <= 0 || granted >= wanted) return;
  ctx.log.warn("UDP receive buffer capped by the kernel; raise it with sysctl -w net.core.rmem_max=BYTES", {
    address,
    read_buffer: wanted,
    granted,
  });
}

function closeQuietly(socket: DgramSocket, done?: () => void): void {
  try {
    socket.close(done);
  } catch {
    // Already closed (the bind failed before the socket was running).
    done?.();
  }
}
