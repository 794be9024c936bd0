/**
 * The collectd input's transport: UDP datagrams in collectd's binary network protocol. Transport security
 * (signatures, encryption) is undone by `openCollectdPacket`; each plain section that survives becomes one
 * frame in the `collectd` format, which the workers parse.
 *
 * Who reads the sockets: at level `none` without an auth file, opening a packet needs no key, so a socket
 * read with `recvmmsg` is handed to the pipeline's workers, which open each datagram the same way
 * (`src/pipeline/_datagram_opener.ts`) and parse it without the main thread; their packets, bytes and
 * refusals are credited to the same counters below. Otherwise (`sign`, `encrypt`, or any auth file, whose
 * users the main thread re-reads) the main thread reads every socket and opens every packet.
 *
 * Counted here: `tally_input_packets_total{transport="udp"}` (datagrams), drops for
 * `reason="auth_unknown_user"`, `"auth_bad_signature"`, `"auth_bad_checksum"`, `"auth_required"`,
 * `"auth_malformed"` (mirrored in `tally_collectd_auth_failures_total{reason}`) and `"kernel"`, and errors
 * for `error_type="auth_file"` (a re-read failed; the previous users stay) and `"socket"`. Received bytes
 * (the sections' bytes, without security parts) and ring drops are counted by `emit`, or by the workers.
 *
 * @module
 */

import { SelfStats } from "../../internal/self_stats.ts";
import type { SelfCell } from "../../internal/self_stats.ts";
import { FORMAT_IDS } from "../../model/frame.ts";
import type { Input, InputContext } from "../input.ts";
import { UdpListeners } from "../_udp_listeners.ts";
import { AuthFile } from "./auth_file.ts";
import type { CollectdConfig } from "./config.ts";
import { openCollectdPacket } from "../../formats/collectd_security.ts";
import type { AuthFailure, OpenedPacketSink, OpenOptions } from "../../formats/collectd_security.ts";

/** How often a repeated warning (refused packets, auth file trouble) may be logged. */
const WARN_EVERY_MS = 60_000;
const AUTH_FAILURES: readonly AuthFailure[] = [
  "unknown_user",
  "bad_signature",
  "bad_checksum",
  "required",
  "malformed",
];

/** Options of {@link CollectdInput}. */
export interface CollectdInputOptions {
  /** The clock the auth file's re-read checks use; `Date.now` by default. */
  readonly now?: () => number;
}

/** What {@link CollectdInput}'s receiver gives the listeners. */
interface Receiver {
  /** Takes one datagram the main thread read. */
  readonly onMessage: (bytes: Uint8Array) => void;
  /** Counts the datagrams the workers read. */
  readonly onPackets: (count: number) => void;
  /** Counts the refusals the workers made. */
  readonly onRefused: (reason: string, count: number) => void;
}

interface FailureCells {
  readonly dropped: SelfCell;
  readonly failures: SelfCell;
}

/**
 * A running collectd input: a resource that owns its sockets and its auth file.
 *
 * @example
 * ```ts
 * const input = new CollectdInput(v.parse(schema, { security_level: "encrypt",
 *   auth_file: "/etc/tally/collectd.auth" }), "collectd");
 * await input.start(ctx); // auth file read, every listener bound
 * await input.stop(); // no frame is emitted after this resolves
 * ```
 */
export class CollectdInput implements Input {
  readonly #config: CollectdConfig;
  readonly #id: string;
  readonly #now: (() => number) | undefined;
  #ctx: InputContext | undefined;
  #udp: UdpListeners | undefined;
  #auth: AuthFile | undefined;
  #stopping: Promise<void> | undefined;
  #onAbort: (() => void) | undefined;

  /**
   * @param config The validated config.
   * @param id The component id (the config key), for self-metrics labels.
   * @param options The clock for the auth file's checks.
   */
  constructor(config: CollectdConfig, id: string, options: CollectdInputOptions = {}) {
    this.#config = config;
    this.#id = id;
    this.#now = options.now;
  }

