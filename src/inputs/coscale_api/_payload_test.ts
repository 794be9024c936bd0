import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { check } from "./_fields.ts";
import { PAYLOAD_SCHEMA, payloadMetrics, percentilePositions, timeMs } from "./_payload.ts";
import type { PayloadEntry, PayloadLookup } from "./_payload.ts";
import type { DataType } from "./_objects.ts";

const NOW = Date.UTC(2026, 0, 5, 12, 0, 0);

const METRICS: Readonly<Record<number, { name: string; dataType: DataType }>> = {
  1: { name: "queue depth", dataType: "DOUBLE" },
  2: { name: "items", dataType: "LONG" },
  3: { name: "up", dataType: "BINARY" },
  4: { name: "jobs", dataType: "COUNT" },
  5: { name: "bytes sent", dataType: "COUNTER" },
  6: { name: "latency", dataType: "HISTOGRAM" },
};

const LOOKUP: PayloadLookup = {
  metric: (id) => METRICS[id],
  subjectName: (
    kind,
    id,
  ) => (kind === "s" && id === 2 ? "web-1" : kind === "g" && id === 3 ? "frontends" : undefined),
};

function entries(json: unknown): PayloadEntry[] {
  const checked = check(PAYLOAD_SCHEMA, json, "data");
  assert.equal(checked.kind, "ok", JSON.stringify(checked));
  return checked.kind === "ok" ? checked.value : [];
}

describe("payloadMetrics()", () => {
  it("payloadMetrics() gives a number the kind of its metric's data type", () => {
    const result = payloadMetrics(
      entries([1, 2, 3, 4, 5, 6].map((m) => ({ m, s: "a", d: [[0, m * 1.5]] }))),
      LOOKUP,
      NOW,
    );
    assert.deepEqual(result.metrics.map((m) => [m.name, m.type, m.value]), [
      ["queue depth", "gauge", 1.5],
      ["items", "gauge", 3],
      ["up", "gauge", 4.5],
      ["jobs", "counter", 6],
      ["bytes sent", "cumulative", 7.5],
      ["latency", "gauge", 9],
    ]);
    assert.equal(result.points, 6);
    assert.deepEqual(result.issues, []);
  });

  it("payloadMetrics() resolves times by CoScale's rule: 0 now, negative seconds ago, positive Unix seconds", () => {
    const result = payloadMetrics(
      entries([{ m: 1, s: "a", d: [[0, 1], [-60, 2], [1_767_614_400, 3]] }]),
      LOOKUP,
      NOW,
    );
    assert.deepEqual(result.metrics.map((m) => m.timestamp), [undefined, NOW - 60_000, 1_767_614_400_000]);
    assert.equal(timeMs(5, NOW), undefined, "5 s after 1970 is no time a push may carry");
    assert.equal(timeMs(-NOW, NOW), undefined);
  });

  it("payloadMetrics() labels the subject by name when the server or group exists, else by its id", () => {
    const result = payloadMetrics(
      entries([
        { m: 1, s: "A", d: [[0, 1]] },
        { m: 1, s: "a", d: [[0, 1]] },
        { m: 1, s: "s2", d: [[0, 1]] },
        { m: 1, s: "S2", d: [[0, 1]] },
        { m: 1, s: "S9", d: [[0, 1]] },
        { m: 1, s: "g3", d: [[0, 1]] },
        { m: 1, s: "G4", d: [[0, 1]] },
      ]),
      LOOKUP,
      NOW,
    );
    assert.deepEqual(result.metrics.map((m) => m.labels["subject"]), [
      "application",
      "application",
      "web-1",
      "web-1",
      "s9",
      "frontends",
      "g4",
    ]);
  });

  it("payloadMetrics() keeps dimension values as labels named after the dimension", () => {
    const result = payloadMetrics(
      entries([{ m: 1, s: "s2", d: [[0, 7]], dv: { Queue: "q1", "Data Center": "dc 1" } }]),
      LOOKUP,
      NOW,
    );
    assert.deepEqual(result.metrics[0]?.labels, { Queue: "q1", "Data Center": "dc 1", subject: "web-1" });
  });

  it("payloadMetrics() turns a histogram into one gauge per percentile and a sample counter", () => {
    const statsd = [3, 3, 4, 5, 6, 7, 8, 9, 9, 10, 12, 15, 20];
    const result = payloadMetrics(
      entries([{ m: 6, s: "s2", d: [[-10, [40, 10, statsd]]], dv: { Queue: "q1" } }]),
      LOOKUP,
      NOW,
    );
    const labels = { Queue: "q1", subject: "web-1" };
    assert.deepEqual(result.metrics, [
      ...[0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 100].map((p, i) => ({
        name: "latency",
        type: "gauge",
        value: statsd[i],
        labels: { ...labels, percentile: String(p) },
        timestamp: NOW - 10_000,
      })),
      { name: "latency.count", type: "counter", value: 40, labels, timestamp: NOW - 10_000 },
    ]);
    assert.equal(result.points, 1);
  });

  it("payloadMetrics() keeps only the count of a histogram of no samples", () => {
    const result = payloadMetrics(entries([{ m: 6, s: "a", d: [[0, [0, 10, [0, 0, 0]]]] }]), LOOKUP, NOW);
    assert.deepEqual(result.metrics, [{
      name: "latency.count",
      type: "counter",
      value: 0,
      labels: { subject: "application" },
    }]);
  });

  it("percentilePositions() places values at multiples of the width, the statsd list, or evenly", () => {
    assert.deepEqual(percentilePositions(25, 5), [0, 25, 50, 75, 100]);
    assert.deepEqual(percentilePositions(10, 13), [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 100]);
    // The CoScale CLI's help example: width 50, six values.
    assert.deepEqual(percentilePositions(50, 6), [0, 20, 40, 60, 80, 100]);
    assert.deepEqual(percentilePositions(10, 1), [100]);
  });

  it("payloadMetrics() keeps an undefined metric id under a generated name, counting its points", () => {
    const result = payloadMetrics(
      entries([
        { m: 675, s: "a", d: [[0, 1.25], [-60, 2]] },
        { m: 675, s: "s2", d: [[0, 3]] },
        { m: 12, s: "a", d: [[0, [5, 50, [1, 2, 3]]]] },
      ]),
      LOOKUP,
      NOW,
    );
    assert.deepEqual(result.metrics.map((m) => [m.name, m.type, m.value]), [
      ["coscale_metric_675", "gauge", 1.25],
      ["coscale_metric_675", "gauge", 2],
      ["coscale_metric_675", "gauge", 3],
      ["coscale_metric_12", "gauge", 1],
      ["coscale_metric_12", "gauge", 2],
      ["coscale_metric_12", "gauge", 3],
      ["coscale_metric_12.count", "counter", 5],
    ]);
    assert.deepEqual([...result.undefinedIds], [[675, 3], [12, 1]]);
  });

  it("payloadMetrics() refuses a dimension named subject or percentile, and a time out of range, by path", () => {
    const result = payloadMetrics(
      entries([
        { m: 1, s: "a", d: [[0, 1]], dv: { subject: "x" } },
        { m: 1, s: "a", d: [[0, 1], [12, 2]], dv: { percentile: "p" } },
      ]),
      LOOKUP,
      NOW,
    );
    assert.deepEqual(result.issues.map((i) => i.path), [
      "data[0].dv.subject",
      "data[1].dv.percentile",
      "data[1].d[1][0]",
    ]);
    assert.match(result.issues[2]!.message, /^expected a time between 1973 and 5138 .*, found 12$/);
  });
});

