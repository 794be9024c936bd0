import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { backoffDelay } from "./_backoff.ts";

describe("backoffDelay()", () => {
  const options = { baseMs: 50, maxMs: 1000 };

  it("backoffDelay() doubles the step from the base and stops at the cap", () => {
    const low = (attempt: number) => backoffDelay(attempt, { ...options, random: () => 0 });
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 40].map(low), [25, 50, 100, 200, 400, 500, 500, 500]);
  });

  it("backoffDelay() adds up to half a step of jitter", () => {
    assert.equal(backoffDelay(2, { ...options, random: () => 0.5 }), 150);
    assert.equal(backoffDelay(2, { ...options, random: () => 0.999 }), 100 + 0.999 * 100);
    assert.equal(backoffDelay(9, { ...options, random: () => 0.25 }), 625);
  });
});
