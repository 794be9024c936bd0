/**
 * Starting a receiver under benchmark, whatever it is: spawn it in its own process group, poll until it
 * is ready (stopping it if it never is), and hand back the part of a running receiver every benchmark
 * shares. Also the readiness checks and the `/metrics` scrape the receivers have in common.
 *
 * @module
 */
import type { RunningBase } from "./bench_receiver.ts";
import { udpPortState } from "./proc_stats.ts";
import { ReceiverProcess } from "./receiver_process.ts";

/** Options for {@link startReceiver}. */
export interface StartReceiverOptions {
  /** The working directory. */
  readonly cwd: string;
  /** The UDP port it receives on, 127.0.0.1. */
  readonly port: number;
  /** The readiness check; a throw counts as not ready yet. */
  readonly isReady: () => Promise<boolean>;
  /** The bound on waiting for readiness, ms (20 s by default). */
  readonly readyTimeoutMs?: number | undefined;
}

/**
 * Spawns a receiver and waits until it is ready.
 *
 * @param command The executable.
 * @param args Its arguments.
 * @param options The working directory, port, readiness check and its bound.
 * @returns The running receiver's shared part: PID, port, time to ready, stop, output and exit state.
 * @throws {Error} When it exits first or is not ready in time; it is stopped before the throw.
 */
export async function startReceiver(
  command: string,
  args: readonly string[],
  options: StartReceiverOptions,
): Promise<RunningBase> {
  const child = new ReceiverProcess(command, args, { cwd: options.cwd });
  let readyMs: number;
  try {
    readyMs = await child.waitReady(options.isReady, options.readyTimeoutMs ?? 20_000);
  } catch (error) {
    await child.stop();
    throw error;
  }
  return {
    pid: child.pid,
    port: options.port,
    readyMs,
    stop: async function stopReceiver() {
      await child.stop();
    },
    outputTail: () => child.outputTail,
    hasExited: () => child.exit !== undefined,
  };
}

/**
 * A readiness check: tally's `GET /readyz` answers 200.
 *
 * @param base tally's HTTP base URL.
 * @returns The check.
 */
export function readyzAnswers200(base: string): () => Promise<boolean> {
  return async function readyzAnswers200() {
    const response = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(1000) });
    await response.body?.cancel();
    return response.status === 200;
  };
}

/**
 * A readiness check: something has bound the UDP port on 127.0.0.1.
 *
 * @param port The port.
 * @returns The check.
 */
export function udpBound(port: number): () => Promise<boolean> {
  return function udpBound() {
    return Promise.resolve(udpPortState(port).bound);
  };
}

/**
 * Scrapes tally's `/metrics`.
 *
 * @param base tally's HTTP base URL.
 * @returns The exposition text.
 * @throws {Error} When the request fails or does not answer 200.
 */
export async function scrapeMetrics(base: string): Promise<string> {
  const response = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5000) });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(
      `Cannot scrape "${base}/metrics": status ${response.status}, body "${text.slice(0, 200)}"`,
    );
  }
  return text;
}
