/**
 * How a worker hands a partial to the pool: in pieces of at most {@link CHUNK_SERIES} series, reading its
 * ring and sockets between two pieces, with each series named once and then referred to by a number.
 *
 * `postMessage` serialises synchronously, at a few µs per series, and a worker reads nothing meanwhile: in
 * one message, 100 000 series stop the reading for about a second, and even 1000 series (the StatsD
 * benchmark's) take 5-70 ms on a busy 2-core box, longer than a 4 MiB ring lasts at 300 000 frames/s.
 * Those stalls, not a lost wake-up, are what overflowed the rings in bursts (see docs/BENCHMARKS.md).
 *
 * Names go over once: the worker's {@link SeriesNamer} gives every series (key and kind) a number the
 * first time it hands it over, and sends its key, name, labels and kind with that number
 * ({@link SeriesDef}) in the same piece; from then on a piece carries only numbers and reducer states.
 * The pool's {@link SeriesDictionary} for that worker turns the numbers back into series. Flush after
 * flush the same 100 000 series would otherwise cross as 100 000 fresh copies of their strings and label
 * arrays, which the main thread allocates, holds through the merge and collects: a third of a flush's
 * memory spike at that size. Past a bound on numbers given (series come and go), the namer starts a new
 * generation and names everything again, and the dictionary forgets the old one.
 *
 * @module
 */

import { seriesKindKey } from "../model/series_key.ts";
import type { SampleKind } from "../model/sample.ts";
import type { PartialBucket, PartialSeries } from "./aggregate/aggregator.ts";
import type { SeriesIdentity } from "./aggregate/series_table.ts";
import type { ReducerState } from "./aggregate/reducers.ts";
import type { SinkPartial } from "./frame_sink.ts";
import type { Piece, PieceBucket, SeriesDef, WorkerReply } from "./worker_messages.ts";

/** The most series one message of a partial carries: about a millisecond of serialising. */
export const CHUNK_SERIES = 500;

/**
 * Receives every series of a partial as its piece arrives. `series` is the dictionary's object for that
 * number, the same one piece after piece (the series table keeps it for the series' life); never changed.
 */
export type SeriesConsumer = (windowMs: number, series: SeriesIdentity, state: ReducerState) => void;

/**
 * Gives series their numbers, on the worker's side. One per worker thread, for its whole life.
 *
 * @example
 * ```ts
 * const namer = new SeriesNamer(200_000);
 * handOver(id, sink.take(upTo), { namer, post, between });
 * ```
 */
export class SeriesNamer {
  readonly #limit: number;
  /** The number of each key's first kind named. */
  readonly #first = new Map<string, number>();
  /** The kind of each number. */
  #kinds: SampleKind[] = [];
  /** The numbers of keys' further kinds, by `seriesKindKey`; created when first needed. */
  #others: Map<string, number> | undefined;
  #generation = 1;

  /**
   * Creates a namer.
   *
   * @param limit How many numbers to give before starting a new generation (at a hand-over's start).
   */
  constructor(limit: number) {
    this.#limit = Math.max(1, limit);
  }

  /** The current generation. */
  get generation(): number {
    return this.#generation;
  }

