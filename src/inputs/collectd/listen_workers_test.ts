import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import type { Socket } from "node:dgram";
import * as v from "valibot";
import { parseListenAddress } from "../../config/address.ts";
import { encodeCollectdParts } from "../../formats/_collectd_parts.ts";
import { createLogger } from "../../internal/log.ts";
import { componentStats, SelfStats } from "../../internal/self_stats.ts";
import type { Metric } from "../../model/metric.ts";
import { Pipeline } from "../../pipeline/pipeline.ts";
import { detectRuntime } from "../../runtime/detect.ts";
import type { InputContext } from "../input.ts";
import { schema } from "./config.ts";
import { CollectdInput } from "./listen.ts";
import { sealCollectdPacket } from "./seal.ts";
import { encodeValueLists } from "./_test_packets.ts";

const runtime = detectRuntime();
const skip = runtime.openUdp === undefined ? "this runtime has no FFI sockets" : false;
const TYPES_DB = "tally_c value:COUNTER:0:U\ntally_g value:GAUGE:U:U\ntally_d value:DERIVE:U:U\n";
const TIME = 1_700_000_000;

/** One value list of each kind, for host `host`, with values offset by `n`. */
function lists(host: string, n: number): Uint8Array {
  return encodeValueLists([
    { host, plugin: "p", type: "tally_c", time: TIME, values: [{ type: "counter", value: 100 + n }] },
    { host, plugin: "p", type: "tally_g", time: TIME, values: [{ type: "gauge", value: 0.5 + n }] },
    { host, plugin: "p", type: "tally_d", time: TIME, values: [{ type: "derive", value: 7 + n }] },
  ]);
}

