import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { counterAdd, counterFinish, counterInit, counterMerge } from "./counter_reducer.ts";

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
