/**
 * The per-worker aggregator: folds samples into reducer states per time bucket and series, and hands
 * them over as a plain-data {@link AggregatePartial} at each flush.
 *
 * A series is a series key (name and labels) *and* a sample kind: a name used both as a counter and a
 * timer (as Etsy setups do, keeping a namespace per type) is two series, and neither drops the other.
 *
 * One runs in every worker (or inline on the main thread with `workers = 0`); the main thread merges
 * the partials of all of them in a `SeriesTable`. Because the reducers are mergeable, the merged result
 * equals one aggregator fed every frame in arrival order.
 *
 * @module
 */

import type { Labels, Sample, SampleKind } from "../../model/sample.ts";
import { SeriesNumbers } from "./_series_numbers.ts";
import { CUMULATIVE_MAX_ENTRIES } from "./cumulative_reducer.ts";
import { reducerAdd, reducerInit, reducerMerge, type ReducerState } from "./reducers.ts";

/** How an aggregator buckets and bounds its state. */
export interface AggregatorOptions {
  /** The flush interval in ms; buckets start at multiples of it. */
  readonly intervalMs: number;
  /** How many observations a timer/histogram/distribution keeps exactly before switching to the sketch. */
  readonly exactLimit: number;
  /** The most distinct series one bucket holds; samples of further series are rejected and counted. */
  readonly maxSeries: number;
  /**
   * The entries a cumulative series keeps per bucket (`cumulativeAdd`): 1 where this aggregator sees every
   * frame (one worker, or none), which is exact and flat in the rate; more where frames of one source are
   * spread over several workers and their partials are merged by sequence. `CUMULATIVE_MAX_ENTRIES`
   * by default.
   */
  readonly cumulativeEntries?: number;
}

/** One series' state in one bucket of a partial. */
export interface PartialSeries {
  /** The series key. */
  readonly key: string;
  /** The metric name. */
  readonly name: string;
  /** The labels. */
  readonly labels: Labels;
  /** The kind of the samples: with the key, what identifies the series. */
  readonly kind: SampleKind;
  /** The reducer state (mutable plain data; consumed by the merge). */
  readonly state: ReducerState;
}

/** All series of one time bucket. */
export interface PartialBucket {
  /** The bucket start in ms since the epoch, a multiple of the interval. */
  readonly windowMs: number;
  /** The series seen in the bucket, in first-seen order. */
  readonly series: readonly PartialSeries[];
}

/** What an aggregator hands over at a flush: plain data that survives structured clone. */
export interface AggregatePartial {
  /** The taken buckets, ascending by `windowMs`. */
  readonly buckets: readonly PartialBucket[];
  /** Samples rejected since the last take because their bucket already held `maxSeries` series. */
  readonly rejected: number;
  /** Samples dropped since the last take because their value was not a finite number. */
  readonly invalid: number;
}

/**
 * One time bucket: the states of its series, filed by the aggregator's series numbers
 * ({@link SeriesNumbers}), which outlive the bucket. A frame's own window holds nearly every series, so it
 * finds a number's state through an array as long as the numbers given; a bucket older than its frames
 * (DogStatsD timestamps) holds few, and a map does. A lookup allocates nothing and concatenates no key.
 */
interface _Bucket {
  /**
   * Unique to this bucket in the thread (one counter for every aggregator's buckets): a memo that holds
   * a state's place (`SeriesMemo.holder`) names its bucket by it, so a place in a bucket since taken,
   * folded away or held by another aggregator never matches.
   */
  readonly stamp: number;
  /** Position + 1 in `states` of each series number, 0 for none; a frame window's. */
  dense: Int32Array | null;
  /** The same for a bucket older than its frames. */
  sparse: Map<number, number> | null;
  /** The numbers of the series held, first seen first. */
  readonly ids: number[];
  /** Their states, in the same order. */
  readonly states: ReducerState[];
}

/** The next bucket's stamp, for every aggregator of the thread; 0 is a memo that holds nothing. */
let nextBucketStamp = 1;

/** The least length of a frame window's position array. */
const _MIN_DENSE = 1024;

/** An empty bucket: a frame window's, sized for `numbers` series, or with -1 an older bucket's. */
function _bucket(numbers: number): _Bucket {
  return {
    stamp: nextBucketStamp++,
    dense: numbers < 0 ? null : new Int32Array(_denseLength(numbers)),
    sparse: numbers < 0 ? new Map() : null,
    ids: [],
    states: [],
  };
}

/** A power of two above `numbers`, at least {@link _MIN_DENSE}. */
function _denseLength(numbers: number): number {
  let length = _MIN_DENSE;
  while (length <= numbers) length *= 2;
  return length;
}

/** Series `n`'s position + 1 in `bucket`, 0 when the bucket lacks it. */
function _position(bucket: _Bucket, n: number): number {
  const dense = bucket.dense;
  if (dense !== null) return n < dense.length ? dense[n]! : 0;
  return bucket.sparse!.get(n) ?? 0;
}

