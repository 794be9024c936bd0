/**
 * The contract every input plugin implements: listeners (StatsD, CollectD) and schedulers (scripts) alike.
 *
 * Inputs only move bytes. They hand raw bytes to {@link InputContext.emit}; formats parse them in the
 * workers. After `stop()` resolves an input never calls `emit` again.
 *
 * An input that receives over HTTP serves its routes on the collector's one endpoint through
 * {@link InputContext.serve}, and, since it can make its client wait, hands bytes to
 * {@link InputContext.accept} instead of `emit`: the 2xx then means the bytes are on disk.
 *
 * @module
 */

import type { GenericSchema, InferOutput } from "valibot";
import type { ConfigurablePlugin } from "../config/configurable_plugin.ts";
import type { RouteSet } from "../internal/http_app.ts";
import type { ComponentStats, SelfStats } from "../internal/self_stats.ts";
import type { Logger } from "../internal/log.ts";
import type { FormatId } from "../model/frame.ts";
import type { Runtime } from "../runtime/types.ts";
import type { CoscaleCatalog } from "../store/coscale_catalog.ts";
import type { EventWriter } from "../store/event_table.ts";
import type { Accept } from "../store/inbox.ts";
import type { SocketOpening } from "../pipeline/pipeline.ts";

/** What an input sees of the collector. */
export interface InputContext {
  /**
   * Copies `bytes` into the pipeline as one frame in `format`.
   *
   * @returns `false` when the frame was dropped (ring full); the drop is already counted.
   */
  emit(bytes: Uint8Array, format: FormatId): boolean;
  /**
   * Registers one source inside this input (a script of a `scripts` input) with the pipeline, so that its
   * lines, bad lines, bytes and drops are counted apart: its uniform counters and `tally_bad_lines_total`
   * carry `labels` besides `component_type` and `component_id`. Optional: without it, emit every source's
   * frames through {@link InputContext.emit}, sharing the input's counts.
   *
   * @param labels The labels naming the source, e.g. `{ script: "lvs_check" }`.
   * @returns The source's emit function, which behaves as {@link InputContext.emit}.
   */
  register?(labels: Readonly<Record<string, string>>): (bytes: Uint8Array, format: FormatId) => boolean;
  /**
   * Serves a route set on the collector's shared HTTP endpoint (`http.listen`), behind its body limit,
   * gzip handling and, for `auth: "bearer"`, the `http.token` check. Call it during `start()`: the
   * endpoint starts serving once every input has started. Optional: absent where there is no endpoint.
   *
   * @param routes The routes and who authenticates their requests.
   * @throws {Error} When a route is already served by another route set.
   */
  serve?(routes: RouteSet): void;
  /**
   * Accepts one frame durably: emits it and commits it to the inbox under the data directory (group
   * commit), resolving once it is on disk; a crash after that loses nothing (the next start replays it).
   * Resolves `busy` when the rings stayed full for the input's wait, `too_large` for a frame no ring can
   * hold, `stopped` during shutdown (nothing is kept then); rejects with a `StoreError` when the commit
   * failed. Optional: absent without a store.
   */
  readonly accept?: Accept;
  /** Where events go straight to the store, with their ids (not through the pipeline). Optional. */
  readonly events?: EventWriter;
  /**
   * The `http.token` the endpoint's bearer routes require (empty: none), for a route set that
   * authenticates on its own (`auth: "own"`) and must honour the same credential. Optional.
   */
  readonly httpToken?: string;
  /** The store's CoScale definitions and event data, for the CoScale-compatible API. Optional. */
  readonly coscale?: CoscaleCatalog;
  /**
   * Hands a UDP socket opened through the runtime's FFI (`Runtime.openUdp`) to the pipeline's workers,
   * which read its datagrams as frames of `format` themselves, without the main thread. Optional: without
   * it, or when it resolves `undefined` (no workers), the input reads the socket and emits its datagrams.
   *
   * @param fd The socket's descriptor.
   * @param format The format of its datagrams.
   * @param onPackets Called with the number of datagrams the workers read, at each flush.
   * @param opening What the workers do to each datagram before its format parses it; nothing when absent.
   * @returns How to take the socket back (await it before closing the socket), or `undefined`.
   */
  attachSocket?(
    fd: number,
    format: FormatId,
    onPackets: (count: number) => void,
    opening?: SocketOpening,
  ): Promise<(() => Promise<void>) | undefined>;
  /** Aborted when the collector shuts down. */
  readonly signal: AbortSignal;
  /** The runtime facade. */
  readonly runtime: Runtime;
  /** A logger carrying `component_type` and `component_id`. */
  readonly log: Logger;
  /** The component's uniform counters. */
  readonly stats: ComponentStats;
  /**
   * The process's self-metrics registry, for families beyond the uniform counters (e.g.
   * `tally_input_packets_total{transport}`). Optional: without it such families are kept but not exported.
   */
  readonly selfStats?: SelfStats;
}

/** A running input. */
export interface Input {
  /** Starts listening or scheduling; resolves when ready. */
  start(ctx: InputContext): Promise<void>;
  /** Stops; resolves when no more frames will be emitted. */
  stop(): Promise<void>;
}

/** An input plugin: one folder under `src/inputs/`, one line in the registry. */
export interface InputPlugin<S extends GenericSchema = GenericSchema> extends ConfigurablePlugin<S> {
  /** Creates an input from a validated config. */
  create(config: InferOutput<S>, id: string): Input;
  /**
   * Checks what `start()` will need from this machine (files that must exist and be readable, commands
   * that must be executable), so that `tally config check` fails where `tally run` would fail or warn.
   * Reads only; binds and runs nothing.
   */
  preflight?(config: InferOutput<S>): Promise<readonly PreflightProblem[]>;
}

/** One thing {@link InputPlugin.preflight} found missing on this machine. */
export interface PreflightProblem {
  /** The key path inside the input's table, e.g. `["scripts", 0, "command"]`. */
  readonly path: readonly (string | number)[];
  /** What is wrong, e.g. `cannot read "/etc/tally/collectd.auth": no such file`. */
  readonly text: string;
}
