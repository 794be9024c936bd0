import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import type { Metric, Point } from "../../model/metric.ts";
import type { Labels, TallyEvent } from "../../model/sample.ts";
import { seriesKey } from "../../model/series_key.ts";
import { decodeOtlpLogs, decodeOtlpMetrics } from "../../../tests/harness/otlp_request.ts";
import type { DecodedDataPoint, DecodedMetric } from "../../../tests/harness/otlp_request.ts";
import type { OutputFlush } from "../output.ts";
import { createOtlpEncoder, LOGS_ROUTE, METRICS_ROUTE, otlpFormat } from "./encode.ts";
import type { OtlpEncoderOptions } from "./encode.ts";

type RawMetric = Omit<Metric, "key" | "labels"> & { labels: Array<[string, string]> };
type RawEvent = Omit<TallyEvent, "labels"> & { labels: Array<[string, string]> };

function testdata<T>(name: string): T {
  return JSON.parse(
    readFileSync(fileURLToPath(new URL(`./testdata/${name}`, import.meta.url).href), "utf8"),
  ) as T;
}

const RAW = testdata<{ metrics: RawMetric[]; events: RawEvent[] }>("flush.json");
const FLUSH: OutputFlush = {
  windowMs: 1_700_000_000_000,
  metrics: RAW.metrics.map((m) => ({ ...m, labels: m.labels as Labels, key: seriesKey(m.name, m.labels) })),
  events: RAW.events.map((e) => ({ ...e, labels: e.labels as Labels })),
};
const NOW_MS = 1_700_000_012_345;

function encoder(options: Partial<OtlpEncoderOptions> = {}) {
  return createOtlpEncoder({
    metricsUrl: "http://collector:4318/v1/metrics",
    logsUrl: "http://collector:4318/v1/logs",
    encoding: "protobuf",
    compression: "none",
    temporality: "cumulative",
    resource: [["host.name", "edge-1"], ["service.name", "tally"], ["site", "edge-7"]],
    version: "0.1.0",
    sendEvents: true,
    maxBatchPoints: 10_000,
    maxBatchBytes: 4 << 20,
    now: () => NOW_MS,
    ...options,
  });
}

/** The stored bodies of one route, without the route byte, in order. */
function bodies(batches: ReadonlyArray<{ body: Uint8Array }>, route: number): Uint8Array[] {
  return batches.filter((b) => b.body[0] === route).map((b) => b.body.subarray(1));
}

/** Every metric of every metrics body, in order. */
function metricsOf(
  batches: ReadonlyArray<{ body: Uint8Array }>,
  how: Parameters<typeof decodeOtlpMetrics>[1] = {},
): DecodedMetric[] {
  return bodies(batches, METRICS_ROUTE).flatMap((body) =>
    decodeOtlpMetrics(body, how).resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics))
  );
}

function pointsOf(metric: DecodedMetric): DecodedDataPoint[] {
  return (metric.sum ?? metric.gauge ?? metric.summary)!.dataPoints;
}

function metric(name: string, kind: Metric["kind"], point: Point, extra: Partial<Metric> = {}): Metric {
  return {
    name,
    labels: [],
    key: seriesKey(name, []),
    kind,
    point,
    timeMs: 1_700_000_000_000,
    intervalMs: 10_000,
    startMs: 1_699_999_000_000,
    ...extra,
  };
}

function counter(delta: number, total: number): Point {
  return { kind: "counter", delta, total, rate: delta / 10 };
}

