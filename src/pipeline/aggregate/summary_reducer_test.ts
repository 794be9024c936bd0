import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  summaryAdd,
  summaryFinish,
  summaryInit,
  summaryMerge,
  type SummaryState,
} from "./summary_reducer.ts";
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

  it("summaryAdd() keeps no weights while every weight is 1, and back-fills ones at the first that is not", () => {
    const s = summaryOf([5, 1, 9], 256);
    assert.equal(s.weights, null, "unsampled timers keep values only");
    summaryAdd(s, 2, 0.25, 256);
    assert.deepEqual(s.values, [5, 1, 9, 2]);
    assert.deepEqual(s.weights, [1, 1, 1, 4]);
    summaryAdd(s, 7, 1, 256);
    assert.deepEqual(s.weights, [1, 1, 1, 4, 1], "once weighted, every value has its weight");
    const expanded = [5, 1, 9, 2, 2, 2, 2, 7];
    assert.deepEqual(summaryFinish(s, QS).quantiles, QS.map((q) => nearestRank(expanded, q)));
    assert.equal(s.count, 8);
  });

  it("summaryMerge() keeps each value's weight when only one side is weighted", () => {
    const unit = [100, 50];
    const sampled = [1, 3];
    const expanded = [100, 50, 1, 1, 3, 3];
    for (
      const [into, from] of [
        [summaryOf(unit, 16), summaryOf(sampled, 16, 0.5)],
        [summaryOf(sampled, 16, 0.5), summaryOf(unit, 16)],
      ] as const
    ) {
      summaryMerge(into, from, 16);
      assert.equal(into.sketch, null);
      assert.equal(into.weights?.length, 4);
      assert.deepEqual(summaryFinish(into, QS).quantiles, QS.map((q) => nearestRank(expanded, q)));
      assert.equal(into.count, 6);
    }
    const both = summaryOf(unit, 16);
    summaryMerge(both, summaryOf([7], 16), 16);
    assert.equal(both.weights, null, "two unweighted sides stay unweighted");
  });

  it("summaryMerge() carries the weights of exact values into the sketch", () => {
    const into = summaryOf([10, 20, 30], 4);
    summaryMerge(into, summaryOf([40, 50], 4, 0.5), 4);
    assert.notEqual(into.sketch, null);
    assert.equal(into.weights, null);
    assert.equal(into.sketch!.count, 7);
    assert.equal(summaryFinish(into, [1]).quantiles[0], 50);
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
