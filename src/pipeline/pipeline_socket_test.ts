import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import type { Socket } from "node:dgram";
import { createLogger } from "../internal/log.ts";
import { SelfStats } from "../internal/self_stats.ts";
import { FORMAT_IDS } from "../model/frame.ts";
import type { Metric } from "../model/metric.ts";
import { detectRuntime } from "../runtime/detect.ts";
import type { UdpSocket } from "../runtime/types.ts";
import { Pipeline, type PipelineOptions } from "./pipeline.ts";
import { Pool } from "./pool.ts";
import { SocketCounters } from "./_socket_reader.ts";
import type { SinkPartial } from "./frame_sink.ts";

const runtime = detectRuntime();
const skip = runtime.openUdp === undefined ? "this runtime has no FFI sockets" : false;
const encoder = new TextEncoder();

function send(client: Socket, text: string, port: number): Promise<void> {
  return new Promise((resolve, reject) =>
    client.send(encoder.encode(text), port, "127.0.0.1", (error) => (error ? reject(error) : resolve()))
  );
}

/** Repeats `step` until `done()` holds; fails after 10 s rather than hanging (never a speed assertion). */
async function until(step: () => Promise<unknown>, done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    await step();
    if (done()) return;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A counter's running total or a gauge's value, as last flushed. */
function pointOf(metrics: Map<string, Metric>, key: string): number | undefined {
  const point = metrics.get(key)?.point;
  if (point?.kind === "counter") return point.total;
  return point?.kind === "gauge" ? point.value : undefined;
}

/** A pipeline of `workers` workers with this file's settings, a silent log and no flush consumer unless given. */
function testPipeline(workers: number, options: Partial<PipelineOptions> = {}): Pipeline {
  return new Pipeline({
    workers,
    ringBytes: 1 << 20,
    intervalMs: 10_000,
    aggregation: { percentiles: [50], exactLimit: 256, maxSeries: 1000, idleMs: 300_000 },
    stats: new SelfStats(),
    log: createLogger({}, { write: () => {} }),
    onFlush() {},
    ...options,
  });
}

/** Keeps each series' latest flushed metric by key. */
function keepLatest(latest: Map<string, Metric>, metrics: readonly Metric[]): void {
  for (const metric of metrics) latest.set(metric.key, metric);
}

describe("Pipeline.attachSocket()", { skip }, () => {
  it("the workers read the socket: lines, packets and bytes are counted, and one sequence orders both paths", async () => {
    const stats = new SelfStats();
    const latest = new Map<string, Metric>();
    const pipeline = testPipeline(2, { stats, onFlush: (result) => keepLatest(latest, result.metrics) });
    await pipeline.start();
    const socket: UdpSocket = await runtime.openUdp!({ host: "127.0.0.1", port: 0, receiveBufferBytes: 0 });
    const client = createSocket("udp4");
    try {
      const emit = pipeline.register({ type: "statsd", id: "statsd" });
      let packets = 0;
      const detach = await pipeline.attachSocket(emit, socket.fd, FORMAT_IDS.statsd, (n) => (packets += n));
      assert.ok(detach !== undefined, "with workers the socket is handed over");
      for (const line of ["a:1|c", "a:2|c", "g:1|g\na:3|c"]) await send(client, line, socket.port);
      // The counts are current at every scrape, not only at a flush.
      await until(
        () => Promise.resolve(stats.snapshot()),
        () => packets === 3,
        "the workers to read three datagrams",
      );
      await pipeline.flush();
      assert.equal(pointOf(latest, "a"), 6);
      assert.equal(pointOf(latest, "g"), 1);
      const received = stats.snapshot().find((f) => f.name === "tally_component_received_bytes_total");
      assert.equal(received?.series[0]?.value, 5 + 5 + 11);
      // A gauge set through the ring after the datagram wins, and one read from the socket after that
      // wins again: both take their sequence from the same counter.
      emit(encoder.encode("g:2|g"), FORMAT_IDS.statsd);
      await pipeline.flush();
      assert.equal(pointOf(latest, "g"), 2);
      await send(client, "g:3|g", socket.port);
      await until(() => pipeline.flush(), () => packets === 4, "the fourth datagram");
      assert.equal(pointOf(latest, "g"), 3);

      // Once detached, the workers leave the socket alone: what arrives stays queued for its owner.
      await detach!();
      await send(client, "a:100|c", socket.port);
      const batch = socket.createBatch(4);
      let left = 0;
      await until(
        () => Promise.resolve(left += Math.max(0, batch.receive())),
        () => left === 1,
        "the datagram left queued",
      );
      await pipeline.flush();
      assert.equal(packets, 4);
      assert.equal(pointOf(latest, "a"), 6);
    } finally {
      client.close();
      await pipeline.stop();
      await socket.close();
    }
  });

  it("with two workers a socket has one reader, so a gauge's deltas stay after the value they follow", async () => {
    const latest = new Map<string, Metric>();
    const pipeline = testPipeline(2, { onFlush: (result) => keepLatest(latest, result.metrics) });
    await pipeline.start();
    const socket = await runtime.openUdp!({ host: "127.0.0.1", port: 0, receiveBufferBytes: 1 << 20 });
    const client = createSocket("udp4");
    try {
      const emit = pipeline.register({ type: "statsd", id: "statsd" });
      let packets = 0;
      await pipeline.attachSocket(emit, socket.fd, FORMAT_IDS.statsd, (n) => (packets += n));
      // Each gauge in three datagrams: a value, then two deltas. Read by two workers at once, a delta could
      // take its sequence number before the value's and be dropped as older than it.
      for (let g = 0; g < 200; g++) {
        await send(client, `g${g}:${g}|g`, socket.port);
        await send(client, `g${g}:+3|g`, socket.port);
        await send(client, `g${g}:-1|g`, socket.port);
      }
      await until(() => pipeline.flush(), () => packets === 600, "600 datagrams");
      const wrong = [];
      for (let g = 0; g < 200; g++) {
        if (pointOf(latest, `g${g}`) !== g + 2) wrong.push(`g${g}=${pointOf(latest, `g${g}`)}`);
      }
      assert.deepEqual(wrong, []);
    } finally {
      client.close();
      await pipeline.stop();
      await socket.close();
    }
  });

  it("attachSocket() returns undefined without workers: the input reads the socket itself", async () => {
    const pipeline = testPipeline(0);
    await pipeline.start();
    try {
      const emit = pipeline.register({ type: "statsd", id: "statsd" });
      assert.equal(await pipeline.attachSocket(emit, 12345, FORMAT_IDS.statsd, () => {}), undefined);
      await assert.rejects(pipeline.attachSocket(() => true, 12345, FORMAT_IDS.statsd, () => {}), {
        message: "Cannot attach socket 12345: the emit function is not this pipeline's",
      });
    } finally {
      await pipeline.stop();
    }
  });

  it("a socket the worker cannot read is given back to the input with a warning, and the worker reads the next", async () => {
    const lines: string[] = [];
    const stats = new SelfStats();
    const pipeline = testPipeline(1, { stats, log: createLogger({}, { write: (line) => lines.push(line) }) });
    await pipeline.start();
    const socket: UdpSocket = await runtime.openUdp!({ host: "127.0.0.1", port: 0, receiveBufferBytes: 0 });
    try {
      const emit = pipeline.register({ type: "statsd", id: "edge" });
      // -1 is no descriptor: the worker refuses it, so the input must read the socket on the main thread.
      assert.equal(await pipeline.attachSocket(emit, -1, FORMAT_IDS.statsd, () => {}), undefined);
      assert.equal(lines.length, 1);
      assert.match(lines[0]!, /level=warn msg="A worker cannot read the socket; the main thread reads it"/);
      assert.match(lines[0]!, /component_type=statsd component_id=edge/);
      assert.match(lines[0]!, /Worker 0 cannot read socket -1: Cannot read socket -1: not a file descriptor/);
      // The refusal left the worker as it was: a real socket handed over next is read.
      let packets = 0;
      const detach = await pipeline.attachSocket(emit, socket.fd, FORMAT_IDS.statsd, (n) => (packets += n));
      assert.ok(detach !== undefined);
      const client = createSocket("udp4");
      try {
        await send(client, "a:1|c", socket.port);
        await until(() => Promise.resolve(stats.snapshot()), () => packets === 1, "one datagram read");
      } finally {
        client.close();
      }
      await detach();
    } finally {
      await pipeline.stop();
      await socket.close();
    }
  });

  it("a restarted worker goes on reading the sockets its predecessor read", async () => {
    let restarted = 0;
    const pool = new Pool({
      workers: 1,
      ringBytes: 1 << 20,
      whenFull: "drop",
      sink: { intervalMs: 10_000, exactLimit: 256, maxSeries: 1000, maxEvents: 100 },
      onRestart: () => restarted++,
    });
    await pool.start();
    const socket = await runtime.openUdp!({ host: "127.0.0.1", port: 0, receiveBufferBytes: 0 });
    const client = createSocket("udp4");
    const lines = (partials: readonly SinkPartial[]): number =>
      partials.reduce((sum, p) => sum + p.lines.reduce((s, l) => s + l.lines, 0), 0);
    try {
      await pool.attach({
        fd: socket.fd,
        inputId: 0,
        format: FORMAT_IDS.statsd,
        counters: SocketCounters.allocate(),
      });
      let seen = 0;
      await send(client, "a:1|c", socket.port);
      await until(
        async () => (seen += lines(await pool.flush(Number.POSITIVE_INFINITY))),
        () => seen === 1,
        "a line",
      );
      pool.crash(0);
      await until(() => Promise.resolve(), () => restarted === 1, "the restart");
      await send(client, "a:1|c\nb:1|c", socket.port);
      await until(
        async () => (seen += lines(await pool.flush(Number.POSITIVE_INFINITY))),
        () => seen === 3,
        "two more",
      );
    } finally {
      client.close();
      await pool.stop();
      await socket.close();
    }
  });
});
