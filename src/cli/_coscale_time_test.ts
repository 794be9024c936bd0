import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { resolveCoscaleTime } from "./_coscale_time.ts";

const NOW = 1_764_748_800_000;

describe("resolveCoscaleTime()", () => {
  it("resolveCoscaleTime() reads 0 as now, a negative number as seconds ago, a positive one as Unix seconds", () => {
    assert.equal(resolveCoscaleTime("0", NOW), NOW);
    assert.equal(resolveCoscaleTime("-300", NOW), NOW - 300_000);
    assert.equal(resolveCoscaleTime("1454580954", NOW), 1_454_580_954_000);
    assert.equal(resolveCoscaleTime(" -0.25 ", NOW), NOW - 250);
    assert.equal(resolveCoscaleTime("-0", NOW), NOW);
  });

  it("resolveCoscaleTime() refuses what is not a number of seconds", () => {
    for (
      const text of [
        "",
        "now",
        "5m",
        "1e3",
        "+5",
        "--5",
        "1.",
        "2026-01-01T00:00:00Z",
        "99999999999999999999",
      ]
    ) {
      assert.equal(resolveCoscaleTime(text, NOW), undefined, text);
    }
  });

  it("resolveCoscaleTime() refuses a time before the epoch", () => {
    assert.equal(resolveCoscaleTime(`-${NOW / 1000 + 1}`, NOW), undefined);
  });
});
