import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { cachedIdentities } from "../formats/_statsd_identity.ts";
import { rememberedMembers } from "../formats/_statsd_members.ts";
import { FORMAT_IDS } from "../model/frame.ts";
import { counterFinish } from "./aggregate/counter_reducer.ts";
import { FrameSink } from "./frame_sink.ts";
import { Pool, type PoolOptions } from "./pool.ts";
import { SharedStamp } from "./_socket_reader.ts";
import { warmUp, warmUpCollectd } from "./_warm_up.ts";
import { encodeValueLists } from "../inputs/collectd/_test_packets.ts";
import type { TestValueList } from "../inputs/collectd/_test_packets.ts";

const T0 = 1_700_000_000_000;
const SINK = { intervalMs: 10_000, exactLimit: 64, maxSeries: 5000, maxEvents: 100 };

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/**
 * Real lines, some of them named as the warm-up's own series (`tally_warm_up.c.0` is a counter there, `.s.8`
 * a set), so that anything the warm-up left behind would show in their values.
 */
const FIRST = [
  "tally_warm_up.c.0:5|c\napi.hits:1|c|#env:prod\nlatency:12.5|ms",
  "tally_warm_up.s.8:alice|s\ntally_warm_up.g.4:7|g\nbad line",
  "queue:+3|g\napi.hits:2|c|#env:prod\n_e{5,3}:title|txt",
];
const SECOND = [
  "tally_warm_up.c.0:1|c\ntally_warm_up.s.8:bob|s\ntally_warm_up.s.8:alice|s",
  "api.hits:4|c|#env:prod\nlatency:13|ms\ntally_warm_up.g.4:-2|g",
  "queue:-1|g\ntally_warm_up.ms.6:3|ms",
];

function feed(sink: FrameSink, datagrams: readonly string[], seq: number): number {
  for (const text of datagrams) {
    const b = bytes(text);
    sink.datagram(0, FORMAT_IDS.statsd, seq++, T0, b, 0, b.length);
  }
  return seq;
}

/** A started one-worker pool warmed up as asked, and the first sequence number its stamp then gives. */
async function warmedPool(
  warmUp: Pick<PoolOptions, "warmUpLines" | "warmUpValueLists">,
): Promise<{ readonly pool: Pool; readonly firstSequence: number }> {
  const stamp = SharedStamp.allocate();
  const pool = new Pool({ workers: 1, ringBytes: 1 << 16, whenFull: "drop", sink: SINK, stamp, ...warmUp });
  await pool.start();
  return { pool, firstSequence: new SharedStamp(stamp).take(1) };
}

describe("warmUp()", () => {
  it("warmUp() parses its lines into a sink of its own and leaves the thread's StatsD caches empty", () => {
    const sink = new FrameSink(SINK);
    feed(sink, FIRST, 1);
    assert.ok(cachedIdentities() > 0 && rememberedMembers() > 0, "the real lines fill the caches");
    const result = warmUp(SINK, 40_000);
    assert.equal(result.lines, 40_000);
    assert.equal(result.series, 400);
    assert.equal(cachedIdentities(), 0);
    assert.equal(rememberedMembers(), 0);
    assert.equal(sink.seriesCount, 6, "the real sink holds its own series only");
    assert.deepEqual(warmUp(SINK, 0), { lines: 0, series: 0 });
  });

  it("a sink's partial is the same whether warmUp() ran in the middle of its stream or not", () => {
    const warmed = new FrameSink(SINK);
    let seq = feed(warmed, FIRST, 1);
    warmUp(SINK, 40_000);
    feed(warmed, SECOND, seq);
    const withWarmUp = warmed.take(T0);

    const plain = new FrameSink(SINK);
    seq = feed(plain, FIRST, 1);
    feed(plain, SECOND, seq);
    const without = plain.take(T0);

    assert.deepEqual(withWarmUp, without);
    const series = withWarmUp.aggregate.buckets[0]!.series;
    const counter = series.find((s) => s.key === "tally_warm_up.c.0")?.state;
    assert.equal(counter?.kind === "counter" ? counterFinish(counter) : undefined, 6);
    assert.deepEqual(withWarmUp.lines, [{ inputId: 0, lines: 17 }]);
    assert.equal(withWarmUp.events.length, 1);
  });

  it("a pool's warmed-up workers take no sequence number and hand over only what they were sent", async () => {
    const { pool, firstSequence } = await warmedPool({ warmUpLines: 50_000 });
    try {
      assert.equal(firstSequence, 1, "no sequence number was taken before the first datagram");
      assert.equal(pool.write(0, FORMAT_IDS.statsd, 2, T0, bytes("tally_warm_up.c.0:1|c\nreal:2|c")), true);
      const partials = await pool.flush(T0);
      const series = partials.flatMap((p) => p.aggregate.buckets.flatMap((b) => b.series));
      assert.deepEqual(
        series.map((s) => [s.key, s.state.kind === "counter" ? counterFinish(s.state) : NaN]).sort(),
        [["real", 2], ["tally_warm_up.c.0", 1]],
      );
      assert.deepEqual(partials.flatMap((p) => p.lines), [{ inputId: 0, lines: 2 }]);
      assert.deepEqual(partials.flatMap((p) => p.bad), []);
    } finally {
      await pool.stop();
    }
  });
});

