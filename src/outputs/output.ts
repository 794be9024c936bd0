/**
 * The contract every output plugin implements: the forwarders (`remote_write`, `otlp` and `influx`),
 * each one folder under `src/outputs/` and one line in `registry.ts`.
 *
 * An output receives every flush the pipeline makes through {@link Output.write}, synchronously, before the
 * store commits the same flush. When `write` returns, what the output keeps of the flush must be durable
 * against a process crash (a forwarder's outbox has written it), so that "persisted by every consumer" is
 * well defined for whoever deletes its own copy after a flush. Delivery happens later, on the output's own
 * schedule: a slow or unreachable receiver never blocks `write`, the flush, the store or the inputs.
 *
 * Most outputs are forwarders: a pure encoder from a flush to request bodies plus the shared machinery of
 * `_forwarder.ts` (outbox, sender, retries, self-metrics, readiness). See `README.md` beside this file for
 * how to add one.
 *
 * @module
 */

import type { GenericSchema, InferOutput } from "valibot";
import type { ConfigurablePlugin } from "../config/configurable_plugin.ts";
import type { ComponentStats, SelfStats } from "../internal/self_stats.ts";
import type { Logger } from "../internal/log.ts";
import type { Metric } from "../model/metric.ts";
import type { TallyEvent } from "../model/sample.ts";

/** What an output receives at each flush: the pipeline's flush result, narrowed to what outputs read. */
export interface OutputFlush {
  /** The start of the window closed, in ms since the epoch. */
  readonly windowMs: number;
  /** One metric per series per window merged (late windows from client timestamps included). */
  readonly metrics: readonly Metric[];
  /** The events received during the window. */
  readonly events: readonly TallyEvent[];
}

/** What an output sees of the collector. */
export interface OutputContext {
  /** The directory the output may keep state in (its outbox): `<data_dir>/outbox/<id>`; created by the output. */
  readonly stateDir: string;
  /** A logger carrying `component_type` and `component_id`. */
  readonly log: Logger;
  /** The component's uniform counters (`tally_component_*`). */
  readonly stats: ComponentStats;
  /** The process's self-metrics registry, for the output families (`tally_output_*`). */
  readonly selfStats: SelfStats;
  /** The `User-Agent` of its requests, e.g. `tally/0.1.0`. */
  readonly userAgent: string;
  /** The clock in ms since the epoch; `Date.now` by default. */
  readonly now?: () => number;
}

/** A running output: a resource with `start()` and `stop()`. */
export interface Output {
  /**
   * Opens the output's state (its outbox: replayed from disk in order) and starts delivering; resolves
   * when the output accepts `write`. Never waits for the receiver.
   *
   * @throws {Error} When the state cannot be opened (the data directory is not writable).
   */
  start(ctx: OutputContext): Promise<void>;
  /**
   * Takes one flush. Synchronous and never blocked by the receiver: when it returns, the flush is as
   * durable as the output's outbox makes it. Failures are counted and logged by the output, never thrown.
   */
  write(flush: OutputFlush): void;
  /**
   * Why the output is unhealthy for `/readyz`, or `undefined` while it is fine (e.g. it has held data it
   * could not deliver for longer than its `stall_after`).
   */
  problem(): string | undefined;
  /** Stops delivering (after a short drain of what is queued) and closes its state; resolves when closed. */
  stop(): Promise<void>;
}

/** An output plugin: one folder under `src/outputs/`, one line in the registry. */
export interface OutputPlugin<S extends GenericSchema = GenericSchema> extends ConfigurablePlugin<S> {
  /**
   * Creates an output from a validated config; it opens and sends nothing until `start()`.
   *
   * @param config The validated config.
   * @param id The component id (the config key).
   * @returns The output.
   */
  create(config: InferOutput<S>, id: string): Output;
}