describe("createOtlpEncoder()", () => {
  it("golden: sends every kind of metric as testdata/expected_metrics.json says, decoded with OTel's own classes", () => {
    const { batches } = encoder().encode(FLUSH);
    assert.deepEqual(batches.map((b) => [b.body[0], b.events]), [[METRICS_ROUTE, 8], [LOGS_ROUTE, 4]]);
    const [body] = bodies(batches, METRICS_ROUTE);
    assert.deepEqual(decodeOtlpMetrics(body!), testdata("expected_metrics.json"));
  });

  it("golden: sends events as log records as testdata/expected_logs.json says", () => {
    const [body] = bodies(encoder().encode(FLUSH).batches, LOGS_ROUTE);
    assert.deepEqual(decodeOtlpLogs(body!), testdata("expected_logs.json"));
  });

  it("writes the same requests in OTLP/JSON as in protobuf, field by field", () => {
    const proto = encoder().encode(FLUSH).batches;
    const json = encoder({ encoding: "json" }).encode(FLUSH).batches;
    assert.deepEqual(json.map((b) => [b.body[0], b.events]), proto.map((b) => [b.body[0], b.events]));
    const jsonBody = new TextDecoder().decode(bodies(json, METRICS_ROUTE)[0]!);
    assert.match(jsonBody, /"timeUnixNano":"1700000010000000000"/, "64-bit integers are strings");
    assert.match(jsonBody, /"aggregationTemporality":2/, "enums are numbers");
    assert.deepEqual(
      decodeOtlpMetrics(bodies(json, METRICS_ROUTE)[0]!, { encoding: "json" }),
      decodeOtlpMetrics(bodies(proto, METRICS_ROUTE)[0]!),
    );
    assert.deepEqual(
      decodeOtlpLogs(bodies(json, LOGS_ROUTE)[0]!, { encoding: "json" }),
      decodeOtlpLogs(bodies(proto, LOGS_ROUTE)[0]!),
    );
  });

  it("gzips each body when asked, keeping the route byte outside, and says so in the headers", () => {
    for (const encoding of ["protobuf", "json"] as const) {
      const plain = encoder({ encoding }).encode(FLUSH).batches;
      const e = encoder({ encoding, compression: "gzip" });
      const zipped = e.encode(FLUSH).batches;
      assert.equal(e.headers["content-encoding"], "gzip");
      assert.deepEqual(zipped.map((b) => b.body[0]), plain.map((b) => b.body[0]));
      zipped.forEach((batch, i) => {
        assert.deepEqual(new Uint8Array(gunzipSync(batch.body.subarray(1))), plain[i]!.body.subarray(1));
      });
    }
  });

  it("names its format, headers and routes", () => {
    const e = encoder();
    assert.equal(e.format, otlpFormat("protobuf", "none"));
    assert.deepEqual(e.headers, { "content-type": "application/x-protobuf" });
    assert.deepEqual(encoder({ encoding: "json", compression: "gzip" }).headers, {
      "content-type": "application/json",
      "content-encoding": "gzip",
    });
    assert.deepEqual(e.routes, ["http://collector:4318/v1/metrics", "http://collector:4318/v1/logs"]);
    assert.notEqual(otlpFormat("json", "none"), otlpFormat("protobuf", "none"));
    assert.notEqual(otlpFormat("protobuf", "gzip"), otlpFormat("protobuf", "none"));
    assert.deepEqual(e.encode({ windowMs: 0, metrics: [], events: [] }).batches, []);
  });

  it("sends no logs when send_events is off", () => {
    const { batches } = encoder({ sendEvents: false }).encode(FLUSH);
    assert.deepEqual(batches.map((b) => b.body[0]), [METRICS_ROUTE]);
  });

  it("delta: sends each window's change with the window as the interval, summary count and sum of the window", () => {
    const metrics = [
      metric("c", "counter", counter(3, 42)),
      metric("cum", "cumulative", counter(1500, 987_654_321)),
      metric("signed", "signed_cumulative", counter(-40, 90)),
      FLUSH.metrics.find((m) => m.name === "db.query")!,
      metric("g", "gauge", { kind: "gauge", value: 7 }),
    ];
    for (const encoding of ["protobuf", "json"] as const) {
      const decoded = metricsOf(
        encoder({ temporality: "delta", encoding }).encode({ windowMs: 0, metrics, events: [] }).batches,
        { encoding },
      );
      const byName = new Map(decoded.map((m) => [m.name, m]));
      for (
        const [name, value, monotonic] of [["c", 3, true], ["cum", 1500, true], [
          "signed",
          -40,
          false,
        ]] as const
      ) {
        const sum = byName.get(name)!.sum!;
        assert.equal(sum.aggregationTemporality, "AGGREGATION_TEMPORALITY_DELTA", name);
        assert.equal(sum.isMonotonic, monotonic, name);
        assert.deepEqual(
          [
            sum.dataPoints[0]!.asDouble,
            sum.dataPoints[0]!.startTimeUnixNano,
            sum.dataPoints[0]!.timeUnixNano,
          ],
          [value, "1700000000000000000", "1700000010000000000"],
          name,
        );
      }
      const summary = pointsOf(byName.get("db.query")!)[0]!;
      assert.deepEqual(
        [summary.count, summary.sum, summary.startTimeUnixNano, summary.timeUnixNano],
        ["4", 10, "1700000000000000000", "1700000010000000000"],
      );
      assert.equal(pointsOf(byName.get("g")!)[0]!.startTimeUnixNano, "0", "gauges have no start");
    }
  });

  it("cumulative: a collectd counter whose total falls restarts its stream at that window; a signed total may fall", () => {
    for (const encoding of ["protobuf", "json"] as const) {
      const e = encoder({ encoding });
      const at = (w: number) => 1_700_000_000_000 + w * 10_000;
      const starts: Array<[string, string, number]> = [];
      const windows: Array<[number, number]> = [[0, 100], [1, 150], [2, 20], [3, 50], [1, 140]];
      for (const [w, total] of windows) {
        const metrics = [
          metric("cum", "cumulative", counter(0, total), { timeMs: at(w) }),
          metric("signed", "signed_cumulative", counter(0, total), { timeMs: at(w) }),
        ];
        for (const m of metricsOf(e.encode({ windowMs: at(w), metrics, events: [] }).batches, { encoding })) {
          const point = pointsOf(m)[0]!;
          starts.push([m.name, point.startTimeUnixNano, point.asDouble!]);
        }
      }
      const series = "1699999000000000000";
      const reset = "1700000020000000000";
      assert.deepEqual(starts, [
        ["cum", series, 100],
        ["signed", series, 100],
        ["cum", series, 150],
        ["signed", series, 150],
        // 150 → 20: the source restarted; from this window on the stream has a new start.
        ["cum", reset, 20],
        ["signed", series, 20],
        ["cum", reset, 50],
        ["signed", series, 50],
        // A late window of an older value is no reset.
        ["cum", reset, 140],
        ["signed", series, 140],
      ]);
    }
  });

  it("cumulative: a series that tally restarted (a new startMs) starts a new stream", () => {
    const e = encoder();
    const first = metric("c", "counter", counter(5, 500));
    const again = {
      ...first,
      point: counter(2, 2),
      timeMs: first.timeMs + 600_000,
      startMs: first.timeMs + 600_000,
    };
    const starts = [first, again].map((m) =>
      pointsOf(metricsOf(e.encode({ windowMs: 0, metrics: [m], events: [] }).batches)[0]!)[0]!
        .startTimeUnixNano
    );
    assert.deepEqual(starts, ["1699999000000000000", "1700000600000000000"]);
  });

  it("splits a flush into batches by points and by bytes, keeping the order and every point once", () => {
    const metrics = Array.from(
      { length: 25 },
      (_, i) =>
        metric(`g${i % 3}`, "gauge", { kind: "gauge", value: i }, {
          labels: [["i", String(i).padStart(2, "0")], ["path", "/".repeat(400)]],
          key: `g${i}`,
        }),
    );
    const flush = { windowMs: 0, metrics, events: [] };
    for (const encoding of ["protobuf", "json"] as const) {
      const byPoints = encoder({ encoding, maxBatchPoints: 10 }).encode(flush).batches;
      assert.deepEqual(byPoints.map((b) => b.events), [10, 10, 5]);
      const bySize = encoder({ encoding, maxBatchBytes: 4096 }).encode(flush).batches;
      assert.ok(bySize.length > 2, `${bySize.length} batches`);
      for (const batch of bySize) assert.ok(batch.body.length - 1 <= 4096, `${batch.body.length} bytes`);
      const values = metricsOf(bySize, { encoding }).flatMap((m) => pointsOf(m).map((p) => p.asDouble));
      assert.deepEqual([...values].sort((a, b) => a! - b!), metrics.map((_, i) => i));
      assert.equal(bySize.reduce((sum, b) => sum + b.events, 0), 25);
    }
  });

  it("splits many events into log batches within the limits", () => {
    const events: TallyEvent[] = Array.from({ length: 7 }, (_, i) => ({
      kind: "event",
      title: `e${i}`,
      text: "x".repeat(300),
      timeMs: 1_700_000_000_000 + i,
      labels: [],
      status: -1,
    }));
    for (const encoding of ["protobuf", "json"] as const) {
      const byPoints = encoder({ encoding, maxBatchPoints: 3 }).encode({ windowMs: 0, metrics: [], events });
      assert.deepEqual(byPoints.batches.map((b) => b.events), [3, 3, 1]);
      const bySize = encoder({ encoding, maxBatchBytes: 1000 }).encode({ windowMs: 0, metrics: [], events });
      for (const batch of bySize.batches) assert.ok(batch.body.length - 1 <= 1000);
      const titles = bodies(bySize.batches, LOGS_ROUTE).flatMap((body) =>
        decodeOtlpLogs(body, { encoding }).resourceLogs[0]!.scopeLogs[0]!.logRecords.map((r) =>
          r.body?.stringValue
        )
      );
      assert.deepEqual(titles, events.map((e) => e.text));
    }
  });

  it("stays correct when its attribute cache is emptied again and again", () => {
    const tiny = encoder({ cacheBytes: 1 });
    for (let round = 0; round < 3; round++) {
      const [body] = bodies(tiny.encode(FLUSH).batches, METRICS_ROUTE);
      assert.deepEqual(decodeOtlpMetrics(body!), testdata("expected_metrics.json"));
    }
  });

  it("writes nanosecond times exactly, beyond 2^53, and doubles that are not finite", () => {
    const times = [1, 1_700_000_000_123, 4_102_444_799_999];
    const metrics = times.map((timeMs, i) =>
      metric(`t${i}`, "gauge", { kind: "gauge", value: [NaN, Infinity, -Infinity][i]! }, {
        timeMs,
        intervalMs: 0,
      })
    );
    for (const encoding of ["protobuf", "json"] as const) {
      const points = metricsOf(encoder({ encoding }).encode({ windowMs: 0, metrics, events: [] }).batches, {
        encoding,
      }).map((m) => pointsOf(m)[0]!);
      assert.deepEqual(points.map((p) => p.timeUnixNano), [
        "1000000",
        "1700000000123000000",
        "4102444799999000000",
      ]);
      assert.deepEqual(points.map((p) => p.asDouble), [NaN, Infinity, -Infinity]);
    }
  });
});
