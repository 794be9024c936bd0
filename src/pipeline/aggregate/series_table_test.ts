import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createCollectdFormat } from "../../formats/collectd.ts";
import { encodeCollectdParts } from "../../formats/_collectd_parts.ts";
import type { Metric, Point } from "../../model/metric.ts";
import type { Sample, SampleKind } from "../../model/sample.ts";
import { type AggregatePartial, Aggregator } from "./aggregator.ts";
import { SeriesTable, type SeriesTableOptions } from "./series_table.ts";

const INTERVAL = 10_000;
const T0 = 1_700_000_000_000;
const W = (i: number): number => T0 + i * INTERVAL;

function sample(name: string, kind: SampleKind, value: number, extra: Partial<Sample> = {}): Sample {
  return {
    name,
    labels: [],
    key: name,
    kind,
    value,
    member: "",
    rate: 1,
    gaugeDelta: false,
    timeMs: 0,
    ...extra,
  };
}

/** Feeds `[sample, seq]` pairs arriving in window `windowMs` to one aggregator and takes the partial. */
function partialOf(windowMs: number, lines: ReadonlyArray<readonly [Sample, number]>): AggregatePartial {
  const agg = new Aggregator({ intervalMs: INTERVAL, exactLimit: 256, maxSeries: 1000 });
  for (const [s, seq] of lines) agg.add(s, seq, windowMs);
  return agg.take(windowMs);
}

function table(options: Partial<SeriesTableOptions> = {}): SeriesTable {
  return new SeriesTable({
    intervalMs: INTERVAL,
    percentiles: [50, 90, 95, 99],
    maxSeries: 100,
    idleMs: 300_000,
    exactLimit: 256,
    ...options,
  });
}

function pointOf(metrics: readonly Metric[], key: string, timeMs?: number): Point {
  const m = metrics.find((x) => x.key === key && (timeMs === undefined || x.timeMs === timeMs));
  assert.ok(m, `no metric for "${key}"`);
  return m.point;
}

