import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../internal/log.ts";
import { SelfStats } from "../internal/self_stats.ts";
import { collectGarbage } from "../runtime/collect_garbage.ts";
import { FORMAT_IDS } from "../model/frame.ts";
import type { Metric, Point } from "../model/metric.ts";
import { Pipeline } from "./pipeline.ts";
import type { FlushResult } from "./pipeline.ts";

// A short interval, so the pipeline's own timer closes windows within the test; the clock is the test's,
// so which window a frame lands in and when a window closes are decided here, not by the timer's timing.
const INTERVAL = 20;
const T0 = 1_700_000_000_000; // a multiple of INTERVAL

function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** Waits (without a deadline of its own: the test runner's timeout bounds it) until `done()` holds. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 2));
}

function byName(result: FlushResult): Record<string, { point: Point; timeMs: number; intervalMs: number }> {
  const out: Record<string, { point: Point; timeMs: number; intervalMs: number }> = {};
  for (const m of result.metrics as Metric[]) {
    out[`${m.name} ${m.point.kind}`] = { point: m.point, timeMs: m.timeMs, intervalMs: m.intervalMs };
  }
  return out;
}

interface Backlog {
  readonly flushed: FlushResult[];
  readonly stats: SelfStats;
  /** Emits one more window after the backlog and returns its flush. */
  readonly next: (lines: string) => Promise<FlushResult>;
  readonly stop: () => Promise<void>;
}

/**
 * Runs a pipeline whose first flush is held in its store while three more windows close behind it, then
 * lets it go and waits for the flush that took those three.
 */
async function backlog(workers: number, maxSeries: number): Promise<Backlog> {
  const clock = { now: T0 + 5 };
  const flushed: FlushResult[] = [];
  const stats = new SelfStats();
  let release: () => void = () => {};
  let hold = false;
  const pipeline = new Pipeline({
    workers,
    ringBytes: 1 << 20,
    intervalMs: INTERVAL,
    aggregation: { percentiles: [50], exactLimit: 256, maxSeries, idleMs: 300_000 },
    stats,
    log: createLogger({}, { write: () => {}, now: () => clock.now }),
    now: () => clock.now,
    onFlush: async (result) => {
      flushed.push(result);
      // A store that takes its time: the windows below close while this flush is not done.
      if (hold) await new Promise<void>((resolve) => (release = resolve));
    },
  });
  await pipeline.start();
  const emit = pipeline.register({ type: "statsd", id: "local" });
  /** Emits into the open window, then moves the clock on and waits for the timer to close it. */
  const window = async (lines: string): Promise<void> => {
    const open = pipeline.windowMs;
    emit(text(lines), FORMAT_IDS.statsd);
    clock.now += INTERVAL;
    await until(() => pipeline.windowMs > open);
  };
  const stop = async (): Promise<void> => {
    hold = false;
    release();
    await pipeline.stop();
  };
  try {
    hold = true;
    await window("hits:1|c\ntemp:5|g\nlat:10|ms\nusers:x|s");
    await until(() => flushed.length === 1);
    // The first flush is stuck in its store; three more windows close behind it.
    await window("hits:2|c\ntemp:7|g\nlat:20|ms\nusers:y|s\nhits:9|ms");
    await window("hits:3|c\nusers:x|s\nlat:30|ms");
    await window("hits:4|c\ntemp:+1|g");
    assert.equal(flushed.length, 1);
    hold = false;
    release();
    await until(() => flushed.length === 2);
  } catch (error) {
    await stop();
    throw error;
  }
  const next = async (lines: string): Promise<FlushResult> => {
    const count = flushed.length;
    await window(lines);
    await until(() => flushed.length === count + 1);
    return flushed[count]!;
  };
  return { flushed, stats, next, stop };
}

function folded(stats: SelfStats): number | undefined {
  return stats.snapshot().find((f) => f.name === "tally_flush_windows_folded_total")?.series[0]?.value;
}

