/**
 * A full garbage collection of the calling thread's heap, where the runtime offers one.
 *
 * The collector calls it on the main thread after a flush of many series. A flush is a burst of
 * allocation (each series' state copied in from a worker, its metric, its stored row) followed by seconds in
 * which the main thread allocates almost nothing; JavaScriptCore schedules its collections by allocation
 * and lets the heap grow to about twice what survived the last full collection, so at 100 000 series the
 * main thread went into each flush holding the garbage of one or two earlier ones (heap 93-128 MiB for
 * 75 MiB live, `docs/BENCHMARKS.md`). Collecting once the flush is done costs 50-120 ms of a thread that
 * is idle then (the workers read the sockets).
 *
 * Bun: `Bun.gc(true)`, synchronous. Deno (V8) and Node collect only with `--expose-gc`: then the global
 * `gc()`, else nothing.
 *
 * @module
 */

/**
 * Runs a full, synchronous garbage collection of this thread's heap when the runtime allows it.
 *
 * @returns Whether a collection ran.
 * @example
 * ```ts
 * if (result.metrics.length >= 10_000) setTimeout(collectGarbage, 0);
 * ```
 */
export function collectGarbage(): boolean {
  const bun = (globalThis as { Bun?: { gc(sync: boolean): void } }).Bun;
  if (bun !== undefined) {
    bun.gc(true);
    return true;
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  if (typeof gc !== "function") return false;
  gc();
  return true;
}