describe("PAYLOAD_SCHEMA", () => {
  it("PAYLOAD_SCHEMA names every bad field of a payload by its path under data", () => {
    const checked = check(PAYLOAD_SCHEMA, [
      { m: 1, s: "a", d: [[0, 1]] },
      { m: "1", s: "x1", d: [[0, "abc"], [1.5, 2], [0, 1, 2]], dv: { Queue: 1 } },
      { m: 2, s: "a", d: [[0, [-1, 0, []]]] },
    ], "data");
    assert.equal(checked.kind, "invalid");
    assert.deepEqual(checked.kind === "invalid" ? checked.issues.map((i) => i.path) : [], [
      "data[1].m",
      "data[1].s",
      "data[1].d[0][1]",
      "data[1].d[1][0]",
      "data[1].d[2][2]",
      "data[1].dv.Queue",
      "data[2].d[0][1][0]",
      "data[2].d[0][1][1]",
      "data[2].d[0][1][2]",
    ]);
    assert.deepEqual(checked.kind === "invalid" ? checked.issues.slice(2, 4).map((i) => i.message) : [], [
      'expected a number or a histogram [samples, percentileWidth, [values…]], found "abc"',
      "expected whole seconds: 0 now, < 0 seconds ago, > 0 Unix time, found 1.5",
    ]);
    assert.deepEqual(check(PAYLOAD_SCHEMA, { m: 1 }, "data"), {
      kind: "invalid",
      issues: [{
        path: "data",
        message: 'expected a JSON array like [{"m":1,"s":"a","d":[[0,1.5]]}], found an object',
      }],
    });
  });
});
