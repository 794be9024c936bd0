/**
 * Micro-benchmark for the http input's hot path off the main thread and on it: `parseInfluxLine` alone,
 * the worker's whole frame handling (parse and aggregate, `FrameSink.frame`), and the inbox commit that
 * makes a body durable (`Store.keepInbox`), for the batches `tests/bench/http.ts` posts (5 000 lines of
 * `bench_cpu` with three fields and a nanosecond timestamp, 1 000 hosts, and the parse alone over 50 000 hosts)
 * and for small single-metric pushes.
 *
 * Not a test. Run: `./node_modules/.bin/bun tests/bench/parse_influx.ts`. Prints the best of several rounds.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseInfluxLine } from "../../src/formats/influx_line.ts";
import { FORMAT_IDS } from "../../src/model/frame.ts";
import type { SampleSink } from "../../src/model/sample.ts";
import { FrameSink } from "../../src/pipeline/frame_sink.ts";
import { Store } from "../../src/store/store.ts";
import { influxBatches } from "./http/influx_load.ts";

const ROUNDS = 8;
const LINES = 5000;

/** The best rate over the rounds of `work`, which handles `units` things per call. */
function best(units: number, work: () => void): number {
  work();
  let rate = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = performance.now();
    work();
    rate = Math.max(rate, units / ((performance.now() - t0) / 1000));
  }
  return rate;
}

const batches = influxBatches(20, LINES, 1000);
let samples = 0;
const sink: SampleSink = {
  sample(sample) {
    samples += sample.value > -1 ? 1 : 0;
  },
  event() {},
  bad() {},
};
const parse = best(batches.length * LINES, () => {
  for (const batch of batches) parseInfluxLine(batch, sink);
});
console.log(
  `parseInfluxLine: ${(parse / 1e6).toFixed(2)} M lines/s (${(parse * 3 / 1e6).toFixed(2)} M samples/s)`,
);
const wideBatches = influxBatches(20, LINES, 50_000);
const wide = best(wideBatches.length * LINES, () => {
  for (const batch of wideBatches) parseInfluxLine(batch, sink);
});
console.log(`parseInfluxLine over 50 000 series: ${(wide / 1e6).toFixed(2)} M lines/s`);

const frames = new FrameSink({ intervalMs: 10_000, exactLimit: 256, maxSeries: 100_000, maxEvents: 100 });
const windowMs = Math.floor(Date.now() / 10_000) * 10_000;
const worker = best(batches.length * LINES, () => {
  for (const batch of batches) frames.frame(0, FORMAT_IDS.influx_line, 1, windowMs, batch);
  frames.take(windowMs);
});
console.log(`parse and aggregate (a worker's share): ${(worker / 1e6).toFixed(2)} M lines/s`);

const dir = mkdtempSync(join(tmpdir(), "tally-bench-inbox-"));
const store = Store.open(dir);
try {
  const big = best(batches.length, () => {
    for (const batch of batches) {
      store.keepInbox([{ input: "http", format: FORMAT_IDS.influx_line, bytes: batch }], 0);
    }
  });
  console.log(
    `inbox commit of one ${(batches[0]!.length / 1024).toFixed(0)} KiB batch: ${
      (1000 / big).toFixed(2)
    } ms ` +
      `(${(big * LINES / 1e6).toFixed(2)} M lines/s on the main thread)`,
  );
  const small = new TextEncoder().encode(
    '{"metrics":[{"name":"bench.push","type":"counter","value":1,"labels":{"host":"a"}}]}',
  );
  const entry = { input: "http", format: FORMAT_IDS.json, bytes: small };
  const one = best(2000, () => {
    for (let i = 0; i < 2000; i++) store.keepInbox([entry], 0);
  });
  const grouped = best(2000, () => {
    for (let i = 0; i < 2000 / 20; i++) store.keepInbox(Array.from({ length: 20 }, () => entry), 0);
  });
  console.log(
    `inbox commit of a small push: ${(1e6 / one).toFixed(1)} us alone, ${
      (1e6 / grouped).toFixed(1)
    } us each ` +
      "in a group of 20",
  );
} finally {
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
