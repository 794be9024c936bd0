import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Sample, SampleKind } from "../../model/sample.ts";
import { counterFinish, counterInit } from "./counter_reducer.ts";
import { cumulativeFinish } from "./cumulative_reducer.ts";
import { gaugeFinish, gaugeInit } from "./gauge_reducer.ts";
import { reducerAdd, reducerInit, reducerMerge } from "./reducers.ts";
import { setFinish } from "./set_reducer.ts";
import { summaryFinish } from "./summary_reducer.ts";

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
