import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  backoffDelay,
  classifyStatus,
  firstLine,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  retryDelay,
} from "./_retry.ts";

describe("classifyStatus()", () => {
  it("delivers 2xx, retries 429 and 5xx, rejects the other 4xx", () => {
    assert.deepEqual([200, 204, 299].map(classifyStatus), ["delivered", "delivered", "delivered"]);
    assert.deepEqual([429, 500, 502, 503].map(classifyStatus), ["retry", "retry", "retry", "retry"]);
    assert.deepEqual([400, 401, 404, 413, 499].map(classifyStatus), [
      "rejected",
      "rejected",
      "rejected",
      "rejected",
      "rejected",
    ]);
  });
});

describe("backoffDelay()", () => {
  const bounds = { minMs: 500, maxMs: 30_000 };

  it("doubles from the minimum up to the maximum", () => {
    const top = () => 1 - Number.EPSILON;
    assert.deepEqual([1, 2, 3, 4, 7, 8, 50].map((n) => backoffDelay(n, bounds, top)), [
      500,
      1000,
      2000,
      4000,
      30_000,
      30_000,
      30_000,
    ]);
  });

  it("jitters between half and all of the nominal delay", () => {
    assert.equal(backoffDelay(3, bounds, () => 0), 1000);
    assert.equal(backoffDelay(3, bounds, () => 0.5), 1500);
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelay(5, bounds);
      assert.ok(delay >= 4000 && delay <= 8000, String(delay));
    }
  });
});

describe("parseRetryAfter()", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");

  it("reads delay-seconds and HTTP-dates, capped", () => {
    assert.equal(parseRetryAfter("7", now), 7000);
    assert.equal(parseRetryAfter(" 0 ", now), 0);
    assert.equal(parseRetryAfter("Wed, 01 Jan 2025 00:00:30 GMT", now), 30_000);
    assert.equal(parseRetryAfter("Tue, 31 Dec 2024 23:00:00 GMT", now), 0);
    assert.equal(parseRetryAfter("86400", now), MAX_RETRY_AFTER_MS);
  });

  it("ignores an absent or unreadable header", () => {
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(parseRetryAfter("", now), undefined);
    assert.equal(parseRetryAfter("soon", now), undefined);
    assert.equal(parseRetryAfter("-5", now), undefined);
  });
});

describe("retryDelay()", () => {
  const bounds = { minMs: 500, maxMs: 30_000 };

  it("waits as long as Retry-After says, but never spins on Retry-After: 0", () => {
    assert.equal(retryDelay(9, 7000, bounds), 7000);
    assert.equal(retryDelay(1, 0, bounds), 250);
    assert.equal(retryDelay(2, undefined, bounds, () => 0), 500);
  });
});

describe("firstLine()", () => {
  it("keeps the first non-blank line, trimmed and cut", () => {
    assert.equal(firstLine("\n  out of order sample \nsecond"), "out of order sample");
    assert.equal(firstLine(""), "");
    assert.equal(firstLine("x".repeat(300), 10), `${"x".repeat(10)}…`);
  });
});