/** Real value lists named as the warm-up's own (`tally-warm-up-0/tally_warm_up-0/counter-v0` is one there). */
function valueLists(time: number, n: number): Uint8Array {
  const lists: TestValueList[] = [
    {
      host: "tally-warm-up-0",
      plugin: "tally_warm_up",
      pluginInstance: "0",
      type: "counter",
      typeInstance: "v0",
      time,
      values: [{ type: "counter", value: 1000 + n }],
    },
    {
      host: "tally-warm-up-0",
      plugin: "tally_warm_up",
      pluginInstance: "0",
      type: "gauge",
      typeInstance: "v1",
      time,
      values: [{ type: "gauge", value: 0.25 + n }],
    },
    {
      host: "tally-warm-up-0",
      plugin: "tally_warm_up",
      pluginInstance: "0",
      type: "derive",
      typeInstance: "v2",
      time,
      values: [{ type: "derive", value: 50 + n }],
    },
    {
      host: "web1",
      plugin: "cpu",
      pluginInstance: "0",
      type: "derive",
      typeInstance: "user",
      time,
      values: [{ type: "derive", value: 9000 + n }],
    },
  ];
  return encodeValueLists(lists);
}

describe("warmUpCollectd()", () => {
  it("a sink's partials are the same whether warmUpCollectd() ran in the middle of its stream or not", () => {
    function stream(warm: boolean): unknown[] {
      const sink = new FrameSink(SINK);
      const partials: unknown[] = [];
      let seq = 1;
      for (let w = 0; w < 3; w++) {
        const windowMs = T0 + w * SINK.intervalMs;
        sink.frame(0, FORMAT_IDS.collectd, seq++, windowMs, valueLists(T0 / 1000 + w * 10, w * 7));
        if (warm && w === 1) {
          const result = warmUpCollectd(SINK, 20_000);
          assert.equal(result.lines, 20_000);
          assert.equal(result.series, 400, "one series per made-up identifier");
        }
        sink.frame(0, FORMAT_IDS.collectd, seq++, windowMs, valueLists(T0 / 1000 + w * 10 + 5, w * 7 + 3));
        assert.equal(sink.seriesCount, 4, "the real sink holds its own series only");
        partials.push(sink.take(windowMs));
      }
      return partials;
    }
    const without = stream(false);
    assert.deepEqual(stream(true), without);
    assert.deepEqual(warmUpCollectd(SINK, 0), { lines: 0, series: 0 });
  });

  it("a pool's workers warmed up on collectd take no sequence number and hand over only what they were sent", async () => {
    const { pool, firstSequence } = await warmedPool({ warmUpValueLists: 20_000 });
    try {
      assert.equal(firstSequence, 1, "no sequence number was taken before the first datagram");
      assert.equal(pool.write(0, FORMAT_IDS.collectd, 2, T0, valueLists(T0 / 1000, 0)), true);
      const partials = await pool.flush(T0);
      const series = partials.flatMap((p) => p.aggregate.buckets.flatMap((b) => b.series));
      assert.equal(series.length, 4);
      assert.deepEqual(partials.flatMap((p) => p.lines), [{ inputId: 0, lines: 4 }]);
      assert.deepEqual(partials.flatMap((p) => p.bad), []);
    } finally {
      await pool.stop();
    }
  });
});
