/**
 * The compiled `dist/tally` forwarding over OTLP/HTTP to a recording receiver on loopback (neither Debian's
 * VictoriaMetrics 1.79 nor its Prometheus 2.42 takes OTLP, and Debian has no OpenTelemetry Collector).
 * Every request is decoded there with the OpenTelemetry project's own generated protobuf classes
 * (`tests/harness/otlp_request.ts`), and tally's store is the oracle: every point a flush stored went into the
 * outbox first.
 *
 * - values: StatsD counters, gauges, timers and a DogStatsD event for a few 1 s windows, sent to two outputs
 *   at once (protobuf + gzip + cumulative; JSON + delta): every data point and log record equals what tally
 *   stored, with the resource, scope, times, temporality and monotonicity;
 * - outage: the receiver is down while tally flushes, tally is killed with SIGKILL and started again, then
 *   the receiver comes up: every point arrives, none missing, none with a changed time.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { hostname } from "node:os";
import { join } from "node:path";
import { freePort } from "../harness/free_port.ts";
import {
  delivered,
  forwardingSuite,
  nextWindow,
  pause,
  selfMetric,
  sendDuringOutage,
  sendStatsd,
  storePoints,
} from "../harness/forwarding.ts";
import type { StorePoint } from "../harness/forwarding.ts";
import { decodeOtlpLogs, decodeOtlpMetrics } from "../harness/otlp_request.ts";
import type {
  BodyEncoding,
  DecodedDataPoint,
  DecodedLogRecord,
  DecodedMetric,
} from "../harness/otlp_request.ts";
import { startRecordingReceiver } from "../harness/recording_receiver.ts";
import type { ReceivedRequest, RecordingReceiver } from "../harness/recording_receiver.ts";
import { waitFor } from "../harness/wait_for.ts";

const WINDOWS = 3;
const MS_NS = 1_000_000n;

describe("e2e: otlp from dist/tally to a recording receiver, decoded with OpenTelemetry's classes", () => {
  const suite = forwardingSuite("tally-e2e-otlp-");
  const startTally = suite.startTally;

  function recording(options?: Parameters<typeof startRecordingReceiver>[0]): Promise<RecordingReceiver> {
    return suite.keep(startRecordingReceiver(options), (started) => started.close());
  }

  it("sends what tally aggregated: sums, gauges, summaries and events, in protobuf and in JSON", async () => {
    const receiver = await recording();
    const tally = await startTally(
      "values",
      `[outputs.proto]\ntype = "otlp"\nurl = "${receiver.url}/proto"\nservice_name = "e2e-svc"\n` +
        `resource_attributes = { site = "e2e" }\n\n` +
        `[outputs.json]\ntype = "otlp"\nurl = "${receiver.url}/json/"\nencoding = "json"\ncompression = "none"\n` +
        `temporality = "delta"\n`,
    );
    for (let w = 0; w < WINDOWS; w++) {
      const lines = [`e2e.hits:${w + 1}|c|#route:/a`, `e2e.temp:${20 + w * 0.5}|g`];
      for (let v = 1; v <= 20; v++) lines.push(`e2e.lat:${v * (w + 1)}|ms`);
      if (w === 1) lines.push("_e{6,11}:Deploy|v2 released|t:warning|#env:prod");
      await nextWindow();
      await sendStatsd(tally.statsdPort!, lines);
    }
    const hits = await storePoints(tally, "e2e.hits", WINDOWS);
    const temp = await storePoints(tally, "e2e.temp", WINDOWS);
    const lat = await storePoints(tally, "e2e.lat", WINDOWS);
    await delivered(tally, ["proto", "json"]);

    const proto = receiver.requests.filter((r) => r.path.startsWith("/proto/"));
    for (const request of proto) {
      assert.equal(request.headers["content-type"], "application/x-protobuf");
      assert.equal(request.headers["content-encoding"], "gzip");
      assert.match(request.headers["user-agent"] ?? "", /^tally\//);
    }
    const protoMetrics = metricsAt(proto, "/proto/v1/metrics", { gzip: true });
    // Every request names the resource and the scope.
    for (const request of proto.filter((r) => r.path === "/proto/v1/metrics")) {
      const [resourceMetrics] = decodeOtlpMetrics(request.body, { gzip: true }).resourceMetrics;
      assert.deepEqual(resourceMetrics!.resource.attributes.map((a) => [a.key, a.value.stringValue]), [
        ["host.name", hostname()],
        ["service.name", "e2e-svc"],
        ["site", "e2e"],
      ]);
      assert.equal(resourceMetrics!.scopeMetrics[0]!.scope.name, "tally");
      assert.match(resourceMetrics!.scopeMetrics[0]!.scope.version, /^\d+\.\d+\.\d+/);
    }

    // Cumulative: running totals since the series' first window, stamped at each window's end.
    const start = nanos(hits[0]!.t);
    assert.deepEqual(
      numberPoints(protoMetrics, "e2e.hits", "sum"),
      hits.map((p) => ({
        start,
        time: nanos(p.t + 1000),
        value: p.fields!["total"]!,
        attributes: [["route", "/a"]],
      })),
    );
    const hitsMetric = protoMetrics.find((m) => m.name === "e2e.hits")!;
    assert.equal(hitsMetric.sum!.aggregationTemporality, "AGGREGATION_TEMPORALITY_CUMULATIVE");
    assert.equal(hitsMetric.sum!.isMonotonic, true);
    assert.deepEqual(
      numberPoints(protoMetrics, "e2e.temp", "gauge"),
      temp.map((p) => ({ start: "0", time: nanos(p.t + 1000), value: p.value, attributes: [] })),
    );
    assert.deepEqual(
      summaryPoints(protoMetrics, "e2e.lat"),
      lat.map((p) => summaryOf(p, "cumulative", lat[0]!.t)),
    );
    assert.ok(protoMetrics.filter((m) => m.name === "e2e.lat").every((m) => m.unit === "ms"));

    // Delta, JSON: each window's change over the window.
    const json = receiver.requests.filter((r) => r.path.startsWith("/json/"));
    assert.ok(
      json.every((r) => r.headers["content-type"] === "application/json" && !r.headers["content-encoding"]),
    );
    const jsonMetrics = metricsAt(json, "/json/v1/metrics", { encoding: "json" });
    assert.deepEqual(
      numberPoints(jsonMetrics, "e2e.hits", "sum"),
      hits.map((p) => ({
        start: nanos(p.t),
        time: nanos(p.t + 1000),
        value: p.value,
        attributes: [["route", "/a"]],
      })),
    );
    assert.equal(
      jsonMetrics.find((m) => m.name === "e2e.hits")!.sum!.aggregationTemporality,
      "AGGREGATION_TEMPORALITY_DELTA",
    );
    assert.deepEqual(summaryPoints(jsonMetrics, "e2e.lat"), lat.map((p) => summaryOf(p, "delta", lat[0]!.t)));

    // The event, as a log record on /v1/logs of both outputs.
    for (
      const [path, how] of [["/proto/v1/logs", { gzip: true }], ["/json/v1/logs", {
        encoding: "json",
      }]] as const
    ) {
      const records = logsAt(receiver.requests, path, how);
      assert.equal(records.length, 1, path);
      const record = records[0]!;
      assert.deepEqual(
        [record.body?.stringValue, record.eventName, record.severityNumber, record.severityText],
        ["v2 released", "tally.event", "SEVERITY_NUMBER_WARN", "warning"],
      );
      assert.deepEqual(record.attributes.map((a) => [a.key, a.value.stringValue]), [
        ["alert_type", "warning"],
        ["env", "prod"],
        ["tally.event.title", "Deploy"],
      ]);
      // A DogStatsD event without d: takes the time tally flushed it.
      assert.equal(record.timeUnixNano, record.observedTimeUnixNano);
      assert.ok(BigInt(record.timeUnixNano) >= BigInt(hits[0]!.t) * MS_NS);
    }
    assert.equal(await selfMetric(tally, "tally_output_failed_batches_total"), 0);
  });

  it("hands events pushed over HTTP to the outputs, once", async () => {
    const receiver = await recording();
    const tally = await startTally("pushed", `[outputs.logs]\ntype = "otlp"\nurl = "${receiver.url}"\n`);
    const start = Date.now() - 60_000;
    const response = await fetch(`${tally.url}/api/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        events: [{ title: "Backup", text: "nightly", start, end: start + 30_000, labels: { env: "prod" } }],
      }),
    });
    assert.equal(response.status, 200, await response.text());
    const records = await waitFor(() => {
      const found = logsAt(receiver.requests, "/v1/logs", { gzip: true });
      return found.length > 0 ? found : undefined;
    }, { timeoutMs: 10_000, what: "the pushed event on /v1/logs" });
    assert.equal(records[0]!.body?.stringValue, "nightly");
    assert.equal(records[0]!.timeUnixNano, String(BigInt(start) * MS_NS));
    assert.ok(
      records[0]!.attributes.some((a) => a.key === "tally.event.title" && a.value.stringValue === "Backup"),
    );
    // Later flushes do not hand it over again.
    await pause(2500);
    assert.equal(logsAt(receiver.requests, "/v1/logs", { gzip: true }).length, 1);
  });

  it("delivers every point once the receiver is back, with its original time, after a kill -9", async () => {
    const port = await freePort("tcp");
    const url = `http://127.0.0.1:${port}`;
    const dataDir = join(suite.root, "outage", "data");
    const output =
      `[outputs.col]\ntype = "otlp"\nurl = "${url}"\nmin_backoff = "100ms"\nmax_backoff = "500ms"\n`;
    const first = await startTally("outage", output, dataDir);
    const { hits, level } = await sendDuringOutage(first, WINDOWS);
    process.kill(first.pid, "SIGKILL");
    await first.exited;
    const second = await startTally("outage", output, dataDir);
    const receiver = await recording({ port });
    await delivered(second, ["col"]);
    const metrics = metricsAt(receiver.requests, "/v1/metrics", { gzip: true });
    // At-least-once: a batch may come twice; each point arrives, unchanged.
    const start = nanos(hits[0]!.t);
    assert.deepEqual(
      unique(numberPoints(metrics, "e2e.out.hits", "sum")),
      hits.map((p) => ({ start, time: nanos(p.t + 1000), value: p.fields!["total"]!, attributes: [] })),
    );
    assert.deepEqual(
      unique(numberPoints(metrics, "e2e.out.level", "gauge")),
      level.map((p) => ({ start: "0", time: nanos(p.t + 1000), value: p.value, attributes: [] })),
    );
    assert.equal(await selfMetric(second, "tally_output_failed_batches_total"), 0);
  });
});

/** Nanoseconds since the epoch, as OTLP writes them, from ms. */
function nanos(ms: number): string {
  return (BigInt(ms) * MS_NS).toString();
}

