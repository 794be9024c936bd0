/**
 * Renders numbers as a unicode sparkline (`▁▂▃▄▅▆▇█`) for `tally query`.
 *
 * @module
 */

/** The eight block heights, lowest first. */
const BARS = "▁▂▃▄▅▆▇█";

/** The default and usual widest sparkline, in columns. */
export const SPARKLINE_WIDTH = 60;

/**
 * Draws `values` as one bar per value, or, when there are more values than `width`, one bar per bucket of
 * consecutive values (their mean). Bars scale from the smallest to the largest bucket; when all are equal
 * every bar is the middle height. Non-finite values are skipped; a bucket with none is drawn as a space.
 *
 * @param values The values in time order.
 * @param width The most columns drawn; at least 1.
 * @returns The sparkline, `min(values.length, width)` characters long.
 * @example
 * ```ts
 * sparkline([1, 2, 3, 4, 5, 6, 7, 8]); // "▁▂▃▄▅▆▇█"
 * ```
 */
export function sparkline(values: readonly number[], width: number = SPARKLINE_WIDTH): string {
  const columns = Math.min(values.length, Math.max(1, Math.floor(width)));
  const buckets: number[] = new Array(columns);
  let min = Infinity;
  let max = -Infinity;
  for (let column = 0; column < columns; column++) {
    // Spread the values evenly: bucket sizes differ by at most one.
    const from = Math.floor((column * values.length) / columns);
    const to = Math.floor(((column + 1) * values.length) / columns);
    let sum = 0;
    let count = 0;
    for (let i = from; i < to; i++) {
      const value = values[i]!;
      if (!Number.isFinite(value)) continue;
      sum += value;
      count++;
    }
    const mean = count === 0 ? NaN : sum / count;
    buckets[column] = mean;
    if (count > 0) {
      if (mean < min) min = mean;
      if (mean > max) max = mean;
    }
  }
  const span = max - min;
  let out = "";
  for (const mean of buckets) {
    if (Number.isNaN(mean)) out += " ";
    else if (span === 0) out += BARS[3];
    else out += BARS[Math.round(((mean - min) / span) * (BARS.length - 1))];
  }
  return out;
}
