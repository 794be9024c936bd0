/**
 * The per-worker aggregator: folds samples into reducer states per time bucket and series, and hands
 * them over as a plain-data {@link AggregatePartial} at each flush.
 *
 * One runs in every worker (or inline on the main thread with `workers = 0`); the main thread merges
 * the partials of all of them in a `SeriesTable`. Because the reducers are mergeable, the merged result
 * equals one aggregator fed every frame in arrival order.
 *
 * @module
 */

import type { Labels, Sample, SampleKind } from "../../model/sample.ts";
import { CUMULATIVE_MAX_ENTRIES, reducerAdd, reducerInit, type ReducerState } from "./reducers.ts";

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
  /** The kind of the first sample; samples of another kind were rejected as kind conflicts. */
  readonly kind: SampleKind;
  /** The frame sequence of the first sample, so a merge can tell which kind arrived first. */
  readonly firstSeq: number;
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
  /** Samples dropped since the last take because their series had another kind in the same bucket. */
  readonly kindConflicts: number;
  /** Samples dropped since the last take because their value was not a finite number. */
  readonly invalid: number;
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
  readonly #buckets = new Map<number, Map<string, PartialSeries>>();
  // Nearly every sample lands in the frame's own window: remember that bucket.
  #currentMs = NaN;
  #current: Map<string, PartialSeries> | undefined = undefined;
  #seriesCount = 0;
  #rejected = 0;
  #kindConflicts = 0;
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
    if (bucketMs !== this.#currentMs || bucket === undefined) {
      bucket = this.#buckets.get(bucketMs);
      if (bucket === undefined) {
        bucket = new Map();
        this.#buckets.set(bucketMs, bucket);
      }
      if (bucketMs === windowMs) {
        this.#currentMs = bucketMs;
        this.#current = bucket;
      }
    }
    let entry = bucket.get(sample.key);
    if (entry === undefined) {
      if (bucket.size >= this.#maxSeries) {
        this.#rejected++;
        return;
      }
      entry = {
        key: sample.key,
        name: sample.name,
        labels: sample.labels,
        kind: sample.kind,
        firstSeq: seq,
        state: reducerInit(sample.kind),
      };
      bucket.set(sample.key, entry);
      this.#seriesCount++;
    } else if (entry.kind !== sample.kind) {
      this.#kindConflicts++;
      return;
    }
    reducerAdd(entry.state, sample, seq, this.#exactLimit, this.#cumulativeEntries);
  }

  /**
   * Removes and returns every bucket that starts at or before `upToWindowMs`, with the rejection
   * counts since the last take. The states are handed over, not copied: the aggregator keeps no
   * reference to them.
   *
   * @param upToWindowMs The newest bucket start to take.
   * @returns The partial, buckets ascending by time.
   */
  take(upToWindowMs: number): AggregatePartial {
    const buckets: PartialBucket[] = [];
    for (const [windowMs, bucket] of this.#buckets) {
      if (windowMs > upToWindowMs) continue;
      buckets.push({ windowMs, series: Array.from(bucket.values()) });
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
      kindConflicts: this.#kindConflicts,
      invalid: this.#invalid,
    };
    this.#rejected = 0;
    this.#kindConflicts = 0;
    this.#invalid = 0;
    return partial;
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
