/**
 * The pause between two attempts to reach the agent while it starts: exponential, capped, with jitter so
 * that many CLI processes started together (a cron minute, a fleet roll-out) do not knock in lockstep.
 *
 * @module
 */

/** How the pause grows. */
export interface BackoffOptions {
  /** The pause before the second attempt, before jitter, in ms. */
  readonly baseMs: number;
  /** The largest pause, before jitter, in ms. */
  readonly maxMs: number;
  /** A uniform random number in [0, 1); `Math.random` in the CLI, a fixed sequence in tests. */
  readonly random: () => number;
}

/** The defaults the CLI uses: 50 ms doubling to 1 s. */
export const DEFAULT_BACKOFF: Omit<BackoffOptions, "random"> = { baseMs: 50, maxMs: 1000 };

/**
 * The pause after a failed attempt, "equal jitter": half of the capped exponential step, plus a random
 * part of the other half, so the pause never collapses to zero yet two clients rarely agree.
 *
 * @param attempt How many attempts failed so far, minus one (0 after the first failure).
 * @param options The base, the cap and the random source.
 * @returns The pause in ms, in [step / 2, step) where step = min(maxMs, baseMs · 2^attempt).
 * @example
 * ```ts
 * backoffDelay(3, { baseMs: 50, maxMs: 1000, random: () => 0.5 }); // 300 (step 400)
 * ```
 */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const step = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(attempt, 30));
  return step / 2 + options.random() * (step / 2);
}
