/**
 * The statsd input's transport: UDP (libc `recvmmsg` or `node:dgram`), TCP (`node:net`, newline-delimited) and Unix datagram
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

import type { Server as TcpServer, Socket as TcpSocket } from "node:net";
import { formatListenAddress, parseListenAddress } from "../../config/address.ts";
import { SelfStats } from "../../internal/self_stats.ts";
import type { SelfCell } from "../../internal/self_stats.ts";
import { FORMAT_IDS } from "../../model/frame.ts";
import type { Closer } from "../../runtime/types.ts";
import type { Input, InputContext } from "../input.ts";
import { bindError } from "../_bind_error.ts";
import { UdpListeners } from "../_udp_listeners.ts";
import type { StatsdConfig } from "./config.ts";
import { LineFramer } from "./_line_framer.ts";
import type { LineFramerSink } from "./_line_framer.ts";

/** How often a repeated warning (connection limit, listener error) may be logged. */
const WARN_EVERY_MS = 60_000;

interface Cells {
  readonly udpPackets: SelfCell;
  readonly tcpReads: SelfCell;
  readonly unixPackets: SelfCell;
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
  #udp: UdpListeners | undefined;
  readonly #tcp: TcpServer[] = [];
  readonly #unix: Closer[] = [];
  readonly #connections = new Map<TcpSocket, LineFramer>();
  readonly #bound: string[] = [];
  #sink: LineFramerSink | undefined;
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
    const emit = ctx.emit;
    const udpPackets = this.#cells.udpPackets;
    // Not called once the listeners close, so it needs no check of its own.
    this.#udp = new UdpListeners(ctx, {
      component: "statsd",
      readBuffer: this.#config.read_buffer,
      receive: this.#config.udp_receive,
      // Datagrams are handed over as they came: the workers may read the sockets themselves.
      format: FORMAT_IDS.statsd,
      onPackets: function countUdpPackets(count: number): void {
        udpPackets.add(count);
      },
      onMessage: function onUdpMessage(message: Uint8Array): void {
        udpPackets.add();
        // `emit` copies into the ring, so the runtime's buffer is handed over as is.
        if (message.length > 0) emit(message, FORMAT_IDS.statsd);
      },
    });
    try {
      for (const text of this.#config.listen) await this.#bind(text);
    } catch (error) {
      this.#stopped = true;
      await this.#closeAll();
      throw error;
    }
    await this.#udp.watchKernelDrops();
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
    return this.#udp?.kernelDrops() ?? 0;
  }

  /**
   * Reads `/proc/net/udp` and `/proc/net/udp6` now and adds the new kernel drops to
   * `dropped{reason="kernel"}`.
   *
   * @returns The total as in {@link kernelDrops}.
   */
  refreshKernelDrops(): Promise<number> {
    return this.#udp?.refreshKernelDrops() ?? Promise.resolve(0);
  }

  async #bind(text: string): Promise<void> {
    const address = parseListenAddress(text);
    if (address === undefined) throw bindError("statsd", text, "not an address");
    switch (address.transport) {
      case "udp":
        this.#bound.push(await this.#udp!.bind(text));
        return;
      case "tcp":
        return await this.#bindTcp(text, address.host, address.port);
      case "unix":
        return await this.#bindUnix(text, address.path);
    }
  }

  async #bindTcp(text: string, host: string, port: number): Promise<void> {
    // Loaded only when a TCP address is configured, to keep node:net out of the default footprint.
    const { createServer } = await import("node:net");
    const server = createServer();
    const onTcpConnection = (socket: TcpSocket): void => this.#accept(socket);
    server.on("connection", onTcpConnection);
    await new Promise<void>((resolve, reject) => {
      function onListenError(error: Error): void {
        server.close();
        reject(bindError("statsd", text, error));
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
      throw bindError("statsd", text, error);
    }
    this.#unix.push(closer);
    this.#listening(text, text);
  }

  #listening(configured: string, bound: string): void {
    this.#bound.push(bound);
    this.#ctx!.log.info("Listening", { address: configured, ...(bound !== configured ? { bound } : {}) });
  }

  async #stopAll(): Promise<void> {
    this.#stopped = true;
    if (this.#ctx === undefined) return;
    if (this.#onAbort !== undefined) this.#ctx.signal.removeEventListener("abort", this.#onAbort);
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
    // It reads the kernel's drop counters a last time, while its sockets still receive.
    if (this.#udp !== undefined) closing.push(this.#udp.close());
    for (const closer of this.#unix) closing.push(closer.close());
    this.#tcp.length = 0;
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
    incompleteLines: ctx.stats.dropped("incomplete_line"),
    connectionLimit: ctx.stats.errors("tcp_connection_limit"),
    connectionErrors: ctx.stats.errors("tcp_connection"),
    socketErrors: ctx.stats.errors("socket"),
  };
}
