import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { gunzipSync } from "node:zlib";
import type { Metric } from "../../src/model/metric.ts";
import { Sender } from "../../src/outputs/_send.ts";
import { createInfluxEncoder } from "../../src/outputs/influx/encode.ts";
import { createOtlpEncoder } from "../../src/outputs/otlp/encode.ts";
import { createRemoteWriteEncoder } from "../../src/outputs/remote_write/encode.ts";
import { decodeOtlpMetrics } from "../harness/otlp_request.ts";
import { startRecordingReceiver, status } from "../harness/recording_receiver.ts";
import { decodeWriteRequest } from "../harness/write_request.ts";

const receiver = await startRecordingReceiver();
after(() => receiver.close());

const METRIC: Metric = {
  name: "up.time",
  labels: [["host", "a"]],
  key: "up.time\x00host\x01a",
  kind: "gauge",
  point: { kind: "gauge", value: 12.5 },
  timeMs: 1_700_000_000_000,
  intervalMs: 10_000,
  startMs: 1_700_000_000_000,
};

describe("the forwarding stack (undici, @bufbuild/protobuf, snappy, gzip, the OTLP and Influx encoders) on this runtime", () => {
  it("posts a snappy-compressed WriteRequest with undici and reads 204, 400 and 429 back", async () => {
    const encoder = createRemoteWriteEncoder({
      externalLabels: {},
      maxBatchSamples: 100,
      maxBatchBytes: 1 << 20,
    });
    const [batch] = encoder.encode({ windowMs: 0, metrics: [METRIC], events: [] }).batches;
    const sender = new Sender({ url: `${receiver.url}/write`, headers: encoder.headers, timeoutMs: 5000 });
    receiver.reply(status(204), status(400, "bad\nrequest"), status(429, "", { "retry-after": "3" }));
    const signal = new AbortController().signal;
    assert.equal((await sender.send(batch!.body, signal)).kind, "delivered");
    assert.deepEqual(
      await sender.send(batch!.body, signal).then((r) => r.kind === "rejected" && r.message),
      "bad",
    );
    assert.deepEqual(
      await sender.send(batch!.body, signal).then((r) => r.kind === "retry" && r.retryAfterMs),
      3000,
    );
    await sender.close();
    const request = receiver.requests[0]!;
    assert.equal(request.headers["content-encoding"], "snappy");
    assert.deepEqual(decodeWriteRequest(request.body), [{
      labels: [["__name__", "up_time"], ["host", "a"]],
      samples: [{ value: 12.5, timestampMs: 1_700_000_000_000 }],
    }]);
  });

  it("gzips an OTLP request and a line protocol body with node:zlib and posts them to their routes", async () => {
    const otlp = createOtlpEncoder({
      metricsUrl: `${receiver.url}/v1/metrics`,
      logsUrl: `${receiver.url}/v1/logs`,
      encoding: "protobuf",
      compression: "gzip",
      temporality: "cumulative",
      resource: [["service.name", "tally"]],
      version: "0.0.0",
      sendEvents: true,
      maxBatchPoints: 100,
      maxBatchBytes: 1 << 20,
    });
    const influx = createInfluxEncoder({
      precision: "ms",
      temporality: "delta",
      compression: "gzip",
      eventsMeasurement: "events",
      maxBatchLines: 100,
      maxBatchBytes: 1 << 20,
    });
    const [stored] = otlp.encode({ windowMs: 0, metrics: [METRIC], events: [] }).batches;
    const [line] = influx.encode({ windowMs: 0, metrics: [METRIC], events: [] }).batches;
    const sender = new Sender({ url: `${receiver.url}/unused`, headers: otlp.headers, timeoutMs: 5000 });
    const signal = new AbortController().signal;
    const result = await sender.send(stored!.body.subarray(1), signal, {
      url: otlp.routes![stored!.body[0]!]!,
    });
    assert.equal(result.kind, "delivered");
    await sender.close();
    const request = receiver.requests.find((r) => r.path === "/v1/metrics")!;
    assert.equal(request.headers["content-encoding"], "gzip");
    const [metric] =
      decodeOtlpMetrics(request.body, { gzip: true }).resourceMetrics[0]!.scopeMetrics[0]!.metrics;
    assert.deepEqual([metric!.name, metric!.gauge!.dataPoints[0]!.asDouble], ["up.time", 12.5]);
    assert.equal(
      new TextDecoder().decode(gunzipSync(line!.body)),
      "up.time,host=a,metric_type=gauge value=12.5 1700000000000\n",
    );
  });
});
