/**
 * The main thread's long-lived series state: merges the workers' partials at each flush, finishes
 * them into {@link Metric}s, and carries what outlives a window (cumulative totals, the last gauge
 * value, the latest metric for `/metrics`).
 *
 * @module
 */

import type { Metric, Point } from "../../model/metric.ts";
import type { Labels, SampleKind } from "../../model/sample.ts";
import { seriesKindKey } from "../../model/series_key.ts";
import { SeriesMap } from "./_series_map.ts";
import type { AggregatePartial } from "./aggregator.ts";
import { type Carry, finishPoint, withTotals } from "./_finish_point.ts";
import { reducerMerge, type ReducerState } from "./reducers.ts";

/** The default percentiles reported for timers, histograms and distributions. */
export const DEFAULT_PERCENTILES: readonly number[] = [50, 90, 95, 99];

/** The default cap on live series. */
export const DEFAULT_MAX_SERIES = 100_000;

/** The default idle time after which a series expires, in ms. */
export const DEFAULT_IDLE_MS = 300_000;

/** How a series table finishes and bounds its series. */
export interface SeriesTableOptions {
  /** The flush interval in ms (for counter rates and `Metric.intervalMs`). */
  readonly intervalMs: number;
  /** The percentiles (0-100) reported for summaries; see {@link DEFAULT_PERCENTILES}. */
  readonly percentiles: readonly number[];
  /** The most live series; new series past it are rejected and counted. See {@link DEFAULT_MAX_SERIES}. */
  readonly maxSeries: number;
  /** How long a series may go without samples before `expire` drops it, in ms. See {@link DEFAULT_IDLE_MS}. */
  readonly idleMs: number;
  /** How many observations a merged summary keeps exactly before switching to the sketch. */
  readonly exactLimit: number;
  /** The clock for "last updated" (ms since the epoch); `Date.now` when absent. */
  readonly now?: () => number;
}

/**
 * The long-lived state of one series. What the series is stays in the identity it was first merged with
 * (the pool's dictionary keeps the same object): ten fields instead of thirteen, 48 bytes a series less.
 */
interface _Series {
  readonly identity: SeriesIdentity;
  readonly startMs: number;
  /** The clock time of the last merge that brought this series samples. */
  seenAtMs: number;
  /** The newest bucket merged; older buckets are late. */
  latestMs: number;
  total: number;
  totalCount: number;
  totalSum: number;
  /** The gauge value carried into the next window (0 before the first). */
  gauge: number;
  /** A cumulative series' last raw value, carried into the next window (`NaN` before the first). */
  raw: number;
  /**
   * The point of the newest bucket, with cumulative totals kept current: `/metrics` shows it. (Not the
   * whole metric, which `snapshot` rebuilds from the fields above: a flush's metrics can then be collected
   * once its consumers are done with them, 80 bytes a series.)
   */
  point: Point;
}

/**
 * What an expired series leaves behind so that it continues where it stopped when it comes back: its
 * start and running totals (a counter's total, a summary's count and sum, a cumulative source's last raw
 * value). A few numbers per series, so a counter never goes back to zero just because it idled.
 */
interface _Dormant {
  readonly startMs: number;
  readonly total: number;
  readonly totalCount: number;
  readonly totalSum: number;
  readonly raw: number;
}

/** What a series is, as the merge receives it (a worker's `PartialSeries` is one). */
export interface SeriesIdentity {
  /** The series key. */
  readonly key: string;
  /** The metric name. */
  readonly name: string;
  /** The labels. */
  readonly labels: Labels;
  /** The kind of its samples. */
  readonly kind: SampleKind;
}

/**
 * What a series is, copied out of a partial's series: the table keeps the identity it is given for the
 * series' life, and the partial's object would keep its reducer state alive with it.
 *
 * @param series A series of a partial (or anything that carries an identity).
 * @returns A new object with its key, name, labels and kind only.
 */
export function seriesIdentity(series: SeriesIdentity): SeriesIdentity {
  return { key: series.key, name: series.name, labels: series.labels, kind: series.kind };
}