/** Files series `n` in `bucket` at `position` (its position + 1, as {@link _position} answers). */
function _setPosition(bucket: _Bucket, n: number, position: number): void {
  let dense = bucket.dense;
  if (dense === null) {
    bucket.sparse!.set(n, position);
    return;
  }
  if (n >= dense.length) {
    const grown = new Int32Array(_denseLength(n));
    grown.set(dense);
    bucket.dense = dense = grown;
  }
  dense[n] = position;
}

/**
 * Folds samples into per-bucket, per-series reducer states.
 *
 * A resource (it owns mutable state) with no lifecycle beyond `take`. Not thread-safe: one per worker.
 *
 * @example
 * ```ts
 * const agg = new Aggregator({ intervalMs: 10_000, exactLimit: 256, maxSeries: 100_000 });
 * agg.add(sample, frame.seq, frame.windowMs);
 * const partial = agg.take(flushWindowMs); // postMessage(partial) to the main thread
 * ```
 */
export class Aggregator {
  readonly #intervalMs: number;
  readonly #exactLimit: number;
  readonly #maxSeries: number;
  readonly #cumulativeEntries: number;
  /** Past how many numbers given {@link Aggregator.take} starts them over with the series still held. */
  readonly #renewAbove: number;
  readonly #numbers = new SeriesNumbers();
  readonly #buckets = new Map<number, _Bucket>();
  // Samples come in runs of one bucket (the frame's window, or a batch's own older time): remember the last.
  #currentMs = NaN;
  #current: _Bucket | undefined = undefined;
  #seriesCount = 0;
  #rejected = 0;
  #invalid = 0;

  /**
   * Creates an empty aggregator.
   *
   * @param options The interval, exact limit and per-bucket series cap.
   * @throws {RangeError} When the interval is not a positive number of ms.
   */
  constructor(options: AggregatorOptions) {
    if (!(options.intervalMs > 0)) {
      throw new RangeError(
        `Cannot create aggregator: interval must be positive, got "${options.intervalMs}"`,
      );
    }
    this.#intervalMs = options.intervalMs;
    this.#exactLimit = options.exactLimit;
    this.#maxSeries = options.maxSeries;
    this.#cumulativeEntries = options.cumulativeEntries ?? CUMULATIVE_MAX_ENTRIES;
    this.#renewAbove = Math.max(1, 2 * options.maxSeries);
  }

  /**
   * The series numbers the buckets are filed by: the worker's namer names series by them too, so the thread
   * keeps one map of series rather than two. Past twice `maxSeries` numbers given, a take starts them over
   * (a new generation) with the series its buckets still hold.
   */
  get numbers(): SeriesNumbers {
    return this.#numbers;
  }

