/**
 * How one window's reducer state becomes a {@link Point}, against what its series carries from window to
 * window: a counter's total, the last gauge value, a summary's count and sum, a cumulative source's last
 * raw value. The series table keeps the carry; this is the arithmetic.
 *
 * @module
 */

import type { Point } from "../../model/metric.ts";
import { counterFinish } from "./counter_reducer.ts";
import { cumulativeFinish } from "./cumulative_reducer.ts";
import { gaugeFinish } from "./gauge_reducer.ts";
import type { ReducerState } from "./reducers.ts";
import { setFinish } from "./set_reducer.ts";
import { summaryFinish } from "./summary_reducer.ts";

/** What a series carries into its next window; {@link finishPoint} updates it in place. */
export interface Carry {
  /** The gauge value carried into the next window (0 before the first). */
  gauge: number;
  /** A cumulative series' last raw value (`NaN` before the first). */
  raw: number;
  /** A counter's running total, or a cumulative series' last raw value. */
  total: number;
  /** A summary's running count of observations. */
  totalCount: number;
  /** A summary's running sum of observations. */
  totalSum: number;
}

/**
 * Finishes one window of one series.
 *
 * Counters add to the running total. Gauges resolve against the carried value, and only a window at
 * least as new as the newest one seen (not `late`) updates the carry, so a late window is reported but
 * does not move the gauge back. Summaries add to the running count and sum. Sets report their distinct
 * count.
 *
 * Cumulative series (raw running totals) finish as counter points: the window's `delta` walks the carried
 * last raw value and then the window's values in frame order, adding `cur - prev` for each step up and
 * `cur` for each step down (a decrease is a restart from 0; a 32/64-bit wrap is taken for a restart too).
 * Signed cumulative series add `cur - prev` for every step, so a fall is a negative delta, never a
 * restart. The first value ever seen adds 0, since where the source started is unknown. `total` is the
 * last raw value, so it drops when the source restarts, as a Prometheus counter does. A late window
 * reports delta 0 and its own last raw value and moves no carry: its increase is already part of the
 * delta of the newer window that carried past it (increases telescope).
 *
 * @param state The window's reducer state (consumed).
 * @param carry What the series carries; updated in place.
 * @param late Whether the window is older than the newest one the series has seen.
 * @param intervalMs How long the window is (a counter's rate is its delta over this).
 * @param quantiles The quantiles (0-1, ascending) a summary reports.
 * @returns The point.
 */
export function finishPoint(
  state: ReducerState,
  carry: Carry,
  late: boolean,
  intervalMs: number,
  quantiles: readonly number[],
): Point {
  switch (state.kind) {
    case "counter": {
      const delta = counterFinish(state);
      carry.total += delta;
      return { kind: "counter", delta, total: carry.total, rate: delta / (intervalMs / 1000) };
    }
    case "gauge": {
      const value = gaugeFinish(state, carry.gauge);
      if (!late) carry.gauge = value;
      return { kind: "gauge", value };
    }
    case "summary": {
      const r = summaryFinish(state, quantiles);
      carry.totalCount += r.count;
      carry.totalSum += r.sum;
      return {
        kind: "summary",
        count: r.count,
        sum: r.sum,
        totalCount: carry.totalCount,
        totalSum: carry.totalSum,
        min: r.min,
        max: r.max,
        mean: r.sum / r.count,
        quantiles: quantiles.map((q, i) => ({ q, value: r.quantiles[i]! })),
      };
    }
    case "set":
      return { kind: "set", count: setFinish(state) };
    case "cumulative": {
      if (late) {
        const r = cumulativeFinish(state, NaN);
        return { kind: "counter", delta: 0, total: r.last, rate: 0 };
      }
      const r = cumulativeFinish(state, carry.raw);
      carry.raw = r.last;
      carry.total = r.last;
      return { kind: "counter", delta: r.delta, total: carry.total, rate: r.delta / (intervalMs / 1000) };
    }
  }
}

/**
 * A point with its running totals replaced, for the point `/metrics` shows after a late window added to
 * them.
 *
 * @param point The newest window's point.
 * @param carry The series' carry after the late window.
 * @returns The point with the carry's totals (the same object for kinds without totals).
 */
export function withTotals(point: Point, carry: Carry): Point {
  switch (point.kind) {
    case "counter":
      return { ...point, total: carry.total };
    case "summary":
      return { ...point, totalCount: carry.totalCount, totalSum: carry.totalSum };
    default:
      return point;
  }
}
