/**
 * The wait for a quiet machine before each trial: other processes on a small machine skew a result more
 * than anything else.
 *
 * @module
 */
import { busyShare, machineCpu } from "./proc_stats.ts";
import { sleep } from "./receiver_process.ts";
import { QUIET_SHARE } from "./trial_result.ts";

/** The window over which quietness is measured. */
const QUIET_WINDOW_MS = 500;

/**
 * Waits until the machine is quiet (busy share below {@link QUIET_SHARE} over half a second), at most
 * `maxWaitMs`.
 *
 * @param maxWaitMs The bound on waiting, ms (0: measure once).
 * @returns The last busy share measured (0..1).
 */
export async function waitForQuiet(maxWaitMs: number): Promise<number> {
  const deadline = performance.now() + maxWaitMs;
  for (;;) {
    const before = machineCpu();
    await sleep(QUIET_WINDOW_MS);
    const share = busyShare(before, machineCpu());
    if (share < QUIET_SHARE || performance.now() >= deadline) return share;
  }
}