function concat(...chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((sum, c) => sum + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** An encryption part whose lengths cannot be right: 8 bytes, less than its fixed fields. */
const MALFORMED_ENCRYPTION = new Uint8Array([0x02, 0x10, 0x00, 0x08, 0x00, 0x01, 0x61, 0x00]);

/**
 * The packets both paths get, one of each case at level `none` without an auth file: plain, signed (the
 * signature skipped, the rest read unverified), encrypted (refused as unknown_user), plain parts before an
 * encrypted one (kept) and after it (dropped with the rest of the scope), a malformed security part, a
 * signature in the middle (the parts around it read as one section), and a truncated trailing part.
 */
function packets(): readonly Uint8Array[] {
  return [
    lists("plain", 0),
    sealCollectdPacket(lists("signed", 1), { mode: "sign", user: "u", password: "p" }),
    sealCollectdPacket(lists("encrypted", 2), { mode: "encrypt", user: "u", password: "p" }),
    concat(
      lists("before", 3),
      sealCollectdPacket(lists("inner", 4), { mode: "encrypt", user: "alice", password: "s3cret" }),
      lists("after", 5),
    ),
    concat(lists("before_bad", 6), MALFORMED_ENCRYPTION),
    concat(
      lists("around_a", 7),
      sealCollectdPacket(lists("around_b", 8), { mode: "sign", user: "u", password: "p" }),
    ),
    concat(
      lists("truncated", 9),
      encodeCollectdParts([{ kind: "string", type: 0x0000, text: "x" }]).subarray(0, 5),
    ),
  ];
}

function send(client: Socket, bytes: Uint8Array, port: number): Promise<void> {
  return new Promise((resolve, reject) =>
    client.send(bytes, port, "127.0.0.1", (error) => (error ? reject(error) : resolve()))
  );
}

/** What one run saw: the input's self-metrics, the flushed points by key, and the log lines. */
interface Seen {
  readonly self: readonly string[];
  readonly points: readonly string[];
  readonly logs: readonly string[];
}

/**
 * Starts a collectd input at level none without an auth file in a pipeline with one worker, sends every
 * packet, and returns what was counted and flushed. With `workers`, the input may hand its socket to the
 * worker (as `tally run` lets it); without, the main thread reads it.
 */
async function run(workers: boolean): Promise<Seen> {
  const stats = new SelfStats();
  const latest = new Map<string, Metric>();
  const logs: string[] = [];
  const pipeline = new Pipeline({
    workers: 1,
    ringBytes: 1 << 20,
    intervalMs: 10_000,
    aggregation: { percentiles: [50], exactLimit: 256, maxSeries: 1000, idleMs: 300_000 },
    formats: { collectd: { typesDb: TYPES_DB } },
    stats,
    log: createLogger({}, { write: () => {} }),
    onFlush(result) {
      for (const metric of result.metrics) latest.set(metric.key, metric);
    },
  });
  await pipeline.start();
  const component = { type: "collectd", id: "cd" };
  const emit = pipeline.register(component);
  const abort = new AbortController();
  const ctx: InputContext = {
    emit,
    ...(workers
      ? {
        attachSocket: (fd, format, onPackets, opening) =>
          pipeline.attachSocket(emit, fd, format, onPackets, opening),
      }
      : {}),
    signal: abort.signal,
    runtime,
    log: createLogger({}, { write: (line) => logs.push(line) }),
    stats: componentStats(stats, component),
    selfStats: stats,
  };
  const input = new CollectdInput(
    v.parse(schema, { listen: ["udp:127.0.0.1:0"], udp_receive: "recvmmsg" }),
    component.id,
  );
  await input.start(ctx);
  const client = createSocket("udp4");
  const sent = packets();
  try {
    const address = parseListenAddress(input.addresses()[0]!);
    assert.ok(address !== undefined && address.transport === "udp");
    for (const packet of sent) await send(client, packet, address.port);
    const deadline = Date.now() + 10_000;
    // Never a speed assertion: only a bound so that a lost datagram fails rather than hangs.
    while (packetsCounted(stats) < sent.length) {
      if (Date.now() > deadline) {
        throw new Error(`Timed out: ${packetsCounted(stats)} of ${sent.length} packets`);
      }
      await pipeline.flush();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await pipeline.flush();
  } finally {
    client.close();
    await input.stop();
    await pipeline.stop();
  }
  const self = stats.snapshot().flatMap((family) =>
    family.series
      .filter((s) => s.labels.some(([k, value]) => k === "component_id" && value === "cd"))
      .map((s) => `${family.name}{${s.labels.map(([k, value]) => `${k}=${value}`).join(",")}} ${s.value}`)
  );
  const points = [...latest.values()].map((m) =>
    `${m.key.replaceAll("\u0000", "|").replaceAll("\u0001", "|")} ${JSON.stringify(m.point)}`
  );
  return { self: self.sort(), points: points.sort(), logs };
}

function packetsCounted(stats: SelfStats): number {
  const family = stats.snapshot().find((f) => f.name === "tally_input_packets_total");
  return family?.series[0]?.value ?? 0;
}

describe("CollectdInput read by the workers at level none without an auth file", { skip }, () => {
  it("counts and parses the same packets exactly as the main thread does, and says read_by=workers", async () => {
    const main = await run(false);
    const workers = await run(true);
    assert.ok(
      main.logs.some((l) => l.includes("msg=Listening") && l.includes("read_by=main")),
      main.logs.join("\n"),
    );
    assert.ok(
      workers.logs.some((l) => l.includes("msg=Listening") && l.includes("read_by=workers")),
      workers.logs.join("\n"),
    );
    assert.deepEqual(workers.self, main.self);
    assert.deepEqual(workers.points, main.points);
    // What both agree on is what collectd itself does with these packets.
    const value = (name: string) => Number(main.self.find((line) => line.startsWith(name))?.split(" ").pop());
    assert.equal(value("tally_input_packets_total{"), 7);
    assert.equal(
      value(
        "tally_component_dropped_events_total{component_id=cd,component_type=collectd,reason=auth_unknown_user}",
      ),
      2,
    );
    assert.equal(
      value(
        "tally_component_dropped_events_total{component_id=cd,component_type=collectd,reason=auth_malformed}",
      ),
      1,
    );
    assert.equal(
      value(
        "tally_collectd_auth_failures_total{component_id=cd,component_type=collectd,reason=unknown_user}",
      ),
      2,
    );
    assert.equal(
      value("tally_collectd_auth_failures_total{component_id=cd,component_type=collectd,reason=malformed}"),
      1,
    );
    const hosts = new Set(main.points.map((p) => /\|instance\|([a-z_]+)/.exec(p)?.[1] ?? p));
    assert.deepEqual([...hosts].sort(), [
      "around_a",
      "around_b",
      "before",
      "before_bad",
      "plain",
      "signed",
      "truncated",
    ]);
    // Received bytes are the sections' bytes: what is left once security parts are taken out.
    const sections = [
      lists("plain", 0),
      lists("signed", 1),
      lists("before", 3),
      lists("before_bad", 6),
      lists("around_a", 7),
      lists("around_b", 8),
      lists("truncated", 9),
    ].reduce((sum, p) => sum + p.length, 0) + 5;
    assert.equal(value("tally_component_received_bytes_total{"), sections);
  });
});