  /** Starts a new generation when the numbers given passed the limit; call before a hand-over. */
  renew(): void {
    if (this.#kinds.length <= this.#limit) return;
    this.#first.clear();
    this.#others = undefined;
    this.#kinds = [];
    this.#generation++;
  }

  /**
   * Numbers the series of some buckets, naming the new ones.
   *
   * @param buckets The buckets of one piece.
   * @returns The piece.
   */
  piece(buckets: readonly PartialBucket[]): Piece {
    const defs: SeriesDef[] = [];
    const out: PieceBucket[] = [];
    for (const bucket of buckets) {
      const series = bucket.series;
      const ids = new Int32Array(series.length);
      const states: ReducerState[] = new Array(series.length);
      for (let i = 0; i < series.length; i++) {
        const s = series[i]!;
        ids[i] = this.#number(s, defs);
        states[i] = s.state;
      }
      out.push({ windowMs: bucket.windowMs, ids, states });
    }
    return { generation: this.#generation, defs, buckets: out };
  }

  #number(s: PartialSeries, defs: SeriesDef[]): number {
    const first = this.#first.get(s.key);
    if (first !== undefined && this.#kinds[first] === s.kind) return first;
    // A further kind of a known key: filed by key and kind.
    const otherKey = first === undefined ? undefined : seriesKindKey(s.key, s.kind);
    if (otherKey !== undefined) {
      const other = this.#others?.get(otherKey);
      if (other !== undefined) return other;
    }
    const id = this.#kinds.length;
    this.#kinds.push(s.kind);
    if (otherKey === undefined) this.#first.set(s.key, id);
    else (this.#others ??= new Map()).set(otherKey, id);
    defs.push({ id, key: s.key, name: s.name, labels: s.labels, kind: s.kind });
    return id;
  }
}

/**
 * Turns one worker's numbers back into series, on the pool's side. One per worker thread started (a
 * restarted worker numbers from scratch, so its successor gets a new dictionary).
 */
export class SeriesDictionary {
  #generation = 0;
  /** The definitions as they arrived (no copy: the series table keeps these very objects). */
  #series: SeriesDef[] = [];

  /**
   * Learns a piece's names, then hands every series of it to `each`.
   *
   * @param piece The piece, as the worker's {@link SeriesNamer} made it.
   * @param each Receives each series with its window and state.
   * @throws {RangeError} When a number was never named (a bug: pieces arrive in order).
   */
  read(piece: Piece, each: SeriesConsumer): void {
    if (piece.generation !== this.#generation) {
      this.#generation = piece.generation;
      this.#series = [];
    }
    const known = this.#series;
    for (const def of piece.defs) known[def.id] = def;
    for (const bucket of piece.buckets) {
      const { windowMs, ids, states } = bucket;
      for (let i = 0; i < ids.length; i++) {
        const series = known[ids[i]!];
        if (series === undefined) {
          throw new RangeError(`Cannot read hand-over piece: series number ${ids[i]} was never named`);
        }
        each(windowMs, series, states[i]!);
      }
    }
  }

  /**
   * Reads a piece back into partial buckets (for callers that want the partial whole, as tests do).
   *
   * @param piece The piece.
   * @returns Its buckets, series in the order sent.
   */
  buckets(piece: Piece): PartialBucket[] {
    const out: PartialBucket[] = [];
    let current: { windowMs: number; series: PartialSeries[] } | undefined;
    this.read(piece, (windowMs, s, state) => {
      if (current === undefined || current.windowMs !== windowMs) {
        current = { windowMs, series: [] };
        out.push(current);
      }
      current.series.push({ key: s.key, name: s.name, labels: s.labels, kind: s.kind, state });
    });
    return out;
  }
}

/** Where {@link handOver} sends pieces, and what it does between two of them. */
export interface HandOverOptions {
  /** Numbers the series; the worker's one namer. */
  readonly namer: SeriesNamer;
  /** Sends one message to the pool. */
  readonly post: (message: WorkerReply) => void;
  /** Called between two pieces: the worker reads its ring and sockets. */
  readonly between: () => void;
}

/**
 * Posts a partial as `{ kind: "chunk", id, piece }` messages of at most {@link CHUNK_SERIES} series
 * each, then `{ kind: "partial", id, piece, partial }` with the last piece and the counters (its
 * `aggregate.buckets` empty: the series are all in the pieces). A window's series may be split over
 * several pieces.
 *
 * @param id The request answered.
 * @param partial What the sink handed over.
 * @param options The namer, where to post, and what to do between pieces.
 */
export function handOver(id: number, partial: SinkPartial, options: HandOverOptions): void {
  const namer = options.namer;
  namer.renew();
  let current: PartialBucket[] = [];
  let size = 0;
  for (const bucket of partial.aggregate.buckets) {
    let start = 0;
    do {
      if (size === CHUNK_SERIES) {
        options.post({ kind: "chunk", id, piece: namer.piece(current) });
        options.between();
        current = [];
        size = 0;
      }
      const take = Math.min(CHUNK_SERIES - size, bucket.series.length - start);
      current.push({ windowMs: bucket.windowMs, series: bucket.series.slice(start, start + take) });
      size += take;
      start += take;
    } while (start < bucket.series.length);
  }
  options.post({
    kind: "partial",
    id,
    piece: namer.piece(current),
    partial: { ...partial, aggregate: { ...partial.aggregate, buckets: [] } },
  });
}
