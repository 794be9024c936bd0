/**
 * Times as the CoScale CLI takes them (`--timestamp`, `--stopTime`, the `data insert` points): a number of
 * seconds where 0 is now, a negative number is that many seconds ago and a positive one is Unix time.
 *
 * @module
 */

const SECONDS_REGEXP = /^-?\d+(?:\.\d+)?$/;

/**
 * Resolves a CoScale-style time against a clock.
 *
 * @param text The time as written: `0`, `-300`, `1764748800` (fractions of a second are kept).
 * @param nowMs The clock's now, in ms since the epoch.
 * @returns The time in whole ms since the epoch, or `undefined` when the text is not such a number.
 * @example
 * ```ts
 * resolveCoscaleTime("-300", 1_764_748_800_000); // 1_764_748_500_000
 * ```
 */
export function resolveCoscaleTime(text: string, nowMs: number): number | undefined {
  const trimmed = text.trim();
  if (!SECONDS_REGEXP.test(trimmed)) return undefined;
  const seconds = Number(trimmed);
  const ms = Math.round(seconds <= 0 ? nowMs + seconds * 1000 : seconds * 1000);
  return Number.isSafeInteger(ms) && ms >= 0 ? ms : undefined;
}
