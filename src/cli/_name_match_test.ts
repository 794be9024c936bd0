import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { matchName } from "./_name_match.ts";

describe("matchName()", () => {
  const names = ["api.requests", "deploys", "deploys_total", "http.latency", "temp"];

  it("matchName() finds a name by its /metrics spellings: _total, _sum, _count and sanitised", () => {
    assert.deepEqual(matchName("api_requests_total", names).matches, ["api.requests"]);
    assert.deepEqual(matchName("http_latency_sum", names).matches, ["http.latency"]);
    assert.deepEqual(matchName("http_latency_count", names).matches, ["http.latency"]);
    assert.deepEqual(matchName("http_latency", names).matches, ["http.latency"]);
    // A name carrying several kinds: /metrics tells its timer apart with a suffix.
    assert.deepEqual(matchName("http_latency_timer_count", names).matches, ["http.latency"]);
  });

  it("matchName() returns every stored name that /metrics shows under one spelling", () => {
    // A counter "deploys" and a gauge "deploys_total" can both be what "deploys_total" means.
    assert.deepEqual(matchName("deploys_total", names).matches, ["deploys", "deploys_total"]);
  });

  it("matchName() offers look-alikes when nothing matches, and nothing for a stranger", () => {
    assert.deepEqual(matchName("temps", names), { matches: [], similar: ["temp"] });
    assert.deepEqual(matchName("api_request", names).similar, ["api.requests"]);
    assert.deepEqual(matchName("zzzzzzzzzz", names), { matches: [], similar: [] });
  });
});