/** One series of one bucket while the partials are merged. */
interface _Pending {
  readonly series: SeriesIdentity;
  readonly state: ReducerState;
}

/**
 * The table of live series on the main thread.
 *
 * A resource holding the cumulative state; bounded by `maxSeries` and drained of idle series by
 * `expire`.
 *
 * @example
 * ```ts
 * const table = new SeriesTable({ intervalMs: 10_000, percentiles: [50, 99], maxSeries: 100_000,
 *   idleMs: 300_000, exactLimit: 256 });
 * const metrics = table.merge(workers.map((w) => w.partial)); // to the store and the outputs
 * table.expire(Date.now());
 * ```
 */
export class SeriesTable {
  readonly #intervalMs: number;
  readonly #quantiles: readonly number[];
  readonly #maxSeries: number;
  readonly #idleMs: number;
  readonly #exactLimit: number;
  readonly #now: () => number;
  /** The live series by key and kind: a key used by several kinds is several series. */
  readonly #series = new SeriesMap<_Series>(_seriesKind);
  /**
   * Expired series that carry running totals, by {@link seriesKindKey}, oldest first; at most `maxSeries`
   * (the oldest are forgotten first), so what idles costs a few numbers each and stays bounded.
   */
  readonly #dormant = new Map<string, _Dormant>();
  /** The series merged since the last {@link SeriesTable.finishMerge}, by window. */
  #windows = new Map<number, SeriesMap<_Pending>>();
  /** The length of those windows that span more than the interval (folded ones), by window. */
  #spans = new Map<number, number>();
  /** The carry of the series being finished (one object, refilled per series). */
  readonly #carry: Carry = { gauge: 0, raw: NaN, total: 0, totalCount: 0, totalSum: 0 };
  #rejected = 0;
  #invalid = 0;