  /**
   * Reads the auth file (when configured) and binds every listener; when one fails, closes those bound.
   *
   * @param ctx The collector's side: `emit`, the runtime, the logger and counters.
   * @returns Resolves once every listener is bound.
   * @throws {Error} `Cannot read collectd auth_file "…": no such file`; `Cannot bind collectd listener
   *   "udp:127.0.0.1:25826": address already in use`, with the system error as `cause`; or when started twice.
   */
  async start(ctx: InputContext): Promise<void> {
    if (this.#ctx !== undefined) {
      throw new Error(`Cannot start collectd input "${this.#id}": it was already started`);
    }
    this.#ctx = ctx;
    const config = this.#config;
    if (config.auth_file !== undefined) {
      this.#auth = new AuthFile(config.auth_file, this.#now === undefined ? {} : { now: this.#now });
    }
    const { onMessage, onPackets, onRefused } = this.#receiver(ctx);
    // Without keys the workers can open packets as the main thread does; see the module's notes.
    const byWorkers = config.security_level === "none" && config.auth_file === undefined;
    const udp = new UdpListeners(ctx, {
      component: "collectd",
      readBuffer: config.read_buffer,
      receive: config.udp_receive,
      ...(byWorkers
        ? { format: FORMAT_IDS.collectd, onPackets, opening: { kind: "collectd_plain", onRefused } as const }
        : {}),
      onMessage,
    });
    this.#udp = udp;
    try {
      for (const address of config.listen) await udp.bind(address);
    } catch (error) {
      await udp.close();
      throw error;
    }
    await udp.watchKernelDrops();
    this.#onAbort = () => void this.stop();
    ctx.signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /**
   * Stops: reads the kernel's drop counters a last time, then closes every socket.
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
    return this.#udp?.addresses() ?? [];
  }

  /**
   * The datagrams the kernel dropped on this input's sockets since they were bound, as of the last read
   * of `/proc/net/udp*` (every 5 s, and at stop). Always 0 where there is no `/proc`.
   *
   * @returns The count.
   */
  kernelDrops(): number {
    return this.#udp?.kernelDrops() ?? 0;
  }

  /**
   * Reads `/proc/net/udp*` now and adds the datagrams the kernel dropped on a full receive buffer to
   * `dropped{reason="kernel"}` (also done every 5 s, and at stop).
   *
   * @returns The drops since the sockets were bound; 0 where there is no `/proc`.
   */
  refreshKernelDrops(): Promise<number> {
    return this.#udp?.refreshKernelDrops() ?? Promise.resolve(0);
  }

  /**
   * Builds the datagram handler, and the counters of the datagrams and refusals the workers report: one
   * sink and one set of cells for the input's life, no closure per packet. The listeners stop calling the
   * handler once they close, so it needs no check of its own.
   */
  #receiver(ctx: InputContext): Receiver {
    const registry = ctx.selfStats ?? new SelfStats();
    const labels = { component_type: "collectd", component_id: this.#id };
    const packets = registry.cell("tally_input_packets_total", { ...labels, transport: "udp" }, {
      type: "counter",
      help: "Datagrams (UDP, Unix) and reads (TCP) received by an input, by transport",
    });
    const cells = new Map<AuthFailure, FailureCells>();
    for (const reason of AUTH_FAILURES) {
      cells.set(reason, {
        dropped: ctx.stats.dropped(`auth_${reason}`),
        failures: registry.cell("tally_collectd_auth_failures_total", { ...labels, reason }, {
          type: "counter",
          help: "collectd packets or parts refused by transport security, by reason",
        }),
      });
    }
    const authFileErrors = ctx.stats.errors("auth_file");
    const emit = ctx.emit;
    const log = ctx.log;
    function refuse(reason: AuthFailure, user: string, count: number): void {
      const cell = cells.get(reason)!;
      cell.dropped.add(count);
      cell.failures.add(count);
      log.every(`auth_${reason}`, WARN_EVERY_MS, "Refused a collectd packet", {
        reason,
        ...(user === "" ? {} : { user }),
      });
    }
    const sink: OpenedPacketSink = {
      section(bytes) {
        emit(bytes, FORMAT_IDS.collectd);
      },
      failure(reason, user) {
        refuse(reason, user, 1);
      },
    };
    const level = this.#config.security_level;
    const auth = this.#auth;
    // Rebuilt only when the auth file's users change, not per packet.
    let options: OpenOptions = { level, users: auth?.users() };
    return { onMessage, onPackets, onRefused };

    function onPackets(count: number): void {
      packets.add(count);
    }

    function onRefused(reason: string, count: number): void {
      // The workers count only the reasons openCollectdPacket gives; the user they do not report.
      if (cells.has(reason as AuthFailure)) refuse(reason as AuthFailure, "", count);
    }

    function onMessage(message: Uint8Array): void {
      packets.add();
      if (auth !== undefined) {
        const users = auth.users();
        if (users !== options.users) options = { level, users };
        const change = auth.lastChange();
        if (change.kind === "reloaded") {
          log.info("Re-read auth_file", { auth_file: auth.path, users: change.users });
        } else if (change.kind === "failed") {
          authFileErrors.add();
          log.every("auth_file", WARN_EVERY_MS, "Cannot re-read auth_file; keeping the previous users", {
            error: change.error.message,
          });
        }
      }
      openCollectdPacket(message, sink, options);
    }
  }

  async #stopAll(): Promise<void> {
    if (this.#ctx === undefined) return;
    if (this.#onAbort !== undefined) this.#ctx.signal.removeEventListener("abort", this.#onAbort);
    // It reads the kernel's drop counters a last time, while the sockets still receive.
    await this.#udp?.close();
  }
}
