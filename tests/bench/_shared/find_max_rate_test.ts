import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { findMaxRate, type SearchOptions } from "./find_max_rate.ts";
import type { TrialResult } from "./trial_result.ts";

/** A trial result at `targetPps` where the generator reached `achievedPps` and the receiver lost `loss`. */
function result(targetPps: number, achievedPps: number, loss: number): TrialResult {
  return {
    targetPps,
    achievedPps,
    unitsPerSecond: achievedPps * 10,
    packetsSent: achievedPps * 5,
    unitsSent: achievedPps * 50,
    expected: 1000,
    received: 1000 * (1 - loss),
    loss,
    namesExpected: 445,
    namesSeen: 445,
    namesWrong: loss > 0 ? 445 : 0,
    overcount: false,
    crashed: false,
    passed: loss < 0.01,
    generatorShort: achievedPps < targetPps * 0.97,
    kernelDrops: 0,
    readyMs: 50,
    idleRssBytes: 1,
    peakRssBytes: 2,
    sampledPeakRssBytes: 2,
    settleMs: 100,
    receiverCores: 1,
    diagnostics: {},
    backgroundShare: 0,
    loadBackgroundShare: 0,
    noisy: false,
  };
}

/** A receiver that keeps up to `capacity` packets/s and loses the excess, behind a generator capped at `ceiling`. */
function model(capacity: number, ceiling = Number.POSITIVE_INFINITY): (pps: number) => Promise<TrialResult> {
  return function trial(pps) {
    const achieved = Math.min(pps, ceiling);
    return Promise.resolve(result(pps, achieved, achieved > capacity ? (achieved - capacity) / achieved : 0));
  };
}

const OPTIONS: SearchOptions = {
  startPps: 20_000,
  maxPps: 500_000,
  minPps: 500,
  bisectSteps: 3,
  deadline: Number.POSITIVE_INFINITY,
};

describe("findMaxRate()", () => {
  it("doubles until a failure, then bisects towards the receiver's limit", async () => {
    const search = await findMaxRate(model(100_000), OPTIONS);
    const rates = search.outcomes.map((o) => o.kind === "measured" ? o.result.targetPps : o.targetPps);
    assert.deepEqual(rates, [20_000, 40_000, 80_000, 160_000, 120_000, 100_000, 110_000]);
    assert.equal(search.best?.targetPps, 100_000);
    assert.equal(search.stop, "converged");
    assert.equal(search.lowerBound, false);
    assert.equal(
      search.lowestFailure?.kind === "measured" ? search.lowestFailure.result.targetPps : 0,
      110_000,
    );
  });

  it("stops as generator-bound when a passing trial falls short of its target", async () => {
    const search = await findMaxRate(model(Number.POSITIVE_INFINITY, 300_000), OPTIONS);
    assert.equal(search.stop, "generator");
    assert.equal(search.lowerBound, true);
    assert.equal(search.best?.achievedPps, 300_000);
    assert.equal(search.outcomes.length, 5);
  });

  it("does not call a generator-bound pass a lower bound when its loss is near the limit", async () => {
    const search = await findMaxRate(function trial(pps) {
      const achieved = Math.min(pps, 300_000);
      return Promise.resolve(result(pps, achieved, achieved >= 300_000 ? 0.008 : 0));
    }, OPTIONS);
    assert.equal(search.stop, "generator");
    assert.equal(search.lowerBound, false);
  });

  it("halves from a failing start rate before bisecting", async () => {
    const search = await findMaxRate(model(7_000), OPTIONS);
    const rates = search.outcomes.map((o) => o.kind === "measured" ? o.result.targetPps : o.targetPps);
    assert.deepEqual(rates.slice(0, 3), [20_000, 10_000, 5_000]);
    assert.ok((search.best?.targetPps ?? 0) >= 5_000 && (search.best?.targetPps ?? 0) <= 7_000);
  });

  it("does not report a lucky pass above a lower failing rate", async () => {
    // Fails at 40 k, passes at 80 k (noise), fails at 160 k.
    const search = await findMaxRate(function trial(pps) {
      return Promise.resolve(result(pps, pps, pps === 40_000 || pps >= 160_000 ? 0.05 : 0));
    }, { ...OPTIONS, bisectSteps: 0 });
    assert.equal(search.best?.targetPps, 20_000);
  });

  it("counts a throwing trial as a failure and stops after two", async () => {
    const search = await findMaxRate(function trial(pps) {
      return pps > 30_000
        ? Promise.reject(new Error("receiver crashed"))
        : Promise.resolve(result(pps, pps, 0));
    }, OPTIONS);
    // 20 k passes, 40 k throws, 30 k passes, 35 k throws.
    assert.equal(search.stop, "errors");
    assert.equal(search.best?.targetPps, 30_000);
    assert.equal(search.lowestFailure?.kind, "error");
  });

  it("stops at the rate cap when everything passes", async () => {
    const search = await findMaxRate(model(Number.POSITIVE_INFINITY), { ...OPTIONS, maxPps: 100_000 });
    assert.equal(search.stop, "max_rate");
    assert.equal(search.lowerBound, true);
    assert.equal(search.best?.targetPps, 100_000);
  });
});
