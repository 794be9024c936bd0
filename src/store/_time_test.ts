import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDuration, parseTime } from "./_time.ts";

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);

describe("_time", () => {
  it("parseDuration() reads each unit and compound durations", () => {
    assert.equal(parseDuration("500ms"), 500);
    assert.equal(parseDuration("30s"), 30_000);
    assert.equal(parseDuration("15m"), 900_000);
    assert.equal(parseDuration("1h"), 3_600_000);
    assert.equal(parseDuration("7d"), 604_800_000);
    assert.equal(parseDuration("2w"), 1_209_600_000);
    assert.equal(parseDuration("1h30m"), 5_400_000);
    assert.equal(parseDuration("1.5h"), 5_400_000);
  });

  it("parseDuration() rejects what is not a duration", () => {
    for (const text of ["", "1", "h", "1x", "1 h", "-1h", "1h-", "1H", "1.h"]) {
      assert.equal(parseDuration(text), undefined, text);
    }
  });

  it("parseTime() takes durations back from now, with or without a minus", () => {
    assert.equal(parseTime("1h", NOW), NOW - 3_600_000);
    assert.equal(parseTime("-15m", NOW), NOW - 900_000);
    assert.equal(parseTime("now", NOW), NOW);
  });

  it("parseTime() reads epoch seconds and milliseconds", () => {
    assert.equal(parseTime("1714564800", NOW), NOW);
    assert.equal(parseTime("1714564800.5", NOW), NOW + 500);
    assert.equal(parseTime(String(NOW), 0), NOW);
    assert.equal(parseTime("0", NOW), 0);
  });

  it("parseTime() reads RFC 3339 times with an offset", () => {
    assert.equal(parseTime("2024-05-01T12:00:00Z", 0), NOW);
    assert.equal(parseTime("2024-05-01T14:00:00.250+02:00", 0), NOW + 250);
    assert.equal(parseTime("2024-05-01 12:00:00z", 0), NOW);
  });

  it("parseTime() rejects other text", () => {
    for (
      const text of [
        "",
        "yesterday",
        "2024-05-01",
        "2024-05-01T12:00:00",
        "12:00",
        "1e9",
        "-5",
        "2024-13-45T99:00:00Z",
      ]
    ) {
      assert.equal(parseTime(text, NOW), undefined, text);
    }
  });
});
