/**
 * The heap configuration of the pipeline's worker threads, in the `node:worker_threads` options only the
 * runtime that reads them understands.
 *
 * Bun: `smol`, JavaScriptCore's small-heap configuration. A worker's live heap is small (code plus one or
 * two windows of reducer states, about 12 MiB at 1000 series) but each window's states outlive a young
 * collection, so they die in the old generation; with the large-heap configuration nothing collects them
 * until the heap reaches 32 MB, and at full StatsD load the process peaked 6-11 MiB higher (same box, three
 * runs each, `docs/BENCHMARKS.md`) for no measurable gain in throughput. Deno (V8) has no such switch: it
 * gets no options.
 *
 * @module
 */

/** The options {@link workerHeapOptions} returns: a subset of Bun's `WorkerOptions`. */
export interface WorkerHeapOptions {
  /** Bun: use JavaScriptCore's small-heap configuration (collects the old generation sooner). */
  readonly smol?: boolean;
}

/**
 * Returns the heap options to spread into `new Worker(path, { … })` for this runtime.
 *
 * @returns `{ smol: true }` on Bun, `{}` elsewhere.
 * @example
 * ```ts
 * new Worker(path, { workerData, ...workerHeapOptions() });
 * ```
 */
export function workerHeapOptions(): WorkerHeapOptions {
  return "Bun" in globalThis ? { smol: true } : {};
}