function metricsAt(requests: readonly ReceivedRequest[], path: string, how: BodyEncoding): DecodedMetric[] {
  return requests.filter((r) => r.path === path).flatMap((r) =>
    decodeOtlpMetrics(r.body, how).resourceMetrics.flatMap((rm) =>
      rm.scopeMetrics.flatMap((sm) => sm.metrics)
    )
  );
}

function logsAt(requests: readonly ReceivedRequest[], path: string, how: BodyEncoding): DecodedLogRecord[] {
  return requests.filter((r) => r.path === path).flatMap((r) =>
    decodeOtlpLogs(r.body, how).resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords))
  );
}

/** The data points of every Metric of one name and type, oldest first, with what a test compares. */
function numberPoints(metrics: readonly DecodedMetric[], name: string, type: "sum" | "gauge") {
  return pointsOf(metrics, name, type).map((p) => {
    assert.deepEqual([p.exemplars, p.flags, p.asInt], [[], 0, undefined], "no exemplars, flags or integers");
    return {
      start: p.startTimeUnixNano,
      time: p.timeUnixNano,
      value: p.asDouble,
      attributes: p.attributes.map((a) => [a.key, a.value.stringValue]),
    };
  });
}

function summaryPoints(metrics: readonly DecodedMetric[], name: string) {
  return pointsOf(metrics, name, "summary").map((p) => ({
    start: p.startTimeUnixNano,
    time: p.timeUnixNano,
    count: p.count,
    sum: p.sum,
    quantiles: p.quantileValues!.map((q) => [q.quantile, q.value]),
  }));
}

/** What a summary point must be for a stored point. */
function summaryOf(point: StorePoint, temporality: "cumulative" | "delta", seriesStartMs: number) {
  const f = point.fields!;
  return {
    start: nanos(temporality === "delta" ? point.t : seriesStartMs),
    time: nanos(point.t + 1000),
    count: String(temporality === "delta" ? f["count"] : f["totalCount"]),
    sum: temporality === "delta" ? f["sum"] : f["totalSum"],
    quantiles: [[0, f["min"]], [0.5, f["p50"]], [0.9, f["p90"]], [0.95, f["p95"]], [0.99, f["p99"]], [
      1,
      f["max"],
    ]],
  };
}

function pointsOf(metrics: readonly DecodedMetric[], name: string, type: "sum" | "gauge" | "summary") {
  const points: DecodedDataPoint[] = metrics.filter((m) => m.name === name).flatMap((m) => {
    assert.ok(m[type] !== undefined, `${name} is a ${type}`);
    return m[type]!.dataPoints;
  });
  return points.sort((a, b) => (BigInt(a.timeUnixNano) < BigInt(b.timeUnixNano) ? -1 : 1));
}

function unique<T>(items: readonly T[]): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = JSON.stringify(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