for (const workers of [0, 1, 2]) {
  describe(`Pipeline behind its interval (workers = ${workers})`, () => {
    it("folds the windows that closed during a slow flush into one point per series when apart they pass the cap", async () => {
      // 4 live series × 3 windows = 12 rows > 8.
      const b = await backlog(workers, 8);
      try {
        // One flush for the three windows, stamped with the newest, each series once, spanning all three.
        const late = b.flushed[1]!;
        assert.equal(late.windowMs, T0 + 3 * INTERVAL);
        assert.equal(late.metrics.length, 5);
        const points = byName(late);
        const span = { timeMs: T0 + INTERVAL, intervalMs: 3 * INTERVAL };
        const rate = 9 / (3 * INTERVAL / 1000);
        assert.deepEqual(points["hits counter"], {
          point: { kind: "counter", delta: 9, total: 10, rate },
          ...span,
        });
        assert.deepEqual(points["temp gauge"], { point: { kind: "gauge", value: 8 }, ...span });
        assert.deepEqual(points["users set"], { point: { kind: "set", count: 2 }, ...span });
        const lat = points["lat summary"]!.point;
        assert.equal(lat.kind, "summary");
        assert.deepEqual([lat.count, lat.sum, lat.min, lat.max, lat.totalCount], [2, 50, 20, 30, 3]);
        // A name used as a second kind in one of the windows stays its own series.
        assert.equal(points["hits summary"]?.point.kind === "summary" && points["hits summary"].point.sum, 9);
        assert.equal(folded(b.stats), 2);

        // Caught up: the next window is flushed on its own again.
        assert.deepEqual(byName(await b.next("hits:1|c"))["hits counter"], {
          point: { kind: "counter", delta: 1, total: 11, rate: 1 / (INTERVAL / 1000) },
          timeMs: T0 + 4 * INTERVAL,
          intervalMs: INTERVAL,
        });
      } finally {
        await b.stop();
      }
    });

    it("keeps each window's own points when the windows behind a slow flush stay under the cap", async () => {
      const b = await backlog(workers, 1000);
      try {
        const late = b.flushed[1]!;
        assert.equal(late.windowMs, T0 + 3 * INTERVAL);
        const hits = late.metrics.filter((m) => m.name === "hits" && m.point.kind === "counter")
          .map((m) => [m.timeMs, m.intervalMs, m.point.kind === "counter" && m.point.delta]);
        assert.deepEqual(hits, [
          [T0 + INTERVAL, INTERVAL, 2],
          [T0 + 2 * INTERVAL, INTERVAL, 3],
          [T0 + 3 * INTERVAL, INTERVAL, 4],
        ]);
        assert.equal(folded(b.stats), 0);
      } finally {
        await b.stop();
      }
    });
  });
}

describe("Pipeline flush chain", () => {
  it("keeps no flush result once its consumer is done with it, on Bun", async () => {
    if (!("Bun" in globalThis)) return;
    // Twenty pipelines, each flushed once: a flush chain that resolved with its result kept all twenty.
    const pipelines: Pipeline[] = [];
    const results: WeakRef<FlushResult>[] = [];
    for (let i = 0; i < 20; i++) {
      const pipeline = new Pipeline({
        workers: 0,
        ringBytes: 1 << 16,
        intervalMs: 10_000,
        aggregation: { percentiles: [50], exactLimit: 256, maxSeries: 100, idleMs: 300_000 },
        stats: new SelfStats(),
        log: createLogger({}, { write: () => {} }),
        now: () => T0,
        onFlush: (result) => {
          results.push(new WeakRef(result));
        },
      });
      pipelines.push(pipeline);
      pipeline.register({ type: "statsd", id: "statsd" })(text(`m${i}:1|c`), FORMAT_IDS.statsd);
      await pipeline.flush();
    }
    // Targets of weak references created in a job stay alive until the job ends.
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(collectGarbage(), true);
    const freed = results.filter((ref) => ref.deref() === undefined).length;
    // The engine scans the stack conservatively: a stray word may keep one or two alive.
    assert.ok(freed >= 18, `${freed} of 20 flush results freed`);
    for (const pipeline of pipelines) await pipeline.stop();
  });
});
