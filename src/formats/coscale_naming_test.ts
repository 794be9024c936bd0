import { describe, it } from "node:test";
import assert from "node:assert/strict";

import type { CoscaleMetric } from "./coscale_definitions.ts";
import { coscaleKind, coscaleMetricName, unitSuffix } from "./coscale_naming.ts";

function metric(fields: Partial<CoscaleMetric>): CoscaleMetric {
  return {
    id: 7,
    name: "",
    description: "",
    groups: [],
    unit: "",
    datatype: "DOUBLE",
    calctype: "Instant",
    dimensions: [],
    ...fields,
  };
}

describe("unitSuffix()", () => {
  it("unitSuffix() gives a known unit its word", () => {
    assert.equal(unitSuffix("ms"), "milliseconds");
    assert.equal(unitSuffix(" MB "), "megabytes");
    assert.equal(unitSuffix("b/s"), "bytes_per_second");
    assert.equal(unitSuffix("%"), "percent");
  });

  it("unitSuffix() gives no suffix for a count or no unit", () => {
    assert.equal(unitSuffix("#"), "");
    assert.equal(unitSuffix(""), "");
  });

  it("unitSuffix() snake-cases any other unit, reading / as per and % as percent", () => {
    assert.equal(unitSuffix("req/s"), "req_per_s");
    assert.equal(unitSuffix("Jobs Queued"), "jobs_queued");
    assert.equal(unitSuffix("% free"), "percent_free");
  });
});

describe("coscaleMetricName()", () => {
  it("coscaleMetricName() joins the snake-cased display name and the unit's suffix", () => {
    assert.equal(coscaleMetricName(metric({ name: "Server time", unit: "h" })), "server_time_hours");
    assert.equal(
      coscaleMetricName(metric({ name: "Incoming traffic on interface", unit: "b/s" })),
      "incoming_traffic_on_interface_bytes_per_second",
    );
    assert.equal(coscaleMetricName(metric({ name: "Queue length", unit: "#" })), "queue_length");
  });

  it("coscaleMetricName() does not suffix a name that already ends in the unit, by word or as written", () => {
    assert.equal(coscaleMetricName(metric({ name: "Response time ms", unit: "ms" })), "response_time_ms");
    assert.equal(
      coscaleMetricName(metric({ name: "Response time milliseconds", unit: "ms" })),
      "response_time_milliseconds",
    );
    assert.equal(coscaleMetricName(metric({ name: "Seconds", unit: "s" })), "seconds");
  });

  it("coscaleMetricName() names a metric without a display name by its id", () => {
    assert.equal(coscaleMetricName(metric({ id: 12, name: "  ", unit: "ms" })), "coscale_metric_12");
  });
});

describe("coscaleKind()", () => {
  it("coscaleKind() reads running totals as cumulative, per-interval counts as counters, the rest as gauges", () => {
    assert.equal(coscaleKind(metric({ calctype: "Difference" })), "cumulative");
    assert.equal(coscaleKind(metric({ datatype: "COUNTER" })), "cumulative");
    assert.equal(coscaleKind(metric({ datatype: "COUNT", calctype: "Instant" })), "counter");
    assert.equal(coscaleKind(metric({ datatype: "COUNT", calctype: "Average" })), "counter");
    assert.equal(coscaleKind(metric({ datatype: "LONG", calctype: "Average" })), "gauge");
    assert.equal(coscaleKind(metric({ datatype: "DOUBLE" })), "gauge");
  });
});
