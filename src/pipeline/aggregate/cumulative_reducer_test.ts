import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  CUMULATIVE_MAX_ENTRIES,
  cumulativeAdd,
  cumulativeFinish,
  cumulativeIncrease,
  cumulativeInit,
  cumulativeMerge,
  type CumulativeState,
} from "./cumulative_reducer.ts";

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

  it("cumulativeAdd() with one entry keeps a signed total's falls, and shrinks a merged state to one run", () => {
    const full = cumulativeInit(true);
    const one = cumulativeInit(true);
    const other = cumulativeInit(true);
    // Falls and rises; values 1-3 reach `one` through a merge of two states (two entries), the rest one by one.
    const values = [50, 20, 35, -10, -4, 8, 8, 3];
    for (let i = 0; i < values.length; i++) {
      cumulativeAdd(full, values[i]!, i + 1, Number.POSITIVE_INFINITY);
      if (i < 2) cumulativeAdd(one, values[i]!, i + 1, 1);
      else if (i === 2) {
        cumulativeAdd(other, values[i]!, i + 1, 1);
        cumulativeMerge(one, other);
        assert.equal(one.seqs.length, 2);
      } else cumulativeAdd(one, values[i]!, i + 1, 1);
    }
    assert.deepEqual(one.seqs, [values.length]);
    assert.deepEqual(cumulativeFinish(one, 60), cumulativeFinish(full, 60));
    assert.deepEqual(cumulativeFinish(one, 60), { delta: 3 - 60, last: 3 });
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