describe("SeriesTable", () => {
  it("merge() reports counter deltas, rates and cumulative totals since the series start", () => {
    const t = table();
    const m1 = t.merge([
      partialOf(W(0), [[sample("c", "counter", 5), 1], [sample("c", "counter", 1, { rate: 0.5 }), 2]]),
    ]);
    assert.deepEqual(pointOf(m1, "c"), { kind: "counter", delta: 7, total: 7, rate: 0.7 });
    assert.equal(m1[0]!.startMs, W(0));
    assert.equal(m1[0]!.timeMs, W(0));
    assert.equal(m1[0]!.intervalMs, INTERVAL);
    const m2 = t.merge([partialOf(W(2), [[sample("c", "counter", 3), 3]])]);
    assert.deepEqual(pointOf(m2, "c"), { kind: "counter", delta: 3, total: 10, rate: 0.3 });
    assert.equal(m2[0]!.startMs, W(0));
  });

  it("merge() merges the partials of several aggregators per bucket", () => {
    const t = table();
    const metrics = t.merge([
      partialOf(W(0), [[sample("c", "counter", 2), 1], [sample("s", "set", 0, { member: "a" }), 1]]),
      partialOf(W(0), [[sample("c", "counter", 3), 2], [sample("s", "set", 0, { member: "b" }), 2]]),
      partialOf(W(0), [[sample("s", "set", 0, { member: "a" }), 3]]),
    ]);
    assert.equal(metrics.length, 2);
    assert.deepEqual(pointOf(metrics, "c"), { kind: "counter", delta: 5, total: 5, rate: 0.5 });
    assert.deepEqual(pointOf(metrics, "s"), { kind: "set", count: 2 });
  });

  it("merge() carries gauges across windows and applies deltas to the carried value", () => {
    const t = table();
    const g = (v: number, delta = false): Sample => sample("g", "gauge", v, { gaugeDelta: delta });
    assert.deepEqual(pointOf(t.merge([partialOf(W(0), [[g(5, true), 1]])]), "g"), {
      kind: "gauge",
      value: 5,
    });
    assert.deepEqual(pointOf(t.merge([partialOf(W(1), [[g(10), 2], [g(2, true), 3]])]), "g"), {
      kind: "gauge",
      value: 12,
    });
    assert.deepEqual(t.merge([]), []);
    assert.deepEqual(pointOf(t.merge([partialOf(W(3), [[g(-4, true), 4]])]), "g"), {
      kind: "gauge",
      value: 8,
    });
    // Split across two workers: the set at seq 6 wins over the delta at seq 5, the delta at seq 7 applies.
    const m = t.merge([partialOf(W(4), [[g(1, true), 5], [g(3, true), 7]]), partialOf(W(4), [[g(100), 6]])]);
    assert.deepEqual(pointOf(m, "g"), { kind: "gauge", value: 103 });
  });

  it("merge() reports a late gauge bucket without moving the carried value back", () => {
    const t = table();
    t.merge([partialOf(W(5), [[sample("g", "gauge", 50), 1]])]);
    const agg = new Aggregator({ intervalMs: INTERVAL, exactLimit: 256, maxSeries: 1000 });
    agg.add(sample("g", "gauge", 7, { timeMs: W(2) + 1 }), 2, W(6));
    const late = t.merge([agg.take(W(6))]);
    assert.equal(late.length, 1);
    assert.equal(late[0]!.timeMs, W(2));
    assert.deepEqual(late[0]!.point, { kind: "gauge", value: 7 });
    const after = t.merge([partialOf(W(6), [[sample("g", "gauge", 1, { gaugeDelta: true }), 3]])]);
    assert.deepEqual(pointOf(after, "g"), { kind: "gauge", value: 51 });
    const snap = t.snapshot();
    assert.equal(snap[0]!.timeMs, W(6));
  });

  it("merge() adds a late counter bucket to the total and keeps the snapshot on the newest window", () => {
    const t = table();
    t.merge([partialOf(W(5), [[sample("c", "counter", 10), 1]])]);
    const agg = new Aggregator({ intervalMs: INTERVAL, exactLimit: 256, maxSeries: 1000 });
    agg.add(sample("c", "counter", 4, { timeMs: W(3) }), 2, W(6));
    agg.add(sample("c", "counter", 1), 3, W(6));
    const metrics = t.merge([agg.take(W(6))]);
    assert.deepEqual(metrics.map((m) => [m.timeMs, m.point]), [
      [W(3), { kind: "counter", delta: 4, total: 14, rate: 0.4 }],
      [W(6), { kind: "counter", delta: 1, total: 15, rate: 0.1 }],
    ]);
    const late = new Aggregator({ intervalMs: INTERVAL, exactLimit: 256, maxSeries: 1000 });
    late.add(sample("c", "counter", 2, { timeMs: W(4) }), 4, W(7));
    t.merge([late.take(W(7))]);
    const snap = t.snapshot();
    assert.equal(snap.length, 1);
    assert.equal(snap[0]!.timeMs, W(6));
    assert.deepEqual(snap[0]!.point, { kind: "counter", delta: 1, total: 17, rate: 0.1 });
  });

  it("merge() turns cumulative totals into counter deltas, the first value adding 0", () => {
    const t = table();
    const c = (v: number): Sample => sample("k", "cumulative", v);
    const m1 = t.merge([partialOf(W(0), [[c(1000), 1]])]);
    assert.equal(m1[0]!.kind, "cumulative");
    assert.deepEqual(pointOf(m1, "k"), { kind: "counter", delta: 0, total: 1000, rate: 0 });
    // Several values in one window: every step counts, the total is the last raw value.
    const m2 = t.merge([partialOf(W(1), [[c(1010), 2], [c(1030), 3], [c(1050), 4]])]);
    assert.deepEqual(pointOf(m2, "k"), { kind: "counter", delta: 50, total: 1050, rate: 5 });
    assert.equal(m2[0]!.startMs, W(0));
  });

  it("merge() counts a cumulative decrease as a restart from 0 and lets the total drop", () => {
    const t = table();
    const c = (v: number): Sample => sample("k", "cumulative", v);
    t.merge([partialOf(W(0), [[c(500), 1]])]);
    // 500 → 520 (+20), restart: 4 (+4), 4 → 10 (+6).
    const m = t.merge([partialOf(W(1), [[c(520), 2], [c(4), 3], [c(10), 4]])]);
    assert.deepEqual(pointOf(m, "k"), { kind: "counter", delta: 30, total: 10, rate: 3 });
    // A restart against the carried value.
    const m2 = t.merge([partialOf(W(2), [[c(3), 5]])]);
    assert.deepEqual(pointOf(m2, "k"), { kind: "counter", delta: 3, total: 3, rate: 0.3 });
    assert.deepEqual(t.snapshot()[0]!.point, { kind: "counter", delta: 3, total: 3, rate: 0.3 });
  });

  it("merge() counts a signed cumulative fall as a negative change, never a restart", () => {
    const t = table();
    const c = (v: number): Sample => sample("k", "signed_cumulative", v);
    t.merge([partialOf(W(0), [[c(500), 1]])]);
    // 500 → 520 (+20) → 4 (-516) → 10 (+6).
    const m = t.merge([partialOf(W(1), [[c(520), 2], [c(4), 3], [c(10), 4]])]);
    assert.equal(m[0]!.kind, "signed_cumulative");
    assert.deepEqual(pointOf(m, "k"), { kind: "counter", delta: -490, total: 10, rate: -49 });
    const split = table();
    split.merge([partialOf(W(0), [[c(500), 1]])]);
    const merged = split.merge([partialOf(W(1), [[c(520), 2], [c(10), 4]]), partialOf(W(1), [[c(4), 3]])]);
    assert.deepEqual(merged, m);
  });

  it("golden: collectd DERIVE values that fall are carried by their types.db minimum", () => {
    const golden = JSON.parse(
      readFileSync(fileURLToPath(new URL("./testdata/collectd_derive.json", import.meta.url).href), "utf8"),
    ) as {
      types_db: string;
      values: Record<string, number[]>;
      expected: Record<string, { kind: string; points: Array<{ delta: number; total: number }> }>;
    };
    const parse = createCollectdFormat({ typesDb: golden.types_db });
    const t = table();
    const got: Record<string, { kind: string; points: Array<{ delta: number; total: number }> }> = {};
    const windows = golden.values["balance"]!.length;
    for (let w = 0; w < windows; w++) {
      const agg = new Aggregator({ intervalMs: INTERVAL, exactLimit: 256, maxSeries: 1000 });
      for (const [type, values] of Object.entries(golden.values)) {
        const packet = encodeCollectdParts([
          { kind: "string", type: 0x0000, text: "edge1" },
          { kind: "string", type: 0x0002, text: "bank" },
          { kind: "string", type: 0x0004, text: type },
          { kind: "values", values: [{ code: 2, value: values[w]! }] },
        ]);
        parse(packet, {
          sample: (s) => agg.add(s, w, W(w)),
          event: () => assert.fail("no events"),
          bad: (reason) => assert.fail(`bad ${reason}`),
        });
      }
      for (const metric of t.merge([agg.take(W(w))])) {
        const point = metric.point;
        assert.equal(point.kind, "counter");
        if (point.kind !== "counter") continue;
        got[metric.name] ??= { kind: metric.kind, points: [] };
        got[metric.name]!.points.push({ delta: point.delta, total: point.total });
      }
    }
    assert.deepEqual(got, golden.expected);
  });

  it("merge() orders cumulative values of several partials by frame sequence", () => {
    const c = (v: number): Sample => sample("k", "cumulative", v);
    const lines: Array<readonly [Sample, number]> = [[c(10), 1], [c(14), 2], [c(2), 3], [c(7), 4], [c(9), 5]];
    const whole = table();
    whole.merge([partialOf(W(0), [[c(5), 0]])]);
    const expected = whole.merge([partialOf(W(1), lines)]);
    const split = table();
    split.merge([partialOf(W(0), [[c(5), 0]])]);
    const merged = split.merge([
      partialOf(W(1), lines.filter((_, i) => i % 2 === 0)),
      partialOf(W(1), lines.filter((_, i) => i % 2 === 1)),
    ]);
    // 5 → 10 → 14 (+9), restart 2 (+2), → 7 → 9 (+7).
    assert.deepEqual(pointOf(expected, "k"), { kind: "counter", delta: 18, total: 9, rate: 1.8 });
    assert.deepEqual(merged, expected);
  });

  it("merge() reports a late cumulative bucket with delta 0 and keeps the carry and snapshot", () => {
    const t = table();
    const c = (v: number, extra: Partial<Sample> = {}): Sample => sample("k", "cumulative", v, extra);
    t.merge([partialOf(W(4), [[c(100), 1]])]);
    t.merge([partialOf(W(5), [[c(150), 2]])]);
    const agg = new Aggregator({ intervalMs: INTERVAL, exactLimit: 256, maxSeries: 1000 });
    agg.add(c(120, { timeMs: W(3) }), 3, W(6));
    agg.add(c(170), 4, W(6));
    const metrics = t.merge([agg.take(W(6))]);
    assert.deepEqual(metrics.map((m) => [m.timeMs, m.point]), [
      [W(3), { kind: "counter", delta: 0, total: 120, rate: 0 }],
      [W(6), { kind: "counter", delta: 20, total: 170, rate: 2 }],
    ]);
    const late = new Aggregator({ intervalMs: INTERVAL, exactLimit: 256, maxSeries: 1000 });
    late.add(c(160, { timeMs: W(5) }), 5, W(7));
    assert.deepEqual(t.merge([late.take(W(7))])[0]!.point, {
      kind: "counter",
      delta: 0,
      total: 160,
      rate: 0,
    });
    const snap = t.snapshot();
    assert.equal(snap[0]!.timeMs, W(6));
    assert.deepEqual(snap[0]!.point, { kind: "counter", delta: 20, total: 170, rate: 2 });
    // The carry is still 170, not the late 160.
    assert.deepEqual(pointOf(t.merge([partialOf(W(7), [[c(175), 6]])]), "k"), {
      kind: "counter",
      delta: 5,
      total: 175,
      rate: 0.5,
    });
  });

  it("expire() keeps a cumulative carry: a returning series' first value yields the increase over the gap", () => {
    let now = T0;
    const t = table({ idleMs: 60_000, now: () => now });
    t.merge([partialOf(W(0), [[sample("k", "cumulative", 10), 1]])]);
    now += 60_000;
    assert.equal(t.expire(now), 1);
    assert.equal(t.size, 0);
    const m = t.merge([partialOf(W(7), [[sample("k", "cumulative", 50), 2]])]);
    // An hourly script's Difference metric gets its delta even though the series idled in between.
    assert.deepEqual(pointOf(m, "k"), { kind: "counter", delta: 40, total: 50, rate: 4 });
  });

  it("merge() finishes timers as summaries with the configured percentiles ascending", () => {
    const t = table({ percentiles: [99, 50, 50] });
    const lines: Array<[Sample, number]> = [];
    for (let v = 1; v <= 100; v++) lines.push([sample("t", "timer", v), v]);
    const m1 = t.merge([partialOf(W(0), lines)]);
    assert.deepEqual(pointOf(m1, "t"), {
      kind: "summary",
      count: 100,
      sum: 5050,
      totalCount: 100,
      totalSum: 5050,
      min: 1,
      max: 100,
      mean: 50.5,
      quantiles: [{ q: 0.5, value: 50 }, { q: 0.99, value: 99 }],
    });
    const m2 = t.merge([partialOf(W(1), [[sample("t", "timer", 8, { rate: 0.5 }), 200]])]);
    const p = pointOf(m2, "t");
    assert.equal(p.kind === "summary" && p.totalCount, 102);
    assert.equal(p.kind === "summary" && p.totalSum, 5066);
    assert.equal(p.kind === "summary" && p.mean, 8);
  });

  it("merge() rejects and counts new series past the cap, and sums the aggregators' rejections", () => {
    const t = table({ maxSeries: 2 });
    const partial = partialOf(W(0), ["a", "b", "c"].map((n, i) => [sample(n, "counter", 1), i] as const));
    const metrics = t.merge([{ ...partial, rejected: 5 }]);
    assert.deepEqual(metrics.map((m) => m.key), ["a", "b"]);
    assert.equal(t.size, 2);
    assert.equal(t.rejected, 6);
    const next = t.merge([
      partialOf(W(1), [[sample("a", "counter", 1), 9], [sample("c", "counter", 1), 10]]),
    ]);
    assert.deepEqual(next.map((m) => m.key), ["a"]);
    assert.equal(t.rejected, 7);
  });

  it("expire() drops idle series, and a returning counter continues its total and start", () => {
    let now = 1_000;
    const t = table({ idleMs: 60_000, now: () => now });
    t.merge([partialOf(W(0), [[sample("old", "counter", 5), 1], [sample("kept", "counter", 1), 1]])]);
    now = 50_000;
    t.merge([partialOf(W(1), [[sample("kept", "counter", 1), 2]])]);
    assert.equal(t.expire(60_999), 0);
    assert.equal(t.expire(61_000), 1);
    assert.equal(t.size, 1);
    assert.deepEqual(t.snapshot().map((m) => m.key), ["kept"]);
    const back = t.merge([partialOf(W(9), [[sample("old", "counter", 2), 3]])]);
    // Not a reset: /metrics and remote-write see old_total go 5 → 7, with the same start.
    assert.deepEqual(back[0]!.point, { kind: "counter", delta: 2, total: 7, rate: 0.2 });
    assert.equal(back[0]!.startMs, W(0));
  });

  it("expire() lets a returning summary continue its count and sum, and a gauge start over", () => {
    let now = 0;
    const t = table({ idleMs: 1000, now: () => now, percentiles: [50] });
    t.merge([
      partialOf(W(0), [[sample("lat", "timer", 4), 1], [
        sample("temp", "gauge", 9, { gaugeDelta: false }),
        2,
      ]]),
    ]);
    now = 5000;
    assert.equal(t.expire(now), 2);
    const back = t.merge([
      partialOf(W(3), [[sample("lat", "timer", 6), 3], [
        sample("temp", "gauge", 1, { gaugeDelta: true }),
        4,
      ]]),
    ]);
    const lat = pointOf(back, "lat");
    assert.equal(lat.kind === "summary" && lat.totalCount, 2);
    assert.equal(lat.kind === "summary" && lat.totalSum, 10);
    assert.deepEqual(pointOf(back, "temp"), { kind: "gauge", value: 1 });
  });

  it("expire() keeps at most maxSeries expired totals, forgetting the oldest first", () => {
    let now = 0;
    const t = table({ idleMs: 1000, maxSeries: 2, now: () => now });
    for (const [i, name] of ["a", "b", "c"].entries()) {
      t.merge([partialOf(W(i), [[sample(name, "counter", 10), i]])]);
      now += 2000;
      t.expire(now);
    }
    const back = t.merge([
      partialOf(W(9), [["a", "b", "c"].map((n, i) => [sample(n, "counter", 1), 10 + i] as const)].flat()),
    ]);
    const totals = Object.fromEntries(
      back.map((m) => [m.key, m.point.kind === "counter" ? m.point.total : NaN]),
    );
    // "a" idled first and was forgotten when "c" expired; "b" and "c" continue.
    assert.deepEqual(totals, { a: 1, b: 11 });
    assert.equal(t.rejected, 1, "c is past the live cap of 2 this window");
  });

  it("expire() frees room under the cap for new series", () => {
    let now = 0;
    const t = table({ maxSeries: 1, idleMs: 1000, now: () => now });
    t.merge([partialOf(W(0), [[sample("a", "gauge", 1), 1]])]);
    assert.equal(t.merge([partialOf(W(1), [[sample("b", "gauge", 1), 2]])]).length, 0);
    now = 5000;
    assert.equal(t.expire(now), 1);
    assert.equal(t.merge([partialOf(W(2), [[sample("b", "gauge", 1), 3]])]).length, 1);
    assert.equal(t.rejected, 1);
  });

  it("merge() keeps each kind of a name as its own series, across partials and windows", () => {
    // One name used as a gauge and a counter (issue 11): both are kept, nothing is dropped.
    const t = table();
    const metrics = t.merge([
      partialOf(W(0), [[sample("m", "gauge", 9), 5]]),
      partialOf(W(0), [[sample("m", "counter", 1), 3], [sample("m", "counter", 1), 7]]),
    ]);
    const byKind = (ms: readonly Metric[]): Record<string, unknown> =>
      Object.fromEntries(ms.map((m) => [m.kind, m.point]));
    assert.deepEqual(byKind(metrics), {
      counter: { kind: "counter", delta: 2, total: 2, rate: 0.2 },
      gauge: { kind: "gauge", value: 9 },
    });
    assert.equal(t.size, 2);
    const next = t.merge([partialOf(W(1), [[sample("m", "gauge", 1, { gaugeDelta: true }), 8]])]);
    assert.deepEqual(
      byKind(next),
      { gauge: { kind: "gauge", value: 10 } },
      "the gauge carries its own value",
    );
    assert.deepEqual(
      t.snapshot().map((m) => [m.key, m.kind]).sort(),
      [["m", "counter"], ["m", "gauge"]],
    );
  });

  it("expire() of a name's first kind leaves its other kind going, and both continue their totals", () => {
    let now = 1_000;
    const t = table({ idleMs: 60_000, now: () => now });
    t.merge([partialOf(W(0), [[sample("m", "counter", 5), 1], [sample("m", "timer", 4), 2]])]);
    now = 50_000;
    t.merge([partialOf(W(1), [[sample("m", "timer", 6), 3]])]);
    assert.equal(t.expire(61_000), 1, "the counter idled");
    assert.deepEqual(t.snapshot().map((m) => m.kind), ["timer"]);
    const next = t.merge([partialOf(W(2), [[sample("m", "timer", 2), 4], [sample("m", "counter", 1), 5]])]);
    const summary = next.find((m) => m.kind === "timer")!.point;
    assert.equal(summary.kind === "summary" && summary.totalCount, 3, "the timer is still one series");
    assert.deepEqual(pointOf(next.filter((m) => m.kind === "counter"), "m"), {
      kind: "counter",
      delta: 1,
      total: 6,
      rate: 0.1,
    });
    assert.equal(t.size, 2);
  });

  it("snapshot() returns the latest metric of every live series", () => {
    const t = table();
    t.merge([partialOf(W(0), [[sample("c", "counter", 1), 1], [sample("g", "gauge", 3), 1]])]);
    t.merge([partialOf(W(1), [[sample("c", "counter", 2), 2]])]);
    const snap = t.snapshot().sort((a, b) => (a.key < b.key ? -1 : 1));
    assert.deepEqual(snap.map((m) => [m.key, m.timeMs]), [["c", W(1)], ["g", W(0)]]);
    assert.deepEqual(snap[0]!.point, { kind: "counter", delta: 2, total: 3, rate: 0.2 });
  });

  it("new SeriesTable() refuses a percentile outside 0-100", () => {
    assert.throws(() => table({ percentiles: [50, 101] }), /percentile must lie in 0-100, got "101"/);
    assert.throws(() => table({ intervalMs: 0 }), /interval must be positive/);
  });
});
