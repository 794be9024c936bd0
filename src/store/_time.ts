/**
 * Time parameters of the query API and `tally query`: relative durations, epoch numbers and RFC 3339.
 *
 * Kept here rather than shared with the config's duration parser because a query time has more forms
 * (absolute epochs, timestamps, `now`) and the store must not depend on the config module.
 *
 * @module
 */

/** Milliseconds per duration unit. */
const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** One or more `<number><unit>` parts, e.g. `1h30m`, `1.5h`, `500ms`. */
const DURATION_REGEXP = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const DURATION_PART_REGEXP = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;
const EPOCH_REGEXP = /^\d+(?:\.\d+)?$/;
const RFC3339_REGEXP = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Epoch numbers below this are seconds, at or above it milliseconds: 1e11 s is the year 5138, while
 * 1e11 ms is 1973, so no timestamp anyone queries for is ambiguous.
 */
const SECONDS_BELOW = 1e11;

/**
 * Parses a duration such as `15m`, `1h30m`, `7d`, `500ms` or `2w` (units ms, s, m, h, d, w).
 *
 * @param text The duration.
 * @returns The length in ms, or `undefined` when it does not parse.
 * @example
 * ```ts
 * parseDuration("1h30m"); // 5_400_000
 * ```
 */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_REGEXP.test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(DURATION_PART_REGEXP)) {
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
  }
  return Math.round(total);
}

/**
 * Parses a query time: `now`, a duration back from now (`1h`, also written `-1h`), an epoch number
 * (seconds below 1e11, milliseconds above) or an RFC 3339 timestamp (`2024-05-01T12:00:00Z`).
 *
 * @param text The parameter as given.
 * @param nowMs The current time in ms since the epoch, for relative forms.
 * @returns The time in ms since the epoch, or `undefined` when it does not parse.
 * @example
 * ```ts
 * parseTime("15m", 1_000_000_000); // 999_100_000
 * parseTime("1700000000", 0); // 1_700_000_000_000
 * ```
 */
export function parseTime(text: string, nowMs: number): number | undefined {
  const trimmed = text.trim();
  if (trimmed === "now") return nowMs;
  const relative = parseDuration(trimmed.startsWith("-") ? trimmed.slice(1) : trimmed);
  if (relative !== undefined) return nowMs - relative;
  if (EPOCH_REGEXP.test(trimmed)) {
    const n = Number(trimmed);
    return Math.round(n < SECONDS_BELOW ? n * 1000 : n);
  }
  if (RFC3339_REGEXP.test(trimmed)) {
    const ms = Date.parse(trimmed.replace(" ", "T"));
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}