  /**
   * Creates an empty table.
   *
   * @param options The interval, percentiles, caps and clock.
   * @throws {RangeError} When the interval is not positive or a percentile lies outside 0-100.
   */
  constructor(options: SeriesTableOptions) {
    if (!(options.intervalMs > 0)) {
      throw new RangeError(
        `Cannot create series table: interval must be positive, got "${options.intervalMs}"`,
      );
    }
    for (const p of options.percentiles) {
      if (!(p >= 0 && p <= 100)) {
        throw new RangeError(`Cannot create series table: percentile must lie in 0-100, got "${p}"`);
      }
    }
    this.#intervalMs = options.intervalMs;
    this.#quantiles = [...new Set(options.percentiles.map((p) => p / 100))].sort((a, b) => a - b);
    this.#maxSeries = options.maxSeries;
    this.#idleMs = options.idleMs;
    this.#exactLimit = options.exactLimit;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Merges one series' state of one bucket into the flush being merged; {@link SeriesTable.finishMerge}
   * finishes it. For callers that receive a flush's series piece by piece (the pool's consumer), so no
   * piece is held longer than its merge.
   *
   * @param windowMs The bucket start.
   * @param series What the series is (kept by reference until the flush is finished, and by a new
   *   series for its life: the caller does not change it).
   * @param state Its reducer state (consumed).
   * @param intervalMs How long the bucket is: the interval, or more for several windows folded into one.
   */
  mergeSeries(
    windowMs: number,
    series: SeriesIdentity,
    state: ReducerState,
    intervalMs: number = this.#intervalMs,
  ): void {
    let pending = this.#windows.get(windowMs);
    if (pending === undefined) {
      pending = new SeriesMap(_pendingKind);
      this.#windows.set(windowMs, pending);
      if (intervalMs !== this.#intervalMs) this.#spans.set(windowMs, intervalMs);
    }
    const p = pending.get(series.key, series.kind);
    if (p === undefined) pending.add(series.key, series.kind, { series, state });
    else reducerMerge(p.state, state, this.#exactLimit);
  }

  /**
   * Merges the partials of one flush and finishes every series of every bucket, with the series merged
   * by {@link SeriesTable.mergeSeries} since the last flush.
   *
   * Buckets are merged across partials and finished in ascending time, each series against what it
   * carries from earlier buckets ({@link finishPoint} says how per kind: counter totals, the gauge carry,
   * summary counts and sums, cumulative deltas). A late bucket (older than the newest seen) is reported
   * but moves neither a gauge's carry nor the point `/metrics` shows, only running totals.
   *
   * A series is a key and a kind: a name used as a counter and a timer is two series, merged, finished
   * and bounded apart, so no kind ever drops another's samples.
   *
   * New series past `maxSeries` live series are rejected: one rejection per series per bucket.
   *
   * @param partials The partials of all aggregators for this flush (consumed: their states are merged
   *   in place).
   * @returns One metric per series per bucket, buckets ascending; order within a bucket is unspecified.
   */
  merge(partials: readonly AggregatePartial[]): Metric[] {
    for (const partial of partials) {
      this.#rejected += partial.rejected;
      this.#invalid += partial.invalid;
      for (const bucket of partial.buckets) {
        for (const s of bucket.series) this.mergeSeries(bucket.windowMs, seriesIdentity(s), s.state);
      }
    }
    return this.finishMerge();
  }

  /**
   * Finishes the series merged by {@link SeriesTable.mergeSeries} since the last flush (what
   * {@link SeriesTable.merge} does after merging its partials).
   *
   * @returns One metric per series per bucket, buckets ascending.
   */
  finishMerge(): Metric[] {
    const windows = this.#windows;
    const spans = this.#spans;
    this.#windows = new Map();
    this.#spans = new Map();
    const out: Metric[] = [];
    const order = [...windows.keys()].sort((a, b) => a - b);
    const now = this.#now();
    for (const windowMs of order) {
      const intervalMs = spans.get(windowMs) ?? this.#intervalMs;
      for (const p of windows.get(windowMs)!.values()) {
        const metric = this.#finish(p.series, p.state, windowMs, intervalMs, now);
        if (metric !== undefined) out.push(metric);
      }
    }
    return out;
  }

  /**
   * Finishes one series of one bucket at once, without waiting for the rest of the flush: for a caller
   * that receives each series of a window exactly once and windows in ascending order (the pool's one
   * worker), so that no state outlives its piece. Merges nothing: a second state of the same series and
   * window becomes a second metric.
   *
   * @param windowMs The bucket start.
   * @param series What the series is (kept by a new series for its life: the caller does not change it).
   * @param state Its reducer state (consumed).
   * @param intervalMs How long the bucket is: the interval, or more for several windows folded into one
   *   (a counter's rate is its delta over this, and the metric says it).
   * @returns Its metric, or `undefined` when the series cap rejected it.
   */
  finishSeries(
    windowMs: number,
    series: SeriesIdentity,
    state: ReducerState,
    intervalMs: number = this.#intervalMs,
  ): Metric | undefined {
    return this.#finish(series, state, windowMs, intervalMs, this.#now());
  }

  #finish(
    identity: SeriesIdentity,
    state: ReducerState,
    windowMs: number,
    intervalMs: number,
    now: number,
  ): Metric | undefined {
    let series = this.#series.get(identity.key, identity.kind);
    if (series === undefined && this.#series.size >= this.#maxSeries) {
      this.#rejected++;
      return undefined;
    }
    const late = series !== undefined && windowMs < series.latestMs;
    // A series back from idle continues its totals (and its start) instead of reading as a reset.
    let resumed: _Dormant | undefined;
    if (series === undefined && this.#dormant.size > 0) {
      const id = seriesKindKey(identity.key, identity.kind);
      resumed = this.#dormant.get(id);
      if (resumed !== undefined) this.#dormant.delete(id);
    }
    const since = series ?? resumed;
    const startMs = since?.startMs ?? windowMs;
    const carry = this.#carry;
    carry.gauge = series?.gauge ?? 0;
    carry.raw = since?.raw ?? NaN;
    carry.total = since?.total ?? 0;
    carry.totalCount = since?.totalCount ?? 0;
    carry.totalSum = since?.totalSum ?? 0;
    const point = finishPoint(state, carry, late, intervalMs, this.#quantiles);
    // A known series lends its own name, labels and key: the same string objects flush after flush (a
    // worker's new generation of names sends fresh copies), so consumers' maps keyed by them hash each key
    // once.
    const known = series?.identity ?? identity;
    const metric: Metric = {
      name: known.name,
      labels: known.labels,
      key: known.key,
      kind: identity.kind,
      point,
      timeMs: windowMs,
      intervalMs,
      startMs,
    };
    if (series === undefined) {
      series = {
        identity,
        startMs,
        seenAtMs: now,
        latestMs: windowMs,
        total: carry.total,
        totalCount: carry.totalCount,
        totalSum: carry.totalSum,
        gauge: carry.gauge,
        raw: carry.raw,
        point,
      };
      this.#series.add(identity.key, identity.kind, series);
      return metric;
    }
    series.seenAtMs = now;
    series.total = carry.total;
    series.totalCount = carry.totalCount;
    series.totalSum = carry.totalSum;
    series.gauge = carry.gauge;
    series.raw = carry.raw;
    if (!late) {
      series.latestMs = windowMs;
      series.point = point;
    } else {
      series.point = withTotals(series.point, carry);
    }
    return metric;
  }

  /**
   * Drops the series that got no samples for `idleMs`: they leave `/metrics` and free room under the cap.
   * A counter, summary or cumulative series keeps its start and running totals aside (a few numbers, at
   * most `maxSeries` of them, the oldest forgotten first), so when it comes back its `_total`, `_sum` and
   * `_count` continue where they stopped rather than drop to zero (which Prometheus would read as a
   * reset, and a Telegraf user as lost counts), and a cumulative source's next value yields the increase
   * over the gap. A gauge or set that comes back starts over (its gauge carry from zero).
   *
   * @param nowMs The current time in ms since the epoch.
   * @returns How many series were dropped.
   */
  expire(nowMs: number): number {
    let dropped = 0;
    for (const series of this.#series.values()) {
      if (nowMs - series.seenAtMs >= this.#idleMs) {
        const { key: seriesKey, kind } = series.identity;
        this.#series.delete(seriesKey, kind);
        dropped++;
        if (kind === "gauge" || kind === "set") continue;
        const key = seriesKindKey(seriesKey, kind);
        this.#dormant.delete(key);
        this.#dormant.set(key, {
          startMs: series.startMs,
          total: series.total,
          totalCount: series.totalCount,
          totalSum: series.totalSum,
          raw: series.raw,
        });
        if (this.#dormant.size > this.#maxSeries) this.#dormant.delete(this.#dormant.keys().next().value!);
      }
    }
    return dropped;
  }

  /**
   * The latest metric of every live series, for the Prometheus `/metrics` page: the newest window's
   * point, with the cumulative counter total and summary count/sum kept current (late buckets
   * included).
   *
   * @returns One metric per live series.
   */
  snapshot(): Metric[] {
    const out: Metric[] = [];
    for (const series of this.#series.values()) {
      const { name, labels, key, kind } = series.identity;
      out.push({
        name,
        labels,
        key,
        kind,
        point: series.point,
        timeMs: series.latestMs,
        intervalMs: this.#intervalMs,
        startMs: series.startMs,
      });
    }
    return out;
  }

  /**
   * The number of live series.
   *
   * @returns The count.
   */
  get size(): number {
    return this.#series.size;
  }

  /**
   * The cardinality rejections so far: series-buckets refused by the table's cap plus samples the
   * aggregators refused by their per-bucket cap.
   *
   * @returns The count.
   */
  get rejected(): number {
    return this.#rejected;
  }

  /**
   * The samples the aggregators dropped for a non-finite value so far.
   *
   * @returns The count.
   */
  get invalid(): number {
    return this.#invalid;
  }
}

function _seriesKind(series: _Series): SampleKind {
  return series.identity.kind;
}

function _pendingKind(pending: _Pending): SampleKind {
  return pending.series.kind;
}
