/**
 * A full garbage collection of the calling thread's heap, where the runtime offers one.
 *
 * The collector calls it on the main thread after a flush of many series. A flush is a burst of
 * allocation (each series' state copied in from a worker, its metric, its stored row) followed by seconds in
 * which the main thread allocates almost nothing; JavaScriptCore schedules its collections by allocation
 * and lets the heap grow to about twice what survived the last full collection, so at 100 000 series the
 * main thread went into each flush holding the garbage of one or two earlier ones (heap 93-128 MiB for
 * 75 MiB live, `docs/BENCHMARKS.md`). Collecting once the flush is done costs 50-120 ms of a thread that
 * is idle then (the workers read the sockets). A worker calls it too, after handing over a window of many
 * series and reading its sockets empty: each window's states die in its old generation at the hand-over,
 * and dead windows piled up there the same way (`worker_main.ts`).
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

/** Bun's `bun:jsc` young-generation collection, loaded on the first call; `null` where there is none. */
let _edenGC: (() => unknown) | null | undefined;

/**
 * Runs a young-generation ("eden") collection of this thread's heap where the runtime offers one: it
 * visits only what was allocated since the last collection, so it costs about a millisecond however large
 * the old generation is.
 *
 * The pool calls it between the pieces of a hand-over: each piece's states are garbage once merged, and
 * the engine lets the young generation grow to about the size of the old one before collecting it (75 MiB at
 * 100 000 series), so a flush's copies of the states piled up until then.
 *
 * Bun: `edenGC()` of `bun:jsc`. Deno and Node: none.
 *
 * @returns Whether a collection ran.
 */
export function collectYoungGarbage(): boolean {
  if (_edenGC === undefined) {
    const meta = import.meta as unknown as { require?: (id: string) => unknown };
    _edenGC = "Bun" in globalThis && typeof meta.require === "function"
      ? (meta.require("bun:jsc") as { edenGC(): unknown }).edenGC
      : null;
  }
  if (_edenGC === null) return false;
  _edenGC();
  return true;
}
