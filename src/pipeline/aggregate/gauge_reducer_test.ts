import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { GAUGE_MAX_DELTAS, gaugeAdd, gaugeFinish, gaugeInit, gaugeMerge } from "./gauge_reducer.ts";

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

  it("gauges without deltas share the empty lists, and the first delta writes lists of its own", () => {
    const a = gaugeInit();
    const b = gaugeInit();
    gaugeAdd(a, 5, false, 1);
    assert.equal(a.deltaSeqs, b.deltaSeqs);
    gaugeAdd(a, 2, true, 2);
    gaugeAdd(a, 1, true, 2);
    assert.deepEqual([a.deltaSeqs, a.deltaSums], [[2], [3]]);
    assert.deepEqual([b.deltaSeqs, b.deltaSums], [[], []]);
    assert.notEqual(a.deltaSeqs, a.deltaSums);
    assert.equal(gaugeFinish(a, 0), 8);
    assert.equal(gaugeFinish(b, 7), 7);
    const c = gaugeInit();
    gaugeAdd(c, 4, true, 3);
    gaugeAdd(c, 9, false, 4);
    assert.equal(gaugeFinish(c, 0), 9);
    assert.deepEqual([gaugeInit().deltaSeqs, gaugeInit().deltaSums], [[], []]);
  });
});
