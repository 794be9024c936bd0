/**
 * Test support: a spawned receiver (InfluxDB, Prometheus, VictoriaMetrics) watched for its output and its
 * exit, and stopped the same way whichever it is.
 *
 * @module
 */

import type { ChildProcess } from "node:child_process";

/** How long a receiver gets after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 10_000;

/** A spawned process with its output collected. */
export interface WatchedProcess {
  /** Its stdout and stderr so far, interleaved as they came. */
  output(): string;
  /** Resolves when it has exited. */
  readonly exited: Promise<void>;
  /** Sends SIGTERM (SIGKILL after {@link STOP_GRACE_MS}) unless it already exited, and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts collecting a child's output and watching for its exit.
 *
 * @param child The spawned process, with piped stdout and stderr.
 * @returns The watcher.
 */
export function watchProcess(child: ChildProcess): WatchedProcess {
  let text = "";
  child.stdout?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  return {
    output: () => text,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      await exited;
    },
  };
}
