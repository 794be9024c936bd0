import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import * as v from "valibot";
import type { Metric } from "../model/metric.ts";
import { outputContext } from "../../tests/harness/output_context.ts";
import { startRecordingReceiver, status } from "../../tests/harness/recording_receiver.ts";
import { waitFor } from "../../tests/harness/wait_for.ts";
import { FORWARD_ENTRIES } from "./_forward_config.ts";
import { type Encoder, Forwarder, routedBody } from "./_forwarder.ts";
import type { OutputFlush } from "./output.ts";

const receiver = await startRecordingReceiver();
const dirs: string[] = [];
after(async () => {
  await receiver.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const SCHEMA = v.strictObject(FORWARD_ENTRIES);

/** An encoder whose body is the flush's metric names joined by commas, one batch per flush. */
const NAMES: Encoder = {
  format: "names/1",
  headers: { "content-type": "text/plain" },
  encode(flush: OutputFlush) {
    if (flush.metrics.length === 0) return { batches: [] };
    const body = new TextEncoder().encode(flush.metrics.map((m) => m.name).join(","));
    return { batches: [{ body, events: flush.metrics.length }] };
  },
};

function flush(...names: string[]): OutputFlush {
  const metrics = names.map((name): Metric => ({
    name,
    labels: [],
    key: name,
    kind: "gauge",
    point: { kind: "gauge", value: 1 },
    timeMs: 0,
    intervalMs: 1000,
    startMs: 0,
  }));
  return { windowMs: 0, metrics, events: [] };
}

function forwarder(path: string, id: string, extra: Record<string, unknown> = {}, encoder: Encoder = NAMES) {
  const config = v.parse(SCHEMA, {
    url: `${receiver.url}${path}`,
    min_backoff: "10ms",
    max_backoff: "20ms",
    ...extra,
  });
  const output = new Forwarder({ type: "test", id, config, encoder, random: () => 0 });
  const recording = outputContext({ type: "test", id });
  dirs.push(recording.ctx.stateDir);
  return { output, ...recording };
}

function bodiesAt(path: string): string[] {
  return receiver.requests.filter((r) => r.path === path).map((r) => new TextDecoder().decode(r.body));
}

describe("Forwarder", () => {
  it("delivers each flush in order with the protocol's and the user's headers, and counts it", async () => {
    const { output, ctx, selfMetric } = forwarder("/ordered", "ordered", {
      headers: { "X-Scope-OrgID": "edge" },
    });
    await output.start(ctx);
    output.write(flush("a", "b"));
    output.write(flush("c"));
    await waitFor(() => selfMetric("tally_output_sent_batches_total") === 2, { what: "two deliveries" });
    await output.stop();
    assert.deepEqual(bodiesAt("/ordered"), ["a,b", "c"]);
    const request = receiver.requests.find((r) => r.path === "/ordered")!;
    assert.equal(request.headers["content-type"], "text/plain");
    assert.equal(request.headers["x-scope-orgid"], "edge");
    assert.equal(request.headers["user-agent"], "tally/test");
    assert.equal(selfMetric("tally_component_received_events_total"), 3);
    assert.equal(selfMetric("tally_component_sent_events_total"), 3);
    assert.equal(selfMetric("tally_output_sent_bytes_total"), 4);
    assert.equal(selfMetric("tally_output_queued_batches"), 0);
  });

  it("retries 5xx and 429 until delivered, keeping the batch order", async () => {
    receiver.reply(status(503, "overloaded"), status(429, "slow down", { "retry-after": "0" }));
    const { output, ctx, selfMetric, logs } = forwarder("/retry", "retry");
    await output.start(ctx);
    output.write(flush("first"));
    output.write(flush("second"));
    await waitFor(() => selfMetric("tally_output_sent_batches_total") === 2, { what: "two deliveries" });
    await output.stop();
    assert.deepEqual(bodiesAt("/retry"), ["first", "first", "first", "second"]);
    assert.equal(selfMetric("tally_output_retries_total", { reason: "http_5xx" }), 1);
    assert.equal(selfMetric("tally_output_retries_total", { reason: "http_429" }), 1);
    assert.equal(selfMetric("tally_component_errors_total", { error_type: "http_5xx" }), 1);
    assert.ok(logs.some((l) => l.includes("Cannot deliver a batch; will retry") && l.includes("overloaded")));
  });

  it("drops a batch the receiver rejects with a 4xx, logs the body's first line, and goes on", async () => {
    receiver.reply(status(400, "duplicate sample for timestamp\nmore detail"));
    const { output, ctx, selfMetric, logs } = forwarder("/reject", "reject");
    await output.start(ctx);
    output.write(flush("bad", "worse"));
    output.write(flush("good"));
    await waitFor(() => selfMetric("tally_output_sent_batches_total") === 1, { what: "one delivery" });
    await output.stop();
    assert.deepEqual(bodiesAt("/reject"), ["bad,worse", "good"]);
    assert.equal(selfMetric("tally_output_failed_batches_total", { reason: "rejected" }), 1);
    assert.equal(selfMetric("tally_component_dropped_events_total", { reason: "rejected" }), 2);
    const line = logs.find((l) => l.includes("Receiver rejected a batch"));
    assert.ok(line?.includes('response="duplicate sample for timestamp"'), line ?? "no line");
    assert.ok(!line?.includes("more detail"));
  });

  it("counts what a partial write stored as sent, and only what the receiver refused as rejected", async () => {
    receiver.reply(status(400, '{"error":"partial write: field type conflict dropped=1"}'));
    const partial: Encoder = {
      ...NAMES,
      refused: (_status, message) => /dropped=(\d+)/.test(message) ? 1 : undefined,
    };
    const { output, ctx, selfMetric, logs } = forwarder("/partial", "partial", {}, partial);
    await output.start(ctx);
    output.write(flush("a", "b", "c"));
    await waitFor(() => selfMetric("tally_output_failed_batches_total", { reason: "rejected" }) === 1, {
      what: "the rejection",
    });
    await output.stop();
    assert.equal(selfMetric("tally_component_sent_events_total"), 2);
    assert.equal(selfMetric("tally_component_dropped_events_total", { reason: "rejected" }), 1);
    const line = logs.find((l) => l.includes("Receiver rejected a batch"));
    assert.ok(line?.includes("samples=1 stored=2"), line ?? "no line");
  });

  it("keeps undelivered batches across a restart and delivers them in order to a receiver that came back", async () => {
    receiver.reply(status(503));
    const first = forwarder("/restart", "restart", { max_backoff: "1m", min_backoff: "1m" });
    await first.output.start(first.ctx);
    first.output.write(flush("one"));
    first.output.write(flush("two"));
    await waitFor(() => bodiesAt("/restart").length === 1, { what: "the first attempt" });
    await first.output.stop();
    assert.equal(first.selfMetric("tally_output_queued_batches"), 2);
    const second = forwarder("/restart", "restart");
    const state = outputContext({ type: "test", id: "restart" }, { stateDir: first.ctx.stateDir });
    await second.output.start(state.ctx);
    await waitFor(() => state.selfMetric("tally_output_sent_batches_total") === 2, { what: "the replay" });
    await second.output.stop();
    const delivered = bodiesAt("/restart").filter((_, i, all) =>
      i === all.length - 2 || i === all.length - 1
    );
    assert.deepEqual(delivered, ["one", "two"]);
  });

  it("reports itself on /readyz after stall_after without a delivery, and recovers", async () => {
    receiver.reply(status(503), status(503), status(503));
    const { output, ctx, advance } = forwarder("/stall", "stall", { stall_after: "1m" });
    await output.start(ctx);
    assert.equal(output.problem(), undefined);
    output.write(flush("x"));
    advance(61_000);
    assert.match(
      output.problem() ?? "",
      /^output test "stall" has not delivered for 61 s \(1 batches queued, stall_after 60 s\)$/,
    );
    await waitFor(() => output.problem() === undefined, { what: "recovery" });
    await output.stop();
  });

  it("never waits for a receiver that hangs: write returns and stop aborts the request", async () => {
    receiver.reply(() => {});
    const { output, ctx, selfMetric } = forwarder("/hang", "hang");
    await output.start(ctx);
    output.write(flush("stuck"));
    output.write(flush("behind"));
    await waitFor(() => bodiesAt("/hang").length === 1, { what: "the hanging request" });
    await output.stop();
    assert.equal(selfMetric("tally_output_queued_batches"), 2);
  });

  it("moves on to the next batch when the one it retries is evicted by the cap", async () => {
    receiver.reply(status(503));
    const { output, ctx, selfMetric } = forwarder("/evicted", "evicted", {
      outbox: "memory",
      outbox_max_size: "64KiB",
      min_backoff: "300ms",
      max_backoff: "300ms",
    });
    await output.start(ctx);
    output.write(flush("first"));
    await waitFor(() => bodiesAt("/evicted").length === 1, { what: "the failed attempt" });
    const big = Array.from({ length: 5000 }, (_, i) => `metric_${i}`);
    for (let i = 0; i < 3; i++) output.write(flush(...big));
    await waitFor(
      () =>
        selfMetric("tally_output_queued_batches") === 0 && selfMetric("tally_output_sent_batches_total") >= 1,
      {
        what: "the rest delivered",
      },
    );
    await output.stop();
    assert.deepEqual(
      bodiesAt("/evicted").filter((b) => b === "first"),
      ["first"],
      "not sent again once evicted",
    );
    assert.ok(selfMetric("tally_component_dropped_events_total", { reason: "evicted" }) >= 1);
  });

  it("posts each body to the route its encoder chose, strips the route byte, and keeps it across a restart", async () => {
    // Names starting with "l" go to the second route, as OTLP's logs go to /v1/logs.
    const routed: Encoder = {
      format: "routed/1",
      headers: { "content-type": "text/plain" },
      routes: [`${receiver.url}/routed/metrics`, `${receiver.url}/routed/logs`],
      encode(flush: OutputFlush) {
        return {
          batches: flush.metrics.map((m) => ({
            body: routedBody(m.name.startsWith("l") ? 1 : 0, new TextEncoder().encode(m.name)),
            events: 1,
          })),
        };
      },
    };
    const config = v.parse(SCHEMA, { url: `${receiver.url}/unused`, min_backoff: "1m", max_backoff: "1m" });
    receiver.reply(status(503));
    const first = new Forwarder({ type: "test", id: "routed", config, encoder: routed, random: () => 0 });
    const recording = outputContext({ type: "test", id: "routed" });
    dirs.push(recording.ctx.stateDir);
    await first.start(recording.ctx);
    first.write(flush("m1", "l1", "m2"));
    await waitFor(() => bodiesAt("/routed/metrics").length === 1, { what: "the failed attempt" });
    await first.stop();
    const second = new Forwarder({ type: "test", id: "routed", config, encoder: routed, random: () => 0 });
    const state = outputContext({ type: "test", id: "routed" }, { stateDir: recording.ctx.stateDir });
    await second.start(state.ctx);
    await waitFor(() => state.selfMetric("tally_output_sent_batches_total") === 3, { what: "the replay" });
    await second.stop();
    assert.deepEqual(bodiesAt("/routed/metrics"), ["m1", "m1", "m2"]);
    assert.deepEqual(bodiesAt("/routed/logs"), ["l1"]);
    assert.deepEqual(bodiesAt("/unused"), []);
    assert.equal(state.selfMetric("tally_output_sent_bytes_total"), 6, "the route byte is not sent");
  });

  it("aborts the request on the wire when the cap evicts its batch, so nothing is both evicted and sent", async () => {
    receiver.reply(() => {});
    const { output, ctx, selfMetric } = forwarder("/wire", "wire", {
      outbox: "memory",
      outbox_max_size: "64KiB",
    });
    await output.start(ctx);
    output.write(flush("first"));
    await waitFor(() => bodiesAt("/wire").length === 1, { what: "the hanging request" });
    receiver.reply(status(204));
    const big = Array.from({ length: 5000 }, (_, i) => `metric_${i}`);
    for (let i = 0; i < 3; i++) output.write(flush(...big));
    await waitFor(
      () =>
        selfMetric("tally_output_queued_batches") === 0 && selfMetric("tally_output_sent_batches_total") >= 1,
      { what: "the rest delivered" },
    );
    await output.stop();
    const received = selfMetric("tally_component_received_events_total");
    const sent = selfMetric("tally_component_sent_events_total");
    const evicted = selfMetric("tally_component_dropped_events_total", { reason: "evicted" });
    assert.ok(evicted >= 1, "the first batch was evicted");
    assert.equal(sent + evicted, received, "every sample was either delivered or counted as evicted");
  });

  it("counts what the memory outbox evicts past its cap", async () => {
    receiver.reply(() => {});
    const { output, ctx, selfMetric } = forwarder("/memory", "memory", {
      outbox: "memory",
      outbox_max_size: "64KiB",
    });
    await output.start(ctx);
    const big = Array.from({ length: 5000 }, (_, i) => `metric_${i}`);
    for (let i = 0; i < 3; i++) output.write(flush(...big));
    assert.ok(selfMetric("tally_output_evicted_batches_total") >= 1);
    assert.equal(selfMetric("tally_component_dropped_events_total", { reason: "evicted" }) % 5000, 0);
    await output.stop();
  });
});
