/**
 * How a {@link Point} becomes one `points` row: a headline `value` and a JSON object of the other numbers.
 *
 * The headline is what a person wants to see first and what a sparkline draws:
 *
 * | point kind | `value`                          | `fields`                                                      |
 * |------------|----------------------------------|---------------------------------------------------------------|
 * | counter    | `delta` (the window's increase)  | `total`, `rate`                                               |
 * | gauge      | `value`                          | none                                                          |
 * | set        | `count`                          | none                                                          |
 * | summary    | the median (`q = 0.5`), else `mean` | `count`, `sum`, `totalCount`, `totalSum`, `min`, `max`, `mean`, one `pNN` per quantile |
 *
 * A `cumulative` series (a source's running total) finishes as a counter point and is stored like one:
 * the window's increase as `value`, the source's last reported total in `total`.
 *
 * A summary keeps every number in `fields` (the median too) because its headline is derived, not a field
 * of its own; a reader that wants "p50" or "mean" finds it by name either way.
 *
 * @module
 */

import type { Point, Quantile } from "../model/metric.ts";

/** One point as stored: the headline number and the other numbers as JSON, or `null` when there are none. */
export interface PointRow {
  /** The headline number. */
  readonly value: number;
  /** The other numbers as a JSON object, or `null`. */
  readonly fields: string | null;
}

/**
 * Maps a point to its stored headline value and fields.
 *
 * @param point The aggregated point.
 * @returns The row values.
 */
export function pointRow(point: Point): PointRow {
  switch (point.kind) {
    case "counter":
      return { value: point.delta, fields: JSON.stringify({ total: point.total, rate: point.rate }) };
    case "gauge":
      return { value: point.value, fields: null };
    case "set":
      return { value: point.count, fields: null };
    case "summary": {
      const fields: Record<string, number> = {
        count: point.count,
        sum: point.sum,
        totalCount: point.totalCount,
        totalSum: point.totalSum,
        min: point.min,
        max: point.max,
        mean: point.mean,
      };
      let median = point.mean;
      for (const quantile of point.quantiles) {
        fields[quantileField(quantile)] = quantile.value;
        if (quantile.q === 0.5) median = quantile.value;
      }
      return { value: median, fields: JSON.stringify(fields) };
    }
  }
}

/**
 * Names a quantile the way dashboards do: 0.5 → `p50`, 0.999 → `p99.9`.
 *
 * @param quantile The quantile.
 * @returns The field name.
 */
function quantileField(quantile: Quantile): string {
  // Rounding to 4 decimals of a percent hides binary noise (0.999 * 100 = 99.89999999999999).
  return "p" + String(Math.round(quantile.q * 1e6) / 1e4);
}
