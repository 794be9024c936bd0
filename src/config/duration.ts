/**
 * Durations as written in config and flags: `"500ms"`, `"10s"`, `"5m"`, `"1h"`, `"7d"`.
 *
 * @module
 */

/** Milliseconds per unit, largest first so {@link formatDuration} picks the coarsest exact unit. */
const UNIT_MS: Readonly<Record<string, number>> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const DURATION_REGEXP = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/**
 * Parses a duration: a non-negative number and one unit out of `ms`, `s`, `m`, `h`, `d`.
 *
 * Compound forms (`1h30m`) are refused on purpose: one unit reads unambiguously in a config file.
 *
 * @param text The duration, e.g. `"10s"`.
 * @returns The duration in whole milliseconds (rounded), or `undefined` when the text is not a duration.
 * @example
 * ```ts
 * parseDuration("1.5s"); // 1500
 * ```
 */
export function parseDuration(text: string): number | undefined {
  const m = DURATION_REGEXP.exec(text.trim());
  if (m === null) return undefined;
  const ms = Math.round(Number(m[1]) * (UNIT_MS[m[2] ?? ""] ?? Number.NaN));
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/**
 * Formats milliseconds in the coarsest unit that represents them exactly.
 *
 * @param ms The duration in milliseconds.
 * @returns The text, e.g. `"5m"` for 300000 or `"1500ms"` for 1500.
 */
export function formatDuration(ms: number): string {
  for (const unit of ["d", "h", "m", "s"]) {
    const size = UNIT_MS[unit] ?? 1;
    if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
