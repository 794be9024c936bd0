/**
 * The smoke test every shipped binary runs: `tally run` on free ports, one StatsD counter over UDP, and
 * the exact value on `/metrics` after a flush.
 *
 * @module
 */
import { createSocket } from "node:dgram";
import { scrape } from "./scrape.ts";
import { spawnTally } from "./spawn_tally.ts";
import { waitFor } from "./wait_for.ts";

/** Options for {@link statsdSmoke}. */
export interface StatsdSmokeOptions {
  /** The bound on `/readyz`, 20 000 ms by default (more under an emulator). */
  readonly readyTimeoutMs?: number;
  /** The bound on the counter appearing, 15 000 ms by default. */
  readonly valueTimeoutMs?: number;
}

/** What the smoke test saw. */
export interface StatsdSmokeResult {
  /** The counter's value on `/metrics` (sent as 5). */
  readonly value: number;
  /** What the process wrote to stderr. */
  readonly stderr: string;
}

/**
 * Starts `command run` with a 1 s flush, sends `smoke_hits:5|c` to its StatsD port, waits for
 * `smoke_hits_total` on `/metrics`, and stops it.
 *
 * @param command The executable and its leading arguments (an emulator first, if any).
 * @param options Bounds.
 * @returns The value seen and the process's stderr.
 * @throws {Error} When tally does not start or the counter does not appear in time.
 */
export async function statsdSmoke(
  command: readonly string[],
  options: StatsdSmokeOptions = {},
): Promise<StatsdSmokeResult> {
  const tally = await spawnTally({
    command,
    args: ["--flush-interval", "1s", "--workers", "1"],
    readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
  });
  let result: StatsdSmokeResult;
  try {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      socket.send(
        "smoke_hits:5|c",
        tally.statsdPort,
        "127.0.0.1",
        (error) => (error ? reject(error) : resolve()),
      );
    });
    socket.close();
    const value = await waitFor(async () => (await scrape(tally.url)).get("smoke_hits_total"), {
      timeoutMs: options.valueTimeoutMs ?? 15_000,
      intervalMs: 250,
      what: "smoke_hits_total on /metrics",
    });
    result = { value, stderr: tally.stderr() };
  } catch (error) {
    await tally.stop();
    throw new Error(`StatsD smoke test of "${command.join(" ")}" failed; stderr:\n${tally.stderr()}`, {
      cause: error,
    });
  }
  const exit = await tally.stop();
  if (exit.killed) throw new Error(`tally did not stop on SIGTERM:\n${tally.stderr()}`);
  return result;
}