  /**
   * Adds one sample.
   *
   * The bucket is the frame's window, or for a sample with its own timestamp (DogStatsD `|T`) the
   * interval-aligned bucket of that timestamp, never later than the frame's window. Late buckets are
   * kept apart and handed over with the next `take`, stamped with their own time.
   *
   * @param sample The sample.
   * @param seq The sequence of the frame the sample came in (gauges resolve last write by it).
   * @param windowMs The aligned start of the window the frame arrived in.
   */
  add(sample: Sample, seq: number, windowMs: number): void {
    if (sample.kind !== "set" && !Number.isFinite(sample.value)) {
      this.#invalid++;
      return;
    }
    let bucketMs = windowMs;
    if (sample.timeMs !== 0) {
      const own = Math.floor(sample.timeMs / this.#intervalMs) * this.#intervalMs;
      if (own < windowMs) bucketMs = own;
    }
    let bucket = this.#current;
    if (bucketMs !== this.#currentMs || bucket === undefined) {
      bucket = this.#buckets.get(bucketMs);
      if (bucket === undefined) {
        bucket = _bucket(bucketMs === windowMs ? this.#numbers.size : -1);
        this.#buckets.set(bucketMs, bucket);
      }
      this.#currentMs = bucketMs;
      this.#current = bucket;
    }
    // A sample whose format memoises its identity (StatsD) carries where its last line's state went: the
    // same bucket takes the state straight from there, another finds it by the series' number.
    const memo = sample.memo;
    if (
      memo !== undefined && memo.holder === bucket.stamp && memo.heldKind === sample.kind &&
      memo.heldKey === sample.key
    ) {
      reducerAdd(bucket.states[memo.position]!, sample, seq, this.#exactLimit, this.#cumulativeEntries);
      return;
    }
    const numbers = this.#numbers;
    const n =
      memo !== undefined && memo.stamp === numbers.stamp && numbers.holds(memo.index, sample.key, sample.kind)
        ? memo.index
        : this.#number(sample, bucket);
    let position = n < 0 ? 0 : _position(bucket, n);
    if (position === 0) {
      if (bucket.ids.length >= this.#maxSeries) {
        this.#rejected++;
        return;
      }
      position = this.#hold(bucket, n, reducerInit(sample.kind));
    }
    if (memo !== undefined) {
      memo.holder = bucket.stamp;
      memo.position = position - 1;
      memo.heldKey = sample.key;
      memo.heldKind = sample.kind;
    }
    reducerAdd(bucket.states[position - 1]!, sample, seq, this.#exactLimit, this.#cumulativeEntries);
  }

  /**
   * Finds the number of `sample`'s series, giving it one while `bucket` has room (-1 when it has none),
   * and writes it on the sample's memo, if any.
   */
  #number(sample: Sample, bucket: _Bucket): number {
    const numbers = this.#numbers;
    let n = numbers.find(sample.key, sample.kind);
    if (n < 0 && bucket.ids.length < this.#maxSeries) {
      n = numbers.add(sample.key, sample.name, sample.labels, sample.kind);
    }
    const memo = sample.memo;
    if (memo !== undefined && n >= 0) {
      memo.stamp = numbers.stamp;
      memo.index = n;
    }
    return n;
  }

  /** Puts series `n`'s state into `bucket`, which lacks it; returns its position + 1. */
  #hold(bucket: _Bucket, n: number, state: ReducerState): number {
    bucket.ids.push(n);
    const position = bucket.states.push(state);
    _setPosition(bucket, n, position);
    this.#seriesCount++;
    return position;
  }

  /**
   * Removes and returns every bucket that starts at or before `upToWindowMs`, with the rejection
   * counts since the last take. The states are handed over, not copied: the aggregator keeps no
   * reference to them.
   *
   * With `fold`, those buckets are first merged into one, stamped `upToWindowMs`: each series once, its
   * states of every window merged (the reducers merge by frame sequence, so a gauge still ends on its
   * last value and a running total still walks its values in order). The pipeline asks for it when its
   * flushes fell behind, so that a flush covering several windows hands over (and stores) one point per
   * series rather than one per series and window.
   *
   * @param upToWindowMs The newest bucket start to take.
   * @param fold Whether to merge the taken buckets into one.
   * @returns The partial, buckets ascending by time.
   */
  take(upToWindowMs: number, fold = false): AggregatePartial {
    if (fold) this.#fold(upToWindowMs);
    const buckets: PartialBucket[] = [];
    const numbers = this.#numbers;
    for (const [windowMs, bucket] of this.#buckets) {
      if (windowMs > upToWindowMs) continue;
      const { ids, states } = bucket;
      const series: PartialSeries[] = new Array(ids.length);
      for (let i = 0; i < ids.length; i++) {
        const n = ids[i]!;
        series[i] = {
          key: numbers.key(n),
          name: numbers.name(n),
          labels: numbers.labels(n),
          kind: numbers.kind(n),
          state: states[i]!,
        };
      }
      buckets.push({ windowMs, series });
      this.#buckets.delete(windowMs);
      this.#seriesCount -= ids.length;
      if (bucket === this.#current) {
        this.#current = undefined;
        this.#currentMs = NaN;
      }
    }
    buckets.sort((a, b) => a.windowMs - b.windowMs);
    const partial: AggregatePartial = {
      buckets,
      rejected: this.#rejected,
      invalid: this.#invalid,
    };
    this.#rejected = 0;
    this.#invalid = 0;
    if (numbers.size > this.#renewAbove) this.#renew();
    return partial;
  }

  /** Numbers the series the buckets still hold from 0 again, forgetting the others. */
  #renew(): void {
    const held = new Uint8Array(this.#numbers.size);
    const keep: number[] = [];
    for (const bucket of this.#buckets.values()) {
      for (const n of bucket.ids) {
        if (held[n] === 0) keep.push(n);
        held[n] = 1;
      }
    }
    const renumbered = this.#numbers.renew(keep);
    for (const bucket of this.#buckets.values()) {
      const ids = bucket.ids;
      if (bucket.dense !== null) bucket.dense = new Int32Array(_denseLength(keep.length));
      else bucket.sparse = new Map();
      for (let i = 0; i < ids.length; i++) {
        ids[i] = renumbered[ids[i]!]!;
        _setPosition(bucket, ids[i]!, i + 1);
      }
    }
  }

  /** Merges every bucket up to `upToWindowMs` into the one at `upToWindowMs` (created when missing). */
  #fold(upToWindowMs: number): void {
    let into = this.#buckets.get(upToWindowMs);
    for (const [windowMs, bucket] of this.#buckets) {
      if (windowMs >= upToWindowMs) continue;
      if (into === undefined) {
        // The first bucket met becomes the folded one, restamped: its series move without a merge.
        this.#buckets.delete(windowMs);
        this.#buckets.set(upToWindowMs, bucket);
        into = bucket;
        continue;
      }
      this.#buckets.delete(windowMs);
      this.#seriesCount -= bucket.ids.length;
      for (let i = 0; i < bucket.ids.length; i++) {
        const n = bucket.ids[i]!;
        const position = _position(into, n);
        // Folding never rejects: every series was admitted to its own bucket, and the table caps live series.
        if (position === 0) this.#hold(into, n, bucket.states[i]!);
        else reducerMerge(into.states[position - 1]!, bucket.states[i]!, this.#exactLimit);
      }
    }
    this.#current = undefined;
    this.#currentMs = NaN;
  }

  /**
   * The number of series states held across all buckets not yet taken.
   *
   * @returns The count.
   */
  get seriesCount(): number {
    return this.#seriesCount;
  }
}
