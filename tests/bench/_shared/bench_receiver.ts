/**
 * The contract every receiver under benchmark fulfils, whatever protocol it takes: start fresh on a free
 * loopback port in a given directory, report its PID, port and time to ready, and stop. Each benchmark adds
 * how its count is read back.
 *
 * @module
 */

/** A receiver that can be started any number of times, each time with fresh state. */
export interface BenchReceiver<Name extends string, Running extends RunningBase> {
  /** Which one. */
  readonly name: Name;
  /** A human label with its version or path, e.g. `Etsy statsd 0.9.0`. */
  readonly label: string;
  /** How the count is read back, for the report. */
  readonly readback: string;
  /**
   * The time the count must stay unchanged after the load ends before it counts as final: longer than
   * one flush interval for receivers that only publish at flush.
   */
  readonly settleMs: number;
  /**
   * Starts a fresh instance on free loopback ports and waits until it is ready.
   *
   * @param dir An empty directory it may use for config, data and sockets.
   * @returns The running instance.
   * @throws {Error} When it cannot start or does not become ready; nothing is left running.
   */
  start(dir: string): Promise<Running>;
}

/** What every started receiver offers the trial runner. */
export interface RunningBase {
  /** The process id (the root of its process tree). */
  readonly pid: number;
  /** The UDP port on 127.0.0.1 it receives on. */
  readonly port: number;
  /** Milliseconds from spawn to ready. */
  readonly readyMs: number;
  /** Stops it by PID (SIGTERM to its group, SIGKILL after 5 s). Safe to call twice. */
  stop(): Promise<void>;
  /** The last few KiB of its output, for error messages. */
  outputTail(): string;
  /** Whether the process has exited (crashed, when before `stop`). */
  hasExited(): boolean;
}
