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
  /** The metric name, from the first sample of the series in the bucket. */
  readonly name: string;
  /** The labels, from the first sample of the series in the bucket. */
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
  /** The series seen in the bucket: each key's first kind in first-seen order, then the further kinds. */
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
 * One time bucket. Nearly every name has one kind, so series are found by key alone (`first`, holding the
 * first kind seen of each key) and the kind is only compared; the other kinds of a key, rare, wait in
 * `others`. A lookup allocates nothing and concatenates no key.
 *
 * A sample that carries a memo (`Sample.memo`, the StatsD parser's cached identity) skips the lookup: the
 * memo holds the bucket's `stamp` and the series' place in `list`. Stamps are never reused (one counter
 * for every aggregator of the thread), so a memo written for a bucket since taken, folded away or held by
 * another aggregator never matches, and the key and kind are compared as well.
 */
interface _Bucket {
  /** Where each key's series of its first kind sits in `list`. */
  readonly first: Map<string, number>;
  /** The series of each key's first kind, in first-seen order. */
  readonly list: PartialSeries[];
  /** This bucket's memo stamp, unique in the thread. */
  readonly stamp: number;
  /** The series of each key's further kinds; created on the first name used as a second kind. */
  others: Map<string, PartialSeries[]> | undefined;
  /** How many series the bucket holds, all kinds together. */
  size: number;
}

/** The next bucket's memo stamp; 0 is a memo nobody wrote. */
let nextStamp = 1;

/** A new, empty bucket with a stamp of its own. */
function _newBucket(): _Bucket {
  return { first: new Map(), list: [], stamp: nextStamp++, others: undefined, size: 0 };
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
    if (bucketMs !== this.#currentMs || bucket === undefined) bucket = this.#switchTo(bucketMs);
    const memo = sample.memo;
    if (memo !== undefined && memo.stamp === bucket.stamp) {
      // A memo copied from another thread (structured clone) may carry a stamp of this one: check it all.
      const known = bucket.list[memo.index];
      if (known !== undefined && known.key === sample.key && known.kind === sample.kind) {
        reducerAdd(known.state, sample, seq, this.#exactLimit, this.#cumulativeEntries);
        return;
      }
    }
    const entry = this.#find(bucket, sample);
    if (entry !== undefined) reducerAdd(entry.state, sample, seq, this.#exactLimit, this.#cumulativeEntries);
  }

  /** Makes the bucket of `bucketMs` (created when missing) the current one. */
  #switchTo(bucketMs: number): _Bucket {
    let bucket = this.#buckets.get(bucketMs);
    if (bucket === undefined) {
      bucket = _newBucket();
      this.#buckets.set(bucketMs, bucket);
    }
    this.#currentMs = bucketMs;
    this.#current = bucket;
    return bucket;
  }

  /**
   * Finds or creates the series of `sample` in `bucket` by key (undefined past the cap), and points the
   * sample's memo at it when it is the key's first kind.
   */
  #find(bucket: _Bucket, sample: Sample): PartialSeries | undefined {
    let entry: PartialSeries | undefined;
    let index = bucket.first.get(sample.key);
    if (index === undefined) {
      entry = this.#create(bucket, sample);
      if (entry === undefined) return undefined;
      index = bucket.list.length;
      bucket.first.set(sample.key, index);
      bucket.list.push(entry);
    } else {
      entry = bucket.list[index]!;
      if (entry.kind !== sample.kind) return this.#other(bucket, sample);
    }
    const memo = sample.memo;
    if (memo !== undefined) {
      memo.stamp = bucket.stamp;
      memo.index = index;
    }
    return entry;
  }

  /** Creates the series of `sample`'s key and kind in `bucket`, or counts a rejection past the cap. */
  #create(bucket: _Bucket, sample: Sample): PartialSeries | undefined {
    if (bucket.size >= this.#maxSeries) {
      this.#rejected++;
      return undefined;
    }
    bucket.size++;
    this.#seriesCount++;
    return {
      key: sample.key,
      name: sample.name,
      labels: sample.labels,
      kind: sample.kind,
      state: reducerInit(sample.kind),
    };
  }

  /** Finds or creates the series of a key's further kind (the key's first kind lives in `first`). */
  #other(bucket: _Bucket, sample: Sample): PartialSeries | undefined {
    bucket.others ??= new Map();
    let more = bucket.others.get(sample.key);
    if (more !== undefined) {
      for (const entry of more) if (entry.kind === sample.kind) return entry;
    }
    const entry = this.#create(bucket, sample);
    if (entry === undefined) return undefined;
    if (more === undefined) {
      more = [];
      bucket.others.set(sample.key, more);
    }
    more.push(entry);
    return entry;
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
    for (const [windowMs, bucket] of this.#buckets) {
      if (windowMs > upToWindowMs) continue;
      const series = bucket.list;
      if (bucket.others !== undefined) {
        for (const more of bucket.others.values()) series.push(...more);
      }
      buckets.push({ windowMs, series });
      this.#buckets.delete(windowMs);
      this.#seriesCount -= bucket.size;
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
    return partial;
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
      this.#seriesCount -= bucket.size;
      for (const entry of bucket.list) this.#foldSeries(into, entry);
      if (bucket.others !== undefined) {
        for (const more of bucket.others.values()) for (const entry of more) this.#foldSeries(into, entry);
      }
    }
    this.#current = undefined;
    this.#currentMs = NaN;
  }

  /** Merges one series of a folded bucket into `into`, or moves it there when `into` lacks it. */
  #foldSeries(into: _Bucket, entry: PartialSeries): void {
    const index = into.first.get(entry.key);
    let found = index === undefined ? undefined : into.list[index];
    if (found !== undefined && found.kind !== entry.kind) {
      found = into.others?.get(entry.key)?.find((other) => other.kind === entry.kind);
    }
    if (found !== undefined) {
      reducerMerge(found.state, entry.state, this.#exactLimit);
      return;
    }
    // Folding never rejects: every series was admitted to its own bucket, and the table caps live series.
    into.size++;
    this.#seriesCount++;
    if (index === undefined) {
      into.first.set(entry.key, into.list.length);
      into.list.push(entry);
      return;
    }
    into.others ??= new Map();
    const more = into.others.get(entry.key);
    if (more === undefined) into.others.set(entry.key, [entry]);
    else more.push(entry);
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
