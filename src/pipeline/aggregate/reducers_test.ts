import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Sample, SampleKind } from "../../model/sample.ts";
import {
  counterAdd,
  counterFinish,
  counterInit,
  counterMerge,
  CUMULATIVE_MAX_ENTRIES,
  cumulativeAdd,
  cumulativeFinish,
  cumulativeIncrease,
  cumulativeInit,
  cumulativeMerge,
  type CumulativeState,
  GAUGE_MAX_DELTAS,
  gaugeAdd,
  gaugeFinish,
  gaugeInit,
  gaugeMerge,
  reducerAdd,
  reducerInit,
  reducerMerge,
  setAdd,
  setFinish,
  setInit,
  setMerge,
  summaryAdd,
  summaryFinish,
  summaryInit,
  summaryMerge,
  type SummaryState,
} from "./reducers.ts";
import { seededRandom } from "./_seeded_random.ts";

const QS = [0, 0.1, 0.5, 0.9, 0.95, 0.99, 1];

function nearestRank(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

function summaryOf(values: readonly number[], limit: number, rate = 1): SummaryState {
  const s = summaryInit();
  for (const v of values) summaryAdd(s, v, rate, limit);
  return s;
}

function sample(kind: SampleKind, value: number, extra: Partial<Sample> = {}): Sample {
  return {
    name: "m",
    labels: [],
    key: "m",
    kind,
    value,
    member: "",
    rate: 1,
    gaugeDelta: false,
    timeMs: 0,
    ...extra,
  };
}

describe("counter reducer", () => {
  it("counterAdd() scales increments by 1/sample rate", () => {
    const s = counterInit();
    counterAdd(s, 3, 1);
    counterAdd(s, 1, 0.1);
    counterAdd(s, 2, 0.5);
    assert.equal(counterFinish(s), 3 + 10 + 4);
  });

  it("counterMerge() adds the sums", () => {
    const a = counterInit();
    const b = counterInit();
    counterAdd(a, 5, 1);
    counterAdd(b, -2, 1);
    counterMerge(a, b);
    assert.equal(counterFinish(a), 3);
  });
});

describe("gauge reducer", () => {
  it("gaugeAdd() keeps the last set and the deltas after it", () => {
    const s = gaugeInit();
    gaugeAdd(s, 5, true, 1);
    gaugeAdd(s, 10, false, 2);
    gaugeAdd(s, 3, true, 3);
    gaugeAdd(s, -1, true, 4);
    assert.equal(gaugeFinish(s, 100), 12);
  });

  it("gaugeAdd() applies a delta after a set in the same frame but not one before it", () => {
    const s = gaugeInit();
    gaugeAdd(s, 7, true, 1);
    gaugeAdd(s, 1, true, 2); // before the set, same frame: dropped
    gaugeAdd(s, 10, false, 2);
    gaugeAdd(s, 2, true, 2); // after the set, same frame: counts
    assert.equal(gaugeFinish(s, 0), 12);
    assert.equal(s.deltaSeqs.length, 0);
  });

  it("gaugeAdd() lets a later set in the same frame replace an earlier one", () => {
    const s = gaugeInit();
    gaugeAdd(s, 10, false, 4);
    gaugeAdd(s, 1, true, 4);
    gaugeAdd(s, 20, false, 4);
    assert.equal(gaugeFinish(s, 0), 20);
  });

  it("gaugeFinish() applies deltas to the previous value when the window has no set", () => {
    const s = gaugeInit();
    gaugeAdd(s, 3, true, 1);
    gaugeAdd(s, -5, true, 2);
    assert.equal(gaugeFinish(s, 40), 38);
    assert.equal(gaugeFinish(gaugeInit(), 40), 40);
  });

  it("gaugeAdd() ignores an out-of-order older set and older deltas", () => {
    const s = gaugeInit();
    gaugeAdd(s, 10, false, 5);
    gaugeAdd(s, 99, false, 3);
    gaugeAdd(s, 1, true, 4);
    gaugeAdd(s, 2, true, 6);
    assert.equal(gaugeFinish(s, 0), 12);
  });

  it("gaugeMerge() keeps the set with the higher sequence and only the deltas after it", () => {
    // Stream: seq1 +1 (A), seq2 =10 (B), seq3 +2 (A), seq4 +3 (B), seq5 +4 (A).
    const a = gaugeInit();
    const b = gaugeInit();
    gaugeAdd(a, 1, true, 1);
    gaugeAdd(b, 10, false, 2);
    gaugeAdd(a, 2, true, 3);
    gaugeAdd(b, 3, true, 4);
    gaugeAdd(a, 4, true, 5);
    const whole = gaugeInit();
    gaugeAdd(whole, 1, true, 1);
    gaugeAdd(whole, 10, false, 2);
    gaugeAdd(whole, 2, true, 3);
    gaugeAdd(whole, 3, true, 4);
    gaugeAdd(whole, 4, true, 5);
    gaugeMerge(a, b);
    assert.equal(gaugeFinish(a, 0), 19);
    assert.equal(gaugeFinish(whole, 0), 19);
    assert.deepEqual(a.deltaSeqs, [3, 4, 5]);
  });

  it("gaugeMerge() drops the receiver's deltas older than a newer set merged in", () => {
    const a = gaugeInit();
    const b = gaugeInit();
    gaugeAdd(a, 5, false, 1);
    gaugeAdd(a, 1, true, 2);
    gaugeAdd(a, 1, true, 6);
    gaugeAdd(b, 100, false, 4);
    gaugeMerge(a, b);
    assert.equal(gaugeFinish(a, 0), 101);
  });

  it("gaugeMerge() of two delta-only states sums them against the previous value", () => {
    const a = gaugeInit();
    const b = gaugeInit();
    gaugeAdd(a, 1, true, 1);
    gaugeAdd(b, 2, true, 2);
    gaugeAdd(a, 3, true, 3);
    gaugeMerge(b, a);
    assert.equal(gaugeFinish(b, 10), 16);
    assert.deepEqual(b.deltaSeqs, [1, 2, 3]);
  });

  it("gaugeAdd() coalesces the oldest deltas past the cap and keeps the sum", () => {
    const s = gaugeInit();
    for (let i = 1; i <= GAUGE_MAX_DELTAS * 3; i++) gaugeAdd(s, 1, true, i);
    assert.ok(s.deltaSeqs.length <= GAUGE_MAX_DELTAS);
    assert.equal(gaugeFinish(s, 0), GAUGE_MAX_DELTAS * 3);
    for (let i = 1; i < s.deltaSeqs.length; i++) assert.ok(s.deltaSeqs[i]! > s.deltaSeqs[i - 1]!);
  });
});

function cumulativeOf(entries: ReadonlyArray<readonly [value: number, seq: number]>): CumulativeState {
  const s = cumulativeInit();
  for (const [value, seq] of entries) cumulativeAdd(s, value, seq);
  return s;
}

describe("cumulative reducer", () => {
  it("cumulativeIncrease() takes a decrease as a restart from 0", () => {
    assert.equal(cumulativeIncrease(10, 15), 5);
    assert.equal(cumulativeIncrease(10, 10), 0);
    assert.equal(cumulativeIncrease(10, 3), 3);
    // A 32-bit wrap is indistinguishable from a restart: the part before the wrap is not counted.
    assert.equal(cumulativeIncrease(2 ** 32 - 10, 5), 5);
  });

  it("cumulativeFinish() adds 0 for the first value ever seen", () => {
    const r = cumulativeFinish(cumulativeOf([[100, 1]]), NaN);
    assert.deepEqual(r, { delta: 0, last: 100 });
  });

  it("cumulativeFinish() walks the previous value and every value of the window", () => {
    const s = cumulativeOf([[105, 1], [110, 2], [130, 3]]);
    assert.deepEqual(cumulativeFinish(s, 100), { delta: 30, last: 130 });
    assert.deepEqual(cumulativeFinish(cumulativeOf([[105, 1], [110, 2], [130, 3]]), NaN), {
      delta: 25,
      last: 130,
    });
  });

  it("cumulativeFinish() counts a reset as a restart from 0", () => {
    // 100 → 120 (+20), reset to 5 (+5), 5 → 9 (+4).
    const s = cumulativeOf([[120, 1], [5, 2], [9, 3]]);
    assert.deepEqual(cumulativeFinish(s, 100), { delta: 29, last: 9 });
    // A reset against the carried value.
    assert.deepEqual(cumulativeFinish(cumulativeOf([[7, 4]]), 100), { delta: 7, last: 7 });
  });

  it("cumulativeFinish() of an empty state reports delta 0 and no last value", () => {
    const r = cumulativeFinish(cumulativeInit(), 50);
    assert.equal(r.delta, 0);
    assert.ok(Number.isNaN(r.last));
  });

  it("cumulativeAdd() with one entry keeps a single run that finishes as the full list does", () => {
    const values: Array<[number, number]> = [];
    let total = 0;
    for (let seq = 1; seq <= 5000; seq++) {
      // Rises, with a restart every 700 values.
      total = seq % 700 === 0 ? 1 : total + (seq % 7);
      values.push([total, seq]);
    }
    const full = cumulativeInit();
    const one = cumulativeInit();
    for (const [value, seq] of values) {
      cumulativeAdd(full, value, seq, Number.POSITIVE_INFINITY);
      cumulativeAdd(one, value, seq, 1);
    }
    assert.equal(full.seqs.length, 5000);
    assert.deepEqual(one.seqs, [5000]);
    assert.deepEqual(cumulativeFinish(one, 3), cumulativeFinish(full, 3));
    assert.deepEqual(cumulativeFinish(one, NaN), cumulativeFinish(full, NaN));
  });

  it("cumulativeAdd() folds values of one frame in line order, resets included", () => {
    const s = cumulativeOf([[10, 1], [20, 1], [3, 1], [8, 1]]);
    assert.deepEqual(s.seqs, [1]);
    // 10 → 20 (+10), reset to 3 (+3), 3 → 8 (+5).
    assert.deepEqual(cumulativeFinish(s, NaN), { delta: 18, last: 8 });
  });

  it("cumulativeAdd() keeps an out-of-order frame in sequence order", () => {
    const s = cumulativeOf([[10, 1], [30, 3], [20, 2]]);
    assert.deepEqual(s.seqs, [1, 2, 3]);
    assert.deepEqual(cumulativeFinish(s, NaN), { delta: 20, last: 30 });
  });

  it("cumulativeMerge() orders the values of both states by frame sequence", () => {
    const values: Array<readonly [number, number]> = [[10, 1], [12, 2], [15, 3], [2, 4], [6, 5], [9, 6]];
    const whole = cumulativeFinish(cumulativeOf(values), 8);
    for (const split of [[0, 2, 4], [1, 3, 5], [0, 1, 2], [3, 4, 5], [], [0, 1, 2, 3, 4, 5]]) {
      const a = cumulativeOf(values.filter((_, i) => split.includes(i)));
      const b = cumulativeOf(values.filter((_, i) => !split.includes(i)));
      cumulativeMerge(a, structuredClone(b));
      assert.deepEqual(cumulativeFinish(a, 8), whole, `split ${split.join(",")}`);
      assert.deepEqual(a.seqs, [1, 2, 3, 4, 5, 6]);
    }
    assert.deepEqual(whole, { delta: 2 + 2 + 3 + 2 + 4 + 3, last: 9 });
  });

  it("cumulativeAdd() coalesces the oldest entries past the cap and keeps the increase", () => {
    const s = cumulativeInit();
    const n = CUMULATIVE_MAX_ENTRIES * 3;
    // Rising by 2, with a reset to 1 every 500 values.
    const values: number[] = [];
    let v = 0;
    for (let i = 1; i <= n; i++) {
      v = i % 500 === 0 ? 1 : v + 2;
      values.push(v);
      cumulativeAdd(s, v, i);
    }
    assert.ok(s.seqs.length <= CUMULATIVE_MAX_ENTRIES);
    for (let i = 1; i < s.seqs.length; i++) assert.ok(s.seqs[i]! > s.seqs[i - 1]!);
    let expected = 0;
    for (let i = 1; i < values.length; i++) expected += cumulativeIncrease(values[i - 1]!, values[i]!);
    assert.deepEqual(cumulativeFinish(s, NaN), { delta: expected, last: values[n - 1]! });
  });

  it("cumulativeMerge() coalesces past the cap and keeps the increase of disjoint runs", () => {
    const a = cumulativeInit();
    const b = cumulativeInit();
    for (let i = 1; i <= CUMULATIVE_MAX_ENTRIES; i++) cumulativeAdd(a, i, i);
    for (let i = CUMULATIVE_MAX_ENTRIES + 1; i <= CUMULATIVE_MAX_ENTRIES * 2; i++) cumulativeAdd(b, i, i);
    cumulativeMerge(a, b);
    assert.ok(a.seqs.length <= CUMULATIVE_MAX_ENTRIES);
    assert.deepEqual(cumulativeFinish(a, 0), {
      delta: CUMULATIVE_MAX_ENTRIES * 2,
      last: CUMULATIVE_MAX_ENTRIES * 2,
    });
  });
});

describe("summary reducer", () => {
  it("summaryAdd() weights count and sum by 1/sample rate", () => {
    const s = summaryInit();
    summaryAdd(s, 10, 0.5, 256);
    summaryAdd(s, 4, 1, 256);
    const r = summaryFinish(s, [0.5]);
    assert.equal(r.count, 3);
    assert.equal(r.sum, 24);
    assert.equal(r.min, 4);
    assert.equal(r.max, 10);
  });

  it("summaryFinish() answers the nearest rank exactly under the exact limit", () => {
    const r = seededRandom(3);
    const values = Array.from({ length: 200 }, () => Math.round(r() * 1000) - 300);
    const result = summaryFinish(summaryOf(values, 256), QS);
    assert.deepEqual(result.quantiles, QS.map((q) => nearestRank(values, q)));
  });

  it("summaryFinish() uses the weighted nearest rank with sample rates", () => {
    // 1 weighs 9 (three lines at rate 1/3), 100 weighs 1.
    const s = summaryInit();
    summaryAdd(s, 100, 1, 256);
    for (let i = 0; i < 3; i++) summaryAdd(s, 1, 1 / 3, 256);
    const expanded = [100, 1, 1, 1, 1, 1, 1, 1, 1, 1];
    const qs = [0, 0.5, 0.9, 0.91, 1];
    assert.deepEqual(summaryFinish(s, qs).quantiles, qs.map((q) => nearestRank(expanded, q)));
  });

  it("summaryAdd() switches to the sketch past the exact limit", () => {
    const s = summaryOf(Array.from({ length: 16 }, (_, i) => i + 1), 16);
    assert.equal(s.sketch, null);
    assert.equal(s.values.length, 16);
    summaryAdd(s, 17, 1, 16);
    assert.notEqual(s.sketch, null);
    assert.equal(s.values.length, 0);
    assert.equal(s.sketch!.count, 17);
  });

  it("summaryFinish() stays within 1 % of the nearest rank after the switch", () => {
    const r = seededRandom(8);
    const values = Array.from({ length: 5000 }, () => Math.exp(r() * 10));
    const result = summaryFinish(summaryOf(values, 256), QS);
    QS.forEach((q, i) => {
      const expected = nearestRank(values, q);
      assert.ok(Math.abs(result.quantiles[i]! - expected) / expected <= 0.01, `q=${q}`);
    });
    assert.equal(result.count, 5000);
  });

  it("summaryMerge() of exact states under the limit stays exact", () => {
    const a = summaryOf([5, 1, 9], 8);
    summaryMerge(a, summaryOf([3, 7], 8), 8);
    assert.equal(a.sketch, null);
    assert.deepEqual(summaryFinish(a, [0, 0.5, 1]).quantiles, [1, 5, 9]);
    assert.equal(a.count, 5);
    assert.equal(a.sum, 25);
  });

  it("summaryMerge() of exact states over the limit switches to the sketch", () => {
    const a = summaryOf([1, 2, 3, 4, 5], 8);
    summaryMerge(a, summaryOf([6, 7, 8, 9], 8), 8);
    assert.notEqual(a.sketch, null);
    assert.equal(a.sketch!.count, 9);
    assert.equal(summaryFinish(a, [1]).quantiles[0], 9);
  });

  it("summaryMerge() combines exact with sketch and sketch with sketch", () => {
    const r = seededRandom(4);
    const big1 = Array.from({ length: 300 }, () => Math.round(r() * 5000));
    const big2 = Array.from({ length: 300 }, () => Math.round(r() * 5000));
    const small = [1, 2, 3];
    const cases: Array<[SummaryState, SummaryState, number[]]> = [
      [summaryOf(small, 16), summaryOf(big1, 16), [...small, ...big1]],
      [summaryOf(big1, 16), summaryOf(small, 16), [...big1, ...small]],
      [summaryOf(big1, 16), summaryOf(big2, 16), [...big1, ...big2]],
    ];
    for (const [into, from, all] of cases) {
      summaryMerge(into, from, 16);
      const whole = summaryFinish(summaryOf(all, 16), QS);
      const merged = summaryFinish(into, QS);
      assert.deepEqual(merged, whole);
      QS.forEach((q, i) => {
        const expected = nearestRank(all, q);
        assert.ok(Math.abs(merged.quantiles[i]! - expected) <= Math.abs(expected) * 0.01, `q=${q}`);
      });
    }
  });

  it("summaryFinish() of an empty state reports NaN quantiles", () => {
    const r = summaryFinish(summaryInit(), [0.5]);
    assert.equal(r.count, 0);
    assert.ok(Number.isNaN(r.quantiles[0]));
  });
});

describe("set reducer", () => {
  it("setAdd() counts distinct members", () => {
    const s = setInit();
    for (const m of ["a", "b", "a", "c", "b"]) setAdd(s, m);
    assert.equal(setFinish(s), 3);
  });

  it("setMerge() takes the union", () => {
    const a = setInit();
    const b = setInit();
    for (const m of ["a", "b"]) setAdd(a, m);
    for (const m of ["b", "c", "d"]) setAdd(b, m);
    setMerge(a, b);
    assert.equal(setFinish(a), 4);
  });
});

describe("reducerAdd()", () => {
  it("reducerAdd() dispatches every sample kind", () => {
    const kinds: SampleKind[] = [
      "counter",
      "gauge",
      "timer",
      "histogram",
      "distribution",
      "set",
      "cumulative",
    ];
    for (const kind of kinds) {
      const s = reducerInit(kind);
      reducerAdd(s, sample(kind, 4, { member: "x" }), 1, 256);
      reducerAdd(s, sample(kind, 2, { member: "y", gaugeDelta: true }), 2, 256);
      switch (s.kind) {
        case "counter":
          assert.equal(counterFinish(s), 6);
          break;
        case "gauge":
          assert.equal(gaugeFinish(s, 0), 6);
          break;
        case "summary":
          assert.equal(summaryFinish(s, [1]).quantiles[0], 4);
          break;
        case "set":
          assert.equal(setFinish(s), 2);
          break;
        case "cumulative":
          // 4 then 2: a restart from 0 adds 2.
          assert.deepEqual(cumulativeFinish(s, 0), { delta: 6, last: 2 });
          break;
      }
    }
  });

  it("reducerMerge() refuses states of different kinds", () => {
    assert.throws(() => reducerMerge(counterInit(), gaugeInit(), 256), /kinds differ/);
  });

  it("reducerMerge() works on structured clones of every state", () => {
    const expected = { counter: 1 + 15 * 2, gauge: 5, summary: 5, set: 7, cumulative: 5 };
    for (const kind of ["counter", "gauge", "timer", "set", "cumulative"] as const) {
      const a = reducerInit(kind);
      const b = reducerInit(kind);
      reducerAdd(a, sample(kind, 1, { member: "p" }), 1, 4);
      // Rate 0.5: counters count double; six timer values push past the exact limit of 4.
      for (let i = 0; i < 6; i++) reducerAdd(b, sample(kind, i, { member: `m${i}`, rate: 0.5 }), 2 + i, 4);
      const clone = structuredClone(b);
      assert.notEqual(clone, b);
      reducerMerge(a, clone, 4);
      switch (a.kind) {
        case "counter":
          assert.equal(counterFinish(a), expected.counter);
          break;
        case "gauge":
          assert.equal(gaugeFinish(a, 0), expected.gauge);
          break;
        case "summary":
          assert.notEqual(a.sketch, null);
          assert.equal(summaryFinish(a, [1]).quantiles[0], expected.summary);
          assert.equal(a.count, 13);
          break;
        case "set":
          assert.equal(setFinish(a), expected.set);
          break;
        case "cumulative":
          // 1, then 0..5 (rate ignored): 1 → 0 is a restart (+0), then +1 five times.
          assert.deepEqual(cumulativeFinish(a, NaN), { delta: expected.cumulative, last: 5 });
          break;
      }
    }
  });
});
