import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Metric } from "../../src/model/metric.ts";
import { Sender } from "../../src/outputs/_send.ts";
import { createRemoteWriteEncoder } from "../../src/outputs/remote_write/encode.ts";
import { startRecordingReceiver, status } from "../harness/recording_receiver.ts";
import { decodeWriteRequest } from "../harness/write_request.ts";

const receiver = await startRecordingReceiver();
after(() => receiver.close());

describe("the forwarding stack (undici, @bufbuild/protobuf, the snappy compressor) on this runtime", () => {
  it("posts a snappy-compressed WriteRequest with undici and reads 204, 400 and 429 back", async () => {
    const metric: Metric = {
      name: "up.time",
      labels: [["host", "a"]],
      key: "up.time\x00host\x01a",
      kind: "gauge",
      point: { kind: "gauge", value: 12.5 },
      timeMs: 1_700_000_000_000,
      intervalMs: 10_000,
      startMs: 1_700_000_000_000,
    };
    const encoder = createRemoteWriteEncoder({
      externalLabels: {},
      maxBatchSamples: 100,
      maxBatchBytes: 1 << 20,
    });
    const [batch] = encoder.encode({ windowMs: 0, metrics: [metric], events: [] }).batches;
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
});
