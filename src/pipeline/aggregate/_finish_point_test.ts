import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { type Carry, finishPoint, withTotals } from "./_finish_point.ts";
import { counterAdd, counterInit } from "./counter_reducer.ts";
import { cumulativeAdd, cumulativeInit } from "./cumulative_reducer.ts";
import { gaugeAdd, gaugeInit } from "./gauge_reducer.ts";

function carry(over: Partial<Carry> = {}): Carry {
  return { gauge: 0, raw: NaN, total: 0, totalCount: 0, totalSum: 0, ...over };
}

describe("finishPoint", () => {
  it("adds a counter's delta to the carried total, with the rate over the window", () => {
    const state = counterInit();
    counterAdd(state, 30, 1);
    const c = carry({ total: 100 });
    assert.deepEqual(finishPoint(state, c, false, 10_000, []), {
      kind: "counter",
      delta: 30,
      total: 130,
      rate: 3,
    });
    assert.equal(c.total, 130);
  });

  it("moves a gauge's carry only for a window that is not late", () => {
    const delta = gaugeInit();
    gaugeAdd(delta, 5, true, 1);
    const c = carry({ gauge: 10 });
    assert.deepEqual(finishPoint(delta, c, true, 1000, []), { kind: "gauge", value: 15 });
    assert.equal(c.gauge, 10, "a late window leaves the carry");
    const again = gaugeInit();
    gaugeAdd(again, 5, true, 2);
    assert.deepEqual(finishPoint(again, c, false, 1000, []), { kind: "gauge", value: 15 });
    assert.equal(c.gauge, 15);
  });

  it("walks a cumulative series from the carried raw value; a late window adds nothing and moves no carry", () => {
    const state = cumulativeInit();
    cumulativeAdd(state, 120, 1);
    cumulativeAdd(state, 150, 2);
    const c = carry({ raw: 100, total: 100 });
    assert.deepEqual(finishPoint(state, c, false, 10_000, []), {
      kind: "counter",
      delta: 50,
      total: 150,
      rate: 5,
    });
    assert.deepEqual([c.raw, c.total], [150, 150]);
    const late = cumulativeInit();
    cumulativeAdd(late, 90, 0);
    assert.deepEqual(finishPoint(late, c, true, 10_000, []), {
      kind: "counter",
      delta: 0,
      total: 90,
      rate: 0,
    });
    assert.deepEqual([c.raw, c.total], [150, 150]);
  });
});

describe("withTotals", () => {
  it("replaces a counter's total and keeps the rest of the point", () => {
    const point = { kind: "counter", delta: 5, total: 10, rate: 0.5 } as const;
    assert.deepEqual(withTotals(point, carry({ total: 12 })), { ...point, total: 12 });
    const gauge = { kind: "gauge", value: 1 } as const;
    assert.equal(withTotals(gauge, carry({ total: 12 })), gauge);
  });
});
