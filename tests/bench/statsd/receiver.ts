/**
 * The contract every StatsD receiver under benchmark fulfils: start fresh on loopback ports in a given
 * directory, report its PID, UDP port and time to ready, read back its counter totals keyed by the
 * generator's names, and stop.
 *
 * @module
 */
import type { BenchReceiver, RunningBase } from "../_shared/bench_receiver.ts";

/** The receivers the benchmark knows. */
export type ReceiverName = "tally" | "etsy" | "collectd";

/** A StatsD receiver that can be started any number of times, each time with fresh state. */
export type Receiver = BenchReceiver<ReceiverName, RunningReceiver>;

/** A started receiver instance; `port` is its StatsD UDP port on 127.0.0.1. */
export interface RunningReceiver extends RunningBase {
  /**
   * Reads the counter totals accumulated since start.
   *
   * @returns Generator counter name (`bench.c.K`) → total.
   * @throws {Error} When the readback fails.
   */
  readCounters(): Promise<ReadonlyMap<string, number>>;
  /**
   * Reads the receiver's own counters that explain a loss (packets received, drops by reason, bad
   * lines), where it has any.
   *
   * @returns Counter name → value; empty when the receiver exposes none.
   */
  readDiagnostics(): Promise<Readonly<Record<string, number>>>;
}
