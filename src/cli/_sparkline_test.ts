import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sparkline } from "./_sparkline.ts";

describe("sparkline", () => {
  it("sparkline() scales values from the lowest to the highest bar", () => {
    assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8]), "▁▂▃▄▅▆▇█");
    assert.equal(sparkline([10, 0, 5]), "█▁▅");
    assert.equal(sparkline([-3, -1]), "▁█");
  });

  it("sparkline() draws equal values at the middle height", () => {
    assert.equal(sparkline([4, 4, 4]), "▄▄▄");
    assert.equal(sparkline([9]), "▄");
  });

  it("sparkline() returns nothing for no values", () => {
    assert.equal(sparkline([]), "");
  });

  it("sparkline() buckets long series to the width by mean", () => {
    const values = Array.from({ length: 600 }, (_, i) => i);
    const line = sparkline(values);
    assert.equal([...line].length, 60);
    assert.equal(line[0], "▁");
    assert.equal(line[59], "█");
    // Two values per column: means 5 and 100.
    assert.equal(sparkline([0, 10, 100, 100], 2), "▁█");
    // 5 values into 2 columns: buckets of 2 and 3, means 1.5 and 4.
    assert.equal(sparkline([1, 2, 3, 4, 5], 2), "▁█");
  });

  it("sparkline() skips non-finite values and leaves an empty bucket blank", () => {
    assert.equal(sparkline([1, NaN, 8]), "▁ █");
    assert.equal(sparkline([1, Infinity, 8, NaN], 2), "▁█");
  });
});
