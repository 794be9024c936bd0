/**
 * How a worker hands a partial to the pool: in pieces of at most {@link CHUNK_SERIES} series, reading its
 * ring and sockets between two pieces, with each series named once and then referred to by a number.
 *
 * `postMessage` serialises synchronously, at a few µs per series, and a worker reads nothing meanwhile: in
 * one message, 100 000 series stop the reading for about a second, and even 1000 series (the StatsD
 * benchmark's) take 5-70 ms on a busy 2-core box, longer than a 4 MiB ring lasts at 300 000 frames/s.
 * Those stalls, not a lost wake-up, are what overflowed the rings in bursts (see docs/BENCHMARKS.md).
 *
 * Names go over once: every series (key and kind) has a number on the worker (its aggregator's), and the
 * worker's {@link SeriesNamer} sends its key, name, labels and kind with that number ({@link SeriesDef}) the
 * first time it hands it over; from then on a piece carries only numbers and reducer states.
 * The pool's {@link SeriesDictionary} for that worker turns the numbers back into series. Flush after
 * flush the same 100 000 series would otherwise cross as 100 000 fresh copies of their strings and label
 * arrays, which the main thread allocates, holds through the merge and collects: a third of a flush's
 * memory spike at that size. Past a bound on numbers given (series come and go), the numbers start over in a
 * new generation and the namer names everything again, and the dictionary forgets the old one.
 *
 * @module
 */

import type { PartialBucket, PartialSeries } from "./aggregate/aggregator.ts";
import { SeriesNumbers } from "./aggregate/_series_numbers.ts";
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
 * Names series by number, on the worker's side. One per worker thread, for its whole life.
 *
 * The numbers are the worker's aggregator's ({@link SeriesNumbers}, given to the constructor): the thread
 * keeps one map of its series, not two, and the aggregator starts the numbers over (a new generation) past
 * twice the series cap. Without numbers to share, the namer keeps its own and starts them over itself past
 * `limit`.
 *
 * @example
 * ```ts
 * const namer = new SeriesNamer(200_000, sink.numbers);
 * handOver(id, sink.take(upTo), { namer, post, between });
 * ```
 */
export class SeriesNamer {
  readonly #limit: number;
  readonly #numbers: SeriesNumbers;
  /** Whether the numbers are someone else's, who starts them over. */
  readonly #shared: boolean;
  /** The generation in which each number was last named (0 for never). */
  #named = new Int32Array(1024);

  /**
   * Creates a namer.
   *
   * @param limit How many numbers to give before starting a new generation (at a hand-over's start), when
   *   the namer keeps its own numbers.
   * @param numbers The aggregator's numbers to name series by; the namer's own when absent.
   */
  constructor(limit: number, numbers?: SeriesNumbers) {
    this.#limit = Math.max(1, limit);
    this.#numbers = numbers ?? new SeriesNumbers();
    this.#shared = numbers !== undefined;
  }

  /** The current generation. */
  get generation(): number {
    return this.#numbers.generation;
  }

  /** Starts a new generation when the namer's own numbers passed the limit; call before a hand-over. */
  renew(): void {
    if (!this.#shared && this.#numbers.size > this.#limit) this.#numbers.renew([]);
  }

  /**
   * Numbers the series of some buckets, naming those not named yet in this generation.
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
    return { generation: this.#numbers.generation, defs, buckets: out };
  }

  #number(s: PartialSeries, defs: SeriesDef[]): number {
    const numbers = this.#numbers;
    let n = numbers.find(s.key, s.kind);
    // The aggregator numbered every series it holds; a taken one it forgot when its numbers started over,
    // or a partial from elsewhere, gets its number here.
    if (n < 0) n = numbers.add(s.key, s.name, s.labels, s.kind);
    if (n >= this.#named.length) {
      const grown = new Int32Array(Math.max(2 * this.#named.length, n + 1));
      grown.set(this.#named);
      this.#named = grown;
    }
    if (this.#named[n] !== numbers.generation) {
      this.#named[n] = numbers.generation;
      defs.push({ id: n, key: s.key, name: s.name, labels: s.labels, kind: s.kind });
    }
    return n;
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
