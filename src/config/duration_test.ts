import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatDuration, parseDuration } from "./duration.ts";

describe("parseDuration()", () => {
  it("parses every unit", () => {
    assert.equal(parseDuration("500ms"), 500);
    assert.equal(parseDuration("10s"), 10_000);
    assert.equal(parseDuration("5m"), 300_000);
    assert.equal(parseDuration("1h"), 3_600_000);
    assert.equal(parseDuration("7d"), 604_800_000);
  });

  it("accepts fractions and rounds to whole milliseconds", () => {
    assert.equal(parseDuration("1.5s"), 1500);
    assert.equal(parseDuration("0.0004s"), 0);
  });

  it("refuses what is not one number and one unit", () => {
    for (const text of ["", "10", "s", "10 seconds", "1h30m", "-1s", "10S", "1e3ms", "10sec"]) {
      assert.equal(parseDuration(text), undefined, text);
    }
  });
});

describe("formatDuration()", () => {
  it("uses the coarsest exact unit", () => {
    assert.equal(formatDuration(300_000), "5m");
    assert.equal(formatDuration(1500), "1500ms");
    assert.equal(formatDuration(604_800_000), "7d");
    assert.equal(formatDuration(0), "0ms");
  });

  it("round-trips through parseDuration()", () => {
    for (const ms of [1, 999, 1000, 61_000, 3_600_000, 90_000_000]) {
      assert.equal(parseDuration(formatDuration(ms)), ms);
    }
  });
});
