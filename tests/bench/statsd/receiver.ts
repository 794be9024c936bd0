/**
 * The contract every StatsD receiver under benchmark fulfils: start fresh on loopback ports in a given
 * directory, report its PID, UDP port and time to ready, read back its counter totals keyed by the
 * generator's names, and stop.
 *
 * @module
 */

/** The receivers the benchmark knows. */
export type ReceiverName = "tally" | "etsy" | "collectd";

/** A receiver that can be started any number of times, each time with fresh state. */
export interface Receiver {
  /** Which one. */
  readonly name: ReceiverName;
  /** A human label with its version, e.g. `Etsy statsd 0.9.0`. */
  readonly label: string;
  /** How the counter totals are read back, for the report. */
  readonly readback: string;
  /**
   * The time the counter totals must stay unchanged after the load ends before they count as final:
   * longer than one flush interval for receivers that only publish at flush.
   */
  readonly settleMs: number;
  /**
   * Starts a fresh instance on free loopback ports and waits until it is ready.
   *
   * @param dir An empty directory it may use for config, data and sockets.
   * @returns The running instance.
   * @throws {Error} When it cannot start or does not become ready; nothing is left running.
   */
  start(dir: string): Promise<RunningReceiver>;
}

/** A started receiver instance. */
export interface RunningReceiver {
  /** The process id (the root of its process tree). */
  readonly pid: number;
  /** The StatsD UDP port on 127.0.0.1. */
  readonly statsdPort: number;
  /** Milliseconds from spawn to ready. */
  readonly readyMs: number;
  /**
   * Reads the counter totals accumulated since start.
   *
   * @returns Generator counter name (`bench.c.K`) → total.
   * @throws {Error} When the readback fails.
   */
  readCounters(): Promise<ReadonlyMap<string, number>>;
  /**
   * Stops it by PID (SIGTERM, then SIGKILL after 5 s). Safe to call twice.
   *
   * @returns When it has exited.
   */
  stop(): Promise<void>;
  /** The last few KiB of its output, for error messages. */
  outputTail(): string;
  /**
   * Reads the receiver's own counters that explain a loss (packets received, drops by reason, bad
   * lines), where it has any.
   *
   * @returns Counter name → value; empty when the receiver exposes none.
   */
  readDiagnostics(): Promise<Readonly<Record<string, number>>>;
  /** Whether the process has exited (crashed, when before {@link RunningReceiver.stop}). */
  hasExited(): boolean;
}
