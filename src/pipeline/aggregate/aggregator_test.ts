import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Metric } from "../../model/metric.ts";
import type { Labels, Sample, SampleKind } from "../../model/sample.ts";
import { seriesKey } from "../../model/series_key.ts";
import { type AggregatePartial, Aggregator } from "./aggregator.ts";
import { counterFinish } from "./counter_reducer.ts";
import { gaugeFinish } from "./gauge_reducer.ts";
import { summaryFinish } from "./summary_reducer.ts";
import { SeriesTable } from "./series_table.ts";
import { seededRandom } from "./_seeded_random.ts";

const INTERVAL = 10_000;
const T0 = 1_700_000_000_000; // a multiple of 10 s

function sample(name: string, kind: SampleKind, value: number, extra: Partial<Sample> = {}): Sample {
  const labels: Labels = extra.labels ?? [];
  return {
    name,
    labels,
    key: seriesKey(name, labels),
    kind,
    value,
    member: "",
    rate: 1,
    gaugeDelta: false,
    timeMs: 0,
    ...extra,
  };
}

function aggregator(maxSeries = 1000, exactLimit = 256): Aggregator {
  return new Aggregator({ intervalMs: INTERVAL, exactLimit, maxSeries });
}

describe("Aggregator", () => {
  it("add() buckets samples by the frame's window and take() hands them over once", () => {
    const agg = aggregator();
    agg.add(sample("a", "counter", 1), 1, T0);
    agg.add(sample("a", "counter", 2), 2, T0);
    agg.add(sample("b", "gauge", 5), 3, T0);
    agg.add(sample("a", "counter", 7), 4, T0 + INTERVAL);
    assert.equal(agg.seriesCount, 3);
    const p = agg.take(T0);
    assert.equal(p.buckets.length, 1);
    assert.equal(p.buckets[0]!.windowMs, T0);
    const a = p.buckets[0]!.series.find((s) => s.key === "a")!;
    assert.equal(a.state.kind === "counter" && counterFinish(a.state), 3);
    assert.equal(agg.seriesCount, 1);
    assert.equal(agg.take(T0).buckets.length, 0);
    const next = agg.take(T0 + INTERVAL);
    assert.deepEqual(next.buckets.map((b) => b.windowMs), [T0 + INTERVAL]);
    assert.equal(agg.seriesCount, 0);
  });

  it("add() puts a sample with an older timestamp in its own bucket and clamps a future one", () => {
    const agg = aggregator();
    const now = T0 + 5 * INTERVAL;
    agg.add(sample("late", "counter", 1, { timeMs: T0 + 1234 }), 1, now);
    agg.add(sample("future", "counter", 1, { timeMs: now + 3 * INTERVAL + 5 }), 2, now);
    agg.add(sample("same", "counter", 1, { timeMs: now + 9999 }), 3, now);
    agg.add(sample("now", "counter", 1), 4, now);
    const p = agg.take(now);
    assert.deepEqual(p.buckets.map((b) => b.windowMs), [T0, now]);
    assert.deepEqual(p.buckets[0]!.series.map((s) => s.key), ["late"]);
    assert.deepEqual(p.buckets[1]!.series.map((s) => s.key), ["future", "same", "now"]);
  });

  it("take() keeps buckets newer than its bound", () => {
    const agg = aggregator();
    agg.add(sample("x", "counter", 1), 1, T0 + INTERVAL);
    agg.add(sample("x", "counter", 1, { timeMs: T0 + 1 }), 2, T0 + INTERVAL);
    const p = agg.take(T0);
    assert.deepEqual(p.buckets.map((b) => b.windowMs), [T0]);
    assert.equal(agg.seriesCount, 1);
    agg.add(sample("x", "counter", 1), 3, T0 + INTERVAL);
    const q = agg.take(T0 + INTERVAL);
    const s = q.buckets[0]!.series[0]!.state;
    assert.equal(s.kind === "counter" && counterFinish(s), 2);
  });

  it("add() rejects and counts series past the per-bucket cap", () => {
    const agg = aggregator(2);
    for (const name of ["a", "b", "c", "d", "a"]) agg.add(sample(name, "counter", 1), 1, T0);
    agg.add(sample("c", "counter", 1), 2, T0 + INTERVAL);
    const p = agg.take(T0 + INTERVAL);
    assert.equal(p.rejected, 2);
    assert.deepEqual(p.buckets[0]!.series.map((s) => s.key), ["a", "b"]);
    assert.deepEqual(p.buckets[1]!.series.map((s) => s.key), ["c"]);
    assert.equal(agg.take(T0 + INTERVAL).rejected, 0);
  });

  it("add() keeps one series per kind when a name is used as several kinds", () => {
    // Etsy setups send `m:1|c` and `m:9|ms` under one name; each kind is its own series (issue 11).
    const agg = aggregator();
    agg.add(sample("m", "counter", 1), 1, T0);
    agg.add(sample("m", "gauge", 9), 2, T0);
    agg.add(sample("m", "timer", 9), 3, T0);
    agg.add(sample("m", "counter", 1), 4, T0);
    const p = agg.take(T0);
    const series = p.buckets[0]!.series;
    assert.deepEqual(series.map((s) => [s.key, s.kind]).sort(), [["m", "counter"], ["m", "gauge"], [
      "m",
      "timer",
    ]]);
    const counter = series.find((s) => s.kind === "counter")!;
    assert.equal(counter.state.kind === "counter" && counterFinish(counter.state), 2);
    assert.equal(agg.seriesCount, 0);
  });

  it("add() counts every kind of a name against the per-bucket cap", () => {
    const agg = aggregator(2);
    agg.add(sample("m", "counter", 1), 1, T0);
    agg.add(sample("m", "timer", 1), 2, T0);
    agg.add(sample("m", "gauge", 1), 3, T0);
    const p = agg.take(T0);
    assert.equal(p.rejected, 1);
    assert.equal(p.buckets[0]!.series.length, 2);
  });

  it("add() drops and counts non-finite values", () => {
    const agg = aggregator();
    agg.add(sample("g", "gauge", NaN), 1, T0);
    agg.add(sample("t", "timer", Infinity), 1, T0);
    agg.add(sample("s", "set", NaN, { member: "u" }), 1, T0);
    const p = agg.take(T0);
    assert.equal(p.invalid, 2);
    assert.deepEqual(p.buckets[0]!.series.map((s) => s.key), ["s"]);
  });

  it("add() keeps the name and labels of the series' first sample", () => {
    const agg = aggregator();
    const labels: Labels = [["env", "prod"]];
    agg.add(sample("api.hits", "counter", 1, { labels }), 1, T0);
    const s = agg.take(T0).buckets[0]!.series[0]!;
    assert.equal(s.name, "api.hits");
    assert.deepEqual(s.labels, labels);
    assert.equal(s.key, seriesKey("api.hits", labels));
  });

  it("take() returns a partial that survives structured clone", () => {
    const agg = aggregator(1000, 4);
    for (let i = 0; i < 10; i++) {
      agg.add(sample("t", "timer", i + 1), i, T0);
      agg.add(sample("s", "set", 0, { member: `m${i % 3}` }), i, T0);
      agg.add(sample("g", "gauge", i, { gaugeDelta: i % 2 === 1 }), i, T0);
    }
    const p = agg.take(T0);
    const clone = structuredClone(p);
    assert.deepEqual(clone, p);
    const byKey = new Map(clone.buckets[0]!.series.map((s) => [s.key, s.state]));
    const t = byKey.get("t")!;
    assert.equal(t.kind === "summary" && summaryFinish(t, [1]).quantiles[0], 10);
    const g = byKey.get("g")!;
    assert.equal(g.kind === "gauge" && gaugeFinish(g, 0), 8 + 9);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: N aggregators, each fed a subsequence of the frames in order, merged, equal one aggregator.

interface TestFrame {
  readonly seq: number;
  readonly windowMs: number;
  readonly samples: readonly Sample[];
}

const SERIES: ReadonlyArray<{ name: string; kind: SampleKind; labels: Labels }> = [
  { name: "hits", kind: "counter", labels: [] },
  { name: "hits", kind: "counter", labels: [["env", "prod"]] },
  { name: "queue", kind: "gauge", labels: [] },
  { name: "temp", kind: "gauge", labels: [["room", "a"]] },
  { name: "latency", kind: "timer", labels: [] },
  { name: "size", kind: "histogram", labels: [] },
  { name: "payload", kind: "distribution", labels: [["route", "/x"]] },
  { name: "users", kind: "set", labels: [] },
  { name: "octets", kind: "cumulative", labels: [] },
  { name: "octets", kind: "cumulative", labels: [["if", "eth0"]] },
];

// Rates whose reciprocals are integers, and integer values: every sum below is exact in floating
// point, so merge order cannot change a bit and results can be compared exactly.
const RATES = [1, 1, 1, 0.5, 0.25];

function randomStream(seed: number, windows: number): TestFrame[] {
  const r = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));
  const frames: TestFrame[] = [];
  let seq = int(0, 5);
  // The running totals of the cumulative series: rising, with an occasional restart.
  const totals = new Map<string, number>();
  for (let w = 0; w < windows; w++) {
    const windowMs = T0 + w * INTERVAL;
    const nFrames = r() < 0.15 ? 0 : int(1, 40);
    for (let f = 0; f < nFrames; f++) {
      seq += int(1, 3);
      const samples: Sample[] = [];
      const nSamples = int(1, 6);
      for (let i = 0; i < nSamples; i++) {
        const s = pick(SERIES);
        let timeMs = 0;
        const t = r();
        if (t < 0.08) timeMs = windowMs - int(1, 2) * INTERVAL + int(0, INTERVAL - 1); // late
        else if (t < 0.12) timeMs = windowMs + int(0, 3 * INTERVAL); // own window or future
        const extra: Partial<Sample> = { labels: s.labels, timeMs };
        let value = 0;
        switch (s.kind) {
          case "counter":
            value = int(-5, 20);
            Object.assign(extra, { rate: pick(RATES) });
            break;
          case "gauge":
            if (r() < 0.35) {
              value = int(-100, 100);
            } else {
              value = int(-10, 10);
              Object.assign(extra, { gaugeDelta: true });
            }
            break;
          case "set":
            Object.assign(extra, { member: `u${int(0, 30)}` });
            break;
          case "cumulative": {
            const id = `${s.name}${s.labels.length}`;
            value = r() < 0.05 ? int(0, 10) : (totals.get(id) ?? int(0, 1000)) + int(0, 50);
            totals.set(id, value);
            break;
          }
          default:
            value = r() < 0.2 ? int(-50, 50) : Math.round(10 ** (r() * 6));
            Object.assign(extra, { rate: pick(RATES) });
        }
        samples.push(sample(s.name, s.kind, value, extra));
      }
      frames.push({ seq, windowMs, samples });
    }
  }
  return frames;
}

function byTimeAndKey(a: Metric, b: Metric): number {
  return a.timeMs - b.timeMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** The table the property tests finish partials in. */
function testTable(exactLimit: number): SeriesTable {
  return new SeriesTable({
    intervalMs: INTERVAL,
    percentiles: [0, 50, 90, 99, 100],
    maxSeries: 1000,
    idleMs: 300_000,
    exactLimit,
    now: () => T0,
  });
}

interface RunResult {
  readonly flushes: Metric[][];
  readonly snapshot: Metric[];
}

function run(
  frames: readonly TestFrame[],
  windows: number,
  n: number,
  split: () => number,
  exactLimit: number,
) {
  const aggs = Array.from({ length: n }, () => aggregator(1000, exactLimit));
  const table = testTable(exactLimit);
  const flushes: Metric[][] = [];
  let next = 0;
  for (let w = 0; w < windows; w++) {
    const windowMs = T0 + w * INTERVAL;
    while (next < frames.length && frames[next]!.windowMs === windowMs) {
      const frame = frames[next++]!;
      const agg = aggs[Math.floor(split() * n)]!;
      for (const s of frame.samples) agg.add(s, frame.seq, frame.windowMs);
    }
    // Structured clone stands in for postMessage from the workers.
    const partials: AggregatePartial[] = aggs.map((a) => structuredClone(a.take(windowMs)));
    flushes.push(table.merge(partials).sort(byTimeAndKey));
  }
  const result: RunResult = { flushes, snapshot: table.snapshot().sort(byTimeAndKey) };
  return result;
}

describe("Aggregator + SeriesTable property", () => {
  it("merging N aggregators' partials equals one aggregator fed the whole stream", () => {
    const WINDOWS = 5;
    let late = 0;
    let sketched = 0;
    let exact = 0;
    let deltaOnly = 0;
    let cumulativeSteps = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const exactLimit = seed % 2 === 0 ? 256 : 8;
      const frames = randomStream(seed, WINDOWS);
      const single = run(frames, WINDOWS, 1, () => 0, exactLimit);
      for (let n = 1; n <= 4; n++) {
        const split = seededRandom(seed * 100 + n);
        const pooled = run(frames, WINDOWS, n, split, exactLimit);
        assert.deepEqual(pooled, single, `seed ${seed}, ${n} aggregators`);
      }
      // Make sure the streams exercise what the property is about.
      single.flushes.forEach((metrics, w) => {
        for (const m of metrics) {
          if (m.timeMs < T0 + w * INTERVAL) late++;
          if (m.point.kind === "summary") m.point.count > exactLimit ? sketched++ : exact++;
          if (m.kind === "cumulative" && m.point.kind === "counter" && m.point.delta > 0) cumulativeSteps++;
        }
      });
      deltaOnly += frames.filter((f) => f.samples.every((s) => s.kind !== "gauge" || s.gaugeDelta)).length;
    }
    assert.ok(late > 0, "no late buckets generated");
    assert.ok(sketched > 0, "no summary reached the sketch");
    assert.ok(exact > 0, "no summary stayed exact");
    assert.ok(deltaOnly > 0, "no gauge delta frames generated");
    assert.ok(cumulativeSteps > 0, "no cumulative series moved");
  });
});

describe("Aggregator.take(upTo, fold) property", () => {
  it("folding the windows equals one window fed the whole stream, on one aggregator or several", () => {
    const WINDOWS = 4;
    const upTo = T0 + (WINDOWS - 1) * INTERVAL;
    const pointsOf = (metrics: Metric[]) => metrics.sort(byTimeAndKey).map((m) => [m.key, m.kind, m.point]);
    let folded = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const exactLimit = seed % 2 === 0 ? 256 : 8;
      // A gauge's or running total's values of one frame that fall in two buckets (some with a time of
      // their own) lose their order inside the frame when merged, as they would in any merge: keep those
      // in their frame's window. Counters, sets and distributions keep their late buckets.
      const frames = randomStream(seed, WINDOWS).map((f) => ({
        ...f,
        samples: f.samples.map((s) =>
          s.kind === "gauge" || s.kind === "cumulative" ? { ...s, timeMs: 0 } : s
        ),
      }));
      // The reference: every frame and sample in the last window, with no time of its own.
      const one = aggregator(1000, exactLimit);
      for (const frame of frames) {
        for (const s of frame.samples) one.add({ ...s, timeMs: 0 }, frame.seq, upTo);
      }
      const expected = pointsOf(testTable(exactLimit).merge([one.take(upTo)]));
      for (let n = 1; n <= 3; n++) {
        const split = seededRandom(seed * 100 + n);
        const aggs = Array.from({ length: n }, () => aggregator(1000, exactLimit));
        for (const frame of frames) {
          const agg = aggs[Math.floor(split() * n)]!;
          for (const s of frame.samples) agg.add(s, frame.seq, frame.windowMs);
        }
        const partials = aggs.map((a) => a.take(upTo, true));
        for (const p of partials) {
          assert.ok(p.buckets.every((b) => b.windowMs === upTo), `seed ${seed}: a bucket was not folded`);
          if (p.buckets.length > 0) folded++;
        }
        assert.deepEqual(
          pointsOf(testTable(exactLimit).merge(partials)),
          expected,
          `seed ${seed}, ${n} aggregators`,
        );
        assert.ok(aggs.every((a) => a.seriesCount === 0));
      }
    }
    assert.ok(folded > 0);
  });

  it("take(upTo, true) leaves the windows after upTo alone", () => {
    const agg = aggregator();
    agg.add(sample("a", "counter", 1), 1, T0);
    agg.add(sample("a", "counter", 2), 2, T0 + INTERVAL);
    agg.add(sample("a", "counter", 4), 3, T0 + 2 * INTERVAL);
    const p = agg.take(T0 + INTERVAL, true);
    assert.deepEqual(p.buckets.map((b) => b.windowMs), [T0 + INTERVAL]);
    const a = p.buckets[0]!.series[0]!.state;
    assert.equal(a.kind === "counter" && counterFinish(a), 3);
    assert.equal(agg.seriesCount, 1);
    const rest = agg.take(T0 + 2 * INTERVAL).buckets;
    assert.equal(rest.length, 1);
    assert.equal(rest[0]!.series[0]!.state.kind === "counter" && counterFinish(rest[0]!.series[0]!.state), 4);
  });
});
