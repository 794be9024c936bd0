/**
 * How a worker hands a partial to the pool: in pieces of at most {@link CHUNK_SERIES} series, reading its
 * ring and sockets between two pieces.
 *
 * `postMessage` serialises synchronously, at a few µs per series, and a worker reads nothing meanwhile: in
 * one message, 100 000 series stop the reading for about a second, and even 1000 series (the StatsD
 * benchmark's) take 5-70 ms on a busy 2-core box, longer than a 4 MiB ring lasts at 300 000 frames/s.
 * Those stalls, not a lost wake-up, are what overflowed the rings in bursts (see docs/BENCHMARKS.md).
 *
 * @module
 */

import type { PartialBucket } from "./aggregate/aggregator.ts";
import type { SinkPartial } from "./frame_sink.ts";
import type { WorkerReply } from "./worker_messages.ts";

/** The most series one message of a partial carries: about a millisecond of serialising. */
export const CHUNK_SERIES = 500;

/** Where {@link handOver} sends pieces, and what it does between two of them. */
export interface HandOverOptions {
  /** Sends one message to the pool. */
  readonly post: (message: WorkerReply) => void;
  /** Called between two pieces: the worker reads its ring and sockets. */
  readonly between: () => void;
}

/**
 * Posts a partial as `{ kind: "chunk", id, buckets }` messages of at most {@link CHUNK_SERIES} series
 * each, then `{ kind: "partial", id, partial }` with the last piece and the counters. The pool joins the
 * buckets back (a window's series may be split over several pieces; the merge groups them by window).
 *
 * @param id The request answered.
 * @param partial What the sink handed over.
 * @param options Where to post, and what to do between pieces.
 */
export function handOver(id: number, partial: SinkPartial, options: HandOverOptions): void {
  const pieces: PartialBucket[][] = [];
  let current: PartialBucket[] = [];
  let size = 0;
  for (const bucket of partial.aggregate.buckets) {
    let start = 0;
    do {
      if (size === CHUNK_SERIES) {
        pieces.push(current);
        current = [];
        size = 0;
      }
      const take = Math.min(CHUNK_SERIES - size, bucket.series.length - start);
      current.push({ windowMs: bucket.windowMs, series: bucket.series.slice(start, start + take) });
      size += take;
      start += take;
    } while (start < bucket.series.length);
  }
  for (const piece of pieces) {
    options.post({ kind: "chunk", id, buckets: piece });
    options.between();
  }
  options.post({
    kind: "partial",
    id,
    partial: { ...partial, aggregate: { ...partial.aggregate, buckets: current } },
  });
}

/**
 * Joins the pieces of a partial received as {@link handOver} sent them.
 *
 * @param chunks The buckets of the `chunk` messages, in arrival order.
 * @param last The final `partial` message's partial.
 * @returns The partial with every bucket.
 */
export function joinPieces(chunks: readonly PartialBucket[], last: SinkPartial): SinkPartial {
  if (chunks.length === 0) return last;
  return { ...last, aggregate: { ...last.aggregate, buckets: [...chunks, ...last.aggregate.buckets] } };
}
