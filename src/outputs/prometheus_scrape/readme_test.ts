import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Metric, Point } from "../../model/metric.ts";
import type { Labels, SampleKind } from "../../model/sample.ts";
import { seriesKey } from "../../model/series_key.ts";
import { renderPrometheus } from "./render.ts";

function metric(name: string, labels: Labels, kind: SampleKind, point: Point): Metric {
  return {
    name,
    labels,
    key: seriesKey(name, labels),
    kind,
    point,
    timeMs: 0,
    intervalMs: 10_000,
    startMs: 0,
  };
}

describe("prometheus_scrape README", () => {
  it("README example is what renderPrometheus() writes", () => {
    const readme = readFileSync(fileURLToPath(import.meta.resolve("./README.md")), "utf8");
    const blocks = [...readme.matchAll(/```text\n([\s\S]*?)```/g)].map((m) => m[1]!);
    const example = blocks.at(-1)!;
    const text = renderPrometheus([
      metric("api.requests", [["env", "prod"], ["http.method", "GET"]], "counter", {
        kind: "counter",
        delta: 12,
        total: 1042,
        rate: 1.2,
      }),
      metric("queue-depth", [], "gauge", { kind: "gauge", value: 7 }),
      metric("api.latency", [["env", "prod"]], "timer", {
        kind: "summary",
        count: 20,
        sum: 400,
        totalCount: 5120,
        totalSum: 98304.5,
        min: 3,
        max: 95,
        mean: 20,
        quantiles: [{ q: 0.5, value: 14 }, { q: 0.9, value: 41 }, { q: 0.95, value: 57.5 }, {
          q: 0.99,
          value: 90,
        }],
      }),
      metric("users.unique", [], "set", { kind: "set", count: 311 }),
    ], [{
      name: "tally_component_received_events_total",
      help: "Events received by the component (lines, value lists, samples)",
      type: "counter",
      series: [{ labels: [["component_id", "statsd"], ["component_type", "statsd"]], value: 6200 }],
    }]);
    assert.equal(example, text);
  });
});
