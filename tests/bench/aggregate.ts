/**
 * Micro-benchmark of the aggregation hot path: `Aggregator.add()` over 1000 series of mixed kinds
 * (40 % counters, 20 % gauges with some deltas, 30 % timers, 10 % sets), plus the flush cost of
 * `take()` and `SeriesTable.merge()`. Prints figures; asserts nothing.
 *
 * Run: `./node_modules/.bin/bun tests/bench/aggregate.ts` or
 * `./node_modules/.bin/deno run tests/bench/aggregate.ts`.
 *
 * @module
 */

import type { Sample, SampleKind } from "../../src/model/sample.ts";
import { seriesKey } from "../../src/model/series_key.ts";
import { Aggregator } from "../../src/pipeline/aggregate/aggregator.ts";
import { SeriesTable } from "../../src/pipeline/aggregate/series_table.ts";
import { seededRandom } from "../../src/pipeline/aggregate/_seeded_random.ts";

const SERIES = 1000;
const POOL = 100_000;
const WINDOW_SAMPLES = 1_000_000;
const WINDOWS = 8;
const INTERVAL = 10_000;

function kindOf(i: number): SampleKind {
  const slot = i % 10;
  return slot < 4 ? "counter" : slot < 6 ? "gauge" : slot < 9 ? "timer" : "set";
}

function buildSamples(): Sample[] {
  const r = seededRandom(42);
  const series = Array.from({ length: SERIES }, (_, i) => {
    const name = `bench.metric_${i}`;
    const labels = [["host", `h${i % 7}`]] as const;
    return { name, labels, key: seriesKey(name, labels), kind: kindOf(i) };
  });
  const samples: Sample[] = [];
  for (let n = 0; n < POOL; n++) {
    const s = series[Math.floor(r() * SERIES)]!;
    samples.push({
      name: s.name,
      labels: s.labels,
      key: s.key,
      kind: s.kind,
      value: s.kind === "timer" ? Math.exp(r() * 8) : Math.floor(r() * 100),
      member: s.kind === "set" ? `user${Math.floor(r() * 500)}` : "",
      rate: 1,
      gaugeDelta: s.kind === "gauge" && r() < 0.3,
      timeMs: 0,
    });
  }
  return samples;
}

function main(): void {
  const samples = buildSamples();
  const agg = new Aggregator({ intervalMs: INTERVAL, exactLimit: 256, maxSeries: 100_000 });
  const table = new SeriesTable({
    intervalMs: INTERVAL,
    percentiles: [50, 90, 95, 99],
    maxSeries: 100_000,
    idleMs: 300_000,
    exactLimit: 256,
  });
  let seq = 0;
  let addMs = 0;
  let takeMs = 0;
  let mergeMs = 0;
  let added = 0;
  const windowStart = Math.floor(Date.now() / INTERVAL) * INTERVAL;
  for (let w = 0; w < WINDOWS; w++) {
    const windowMs = windowStart + w * INTERVAL;
    const t0 = performance.now();
    for (let n = 0; n < WINDOW_SAMPLES; n++) {
      // Ten lines per frame, as in a 10-lines-per-packet StatsD stream.
      if (n % 10 === 0) seq++;
      agg.add(samples[n % POOL]!, seq, windowMs);
    }
    const t1 = performance.now();
    const partial = agg.take(windowMs);
    const t2 = performance.now();
    const metrics = table.merge([partial]);
    const t3 = performance.now();
    if (metrics.length !== SERIES) {
      throw new Error(`Benchmark produced ${metrics.length} metrics, expected ${SERIES}`);
    }
    // The first window warms the JIT up; keep it out of the figures.
    if (w === 0) continue;
    addMs += t1 - t0;
    takeMs += t2 - t1;
    mergeMs += t3 - t2;
    added += WINDOW_SAMPLES;
  }
  const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";
  const windows = WINDOWS - 1;
  console.log(
    `aggregate bench (${runtime}): ${SERIES} series, mixed c/g/ms/s, ${windows} windows of ${WINDOW_SAMPLES} samples`,
  );
  console.log(`  add():            ${Math.round(added / (addMs / 1000)).toLocaleString("en-US")} samples/s`);
  console.log(`  take() per flush: ${(takeMs / windows).toFixed(2)} ms`);
  console.log(`  merge() per flush (finish ${SERIES} series): ${(mergeMs / windows).toFixed(2)} ms`);
}

main();
