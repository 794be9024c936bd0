import type { Labels, SampleKind } from "./sample.ts";

/** One requested quantile and its estimate. */
export interface Quantile {
  /** The quantile in [0, 1], e.g. 0.99. */
  readonly q: number;
  /** The estimated value at that quantile. */
  readonly value: number;
}

/**
 * The aggregated value of one series over one flush window.
 *
 * Counters carry both the window's delta and the cumulative total since `startMs` so each output can
 * pick the temporality it needs (Prometheus and remote-write want cumulative, StatsD-style backends delta).
 */
export type Point =
  | {
    readonly kind: "counter";
    /**
     * The sum of increments in this window (scaled by 1/sample rate); for a `cumulative` series, the
     * increase of the source's running total over the window (see `SeriesTable.merge`); for a
     * `signed_cumulative` series, its change over the window, negative when it fell.
     */
    readonly delta: number;
    /**
     * The running total since the series started (`Metric.startMs`); for a `cumulative` or
     * `signed_cumulative` series, the source's own last reported total (it drops when the source restarts,
     * or, signed, whenever the total falls).
     */
    readonly total: number;
    /** The per-second rate over the window. */
    readonly rate: number;
  }
  | {
    readonly kind: "gauge";
    /** The gauge value at the end of the window. */
    readonly value: number;
  }
  | {
    readonly kind: "summary";
    /** The number of observations in this window (scaled by 1/sample rate). */
    readonly count: number;
    /** The sum of observations in this window. */
    readonly sum: number;
    /** The cumulative observation count since `startMs`. */
    readonly totalCount: number;
    /** The cumulative observation sum since `startMs`. */
    readonly totalSum: number;
    /** The smallest observation in this window. */
    readonly min: number;
    /** The largest observation in this window. */
    readonly max: number;
    /** The mean of this window's observations. */
    readonly mean: number;
    /** The configured quantiles of this window's observations, ascending by `q`. */
    readonly quantiles: readonly Quantile[];
  }
  | {
    readonly kind: "set";
    /** The number of distinct members seen in this window. */
    readonly count: number;
  };

/** One series' aggregated value for one flush window: what the store holds and outputs encode. */
export interface Metric {
  /** The metric name as received. */
  readonly name: string;
  /** The labels, sorted by name. */
  readonly labels: Labels;
  /** The series key (see `seriesKey`). */
  readonly key: string;
  /**
   * The kind the samples had (a timer and a distribution both finish as a summary, a cumulative and a
   * signed cumulative as a counter).
   */
  readonly kind: SampleKind;
  /** The aggregated value. */
  readonly point: Point;
  /** The start of the window in ms since the epoch (aligned to the flush interval); points are stamped with it. */
  readonly timeMs: number;
  /** The window length in ms. */
  readonly intervalMs: number;
  /** When the series (and its cumulative totals) started, in ms since the epoch. */
  readonly startMs: number;
}
