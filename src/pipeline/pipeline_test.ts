import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../internal/log.ts";
import { SelfStats } from "../internal/self_stats.ts";
import { encodeValueLists } from "../inputs/collectd/_test_packets.ts";
import { FORMAT_IDS } from "../model/frame.ts";
import type { Metric, Point } from "../model/metric.ts";
import { Pipeline } from "./pipeline.ts";
import type { FlushResult, PipelineOptions } from "./pipeline.ts";

const T0 = 1_700_000_000_000; // a multiple of 10 s
const INTERVAL = 10_000;

interface Harness {
  readonly pipeline: Pipeline;
  readonly stats: SelfStats;
  readonly flushed: FlushResult[];
  readonly logs: string[];
  readonly clock: { now: number };
}

function harness(workers: number, extra: Partial<PipelineOptions> = {}): Harness {
  const stats = new SelfStats();
  const flushed: FlushResult[] = [];
  const logs: string[] = [];
  const clock = { now: T0 + 1234 };
  const pipeline = new Pipeline({
    workers,
    ringBytes: 1 << 20,
    intervalMs: INTERVAL,
    aggregation: { percentiles: [50, 90, 99], exactLimit: 256, maxSeries: 1000, idleMs: 300_000 },
    stats,
    log: createLogger({}, { write: (line) => logs.push(line), now: () => clock.now }),
    now: () => clock.now,
    onFlush: (result) => {
      flushed.push(result);
    },
    ...extra,
  });
  return { pipeline, stats, flushed, logs, clock };
}

function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

function byKey(metrics: readonly Metric[]): Record<string, Point> {
  const out: Record<string, Point> = {};
  for (const m of metrics) out[m.key] = m.point;
  return out;
}

/** The value of one self-metric series, or undefined when it does not exist. */
function selfValue(stats: SelfStats, name: string, labels: Record<string, string> = {}): number | undefined {
  const family = stats.snapshot().find((f) => f.name === name);
  const wanted = Object.entries(labels).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const series = family?.series.find((s) =>
    wanted.every(([k, v]) => s.labels.some(([lk, lv]) => lk === k && lv === v))
  );
  return series?.value;
}

for (const workers of [0, 2]) {
  describe(`Pipeline (workers = ${workers})`, () => {
    it("emit() with a window stamps the frame into that window, so a replayed frame keeps its time", async () => {
      const h = harness(workers);
      await h.pipeline.start();
      try {
        const emit = h.pipeline.register({ type: "http", id: "http" });
        assert.equal(h.pipeline.windowMs, T0);
        emit(text("old:3|c\nlevel:7|g"), FORMAT_IDS.statsd, T0 - 5 * INTERVAL);
        emit(text("new:1|c"), FORMAT_IDS.statsd);
        const result = await h.pipeline.flush();
        const at = Object.fromEntries(result.metrics.map((m) => [m.name, [m.timeMs, m.point]]));
        assert.deepEqual(at["old"], [T0 - 5 * INTERVAL, { kind: "counter", delta: 3, total: 3, rate: 0.3 }]);
        assert.deepEqual(at["level"], [T0 - 5 * INTERVAL, { kind: "gauge", value: 7 }]);
        assert.equal(at["new"]?.[0], T0);
      } finally {
        await h.pipeline.stop();
      }
    });

    it("flush() turns collectd running totals into window deltas with the configured types.db", async () => {
      const h = harness(workers, { formats: { collectd: { typesDb: "tally_test value:COUNTER:0:U\n" } } });
      await h.pipeline.start();
      try {
        const emit = h.pipeline.register({ type: "collectd", id: "collectd" });
        const packet = (value: number): Uint8Array =>
          encodeValueLists([{
            host: "h",
            plugin: "p",
            type: "tally_test",
            time: 0,
            values: [{ type: "counter", value }],
          }]);
        const key = "collectd_p_tally_test\u0000instance\u0001h";
        emit(packet(1000), FORMAT_IDS.collectd);
        const first = await h.pipeline.flush();
        assert.deepEqual(byKey(first.metrics), {
          [key]: { kind: "counter", delta: 0, total: 1000, rate: 0 },
        });
        assert.equal(first.metrics[0]!.kind, "cumulative");
        h.clock.now += INTERVAL;
        emit(packet(1040), FORMAT_IDS.collectd);
        emit(packet(1100), FORMAT_IDS.collectd);
        const second = await h.pipeline.flush();
        assert.deepEqual(byKey(second.metrics), {
          [key]: { kind: "counter", delta: 100, total: 1100, rate: 10 },
        });
        h.clock.now += INTERVAL;
        // The source restarted: the new value is the increase.
        emit(packet(30), FORMAT_IDS.collectd);
        const third = await h.pipeline.flush();
        assert.deepEqual(byKey(third.metrics), { [key]: { kind: "counter", delta: 30, total: 30, rate: 3 } });
      } finally {
        await h.pipeline.stop();
      }
    });

    it("flush() logs a rate-limited warning naming the series cap and its config key when it rejects", async () => {
      const h = harness(workers, {
        aggregation: { percentiles: [50], exactLimit: 256, maxSeries: 3, idleMs: 300_000 },
      });
      await h.pipeline.start();
      try {
        const emit = h.pipeline.register({ type: "statsd", id: "local" });
        emit(text("a:1|c\nb:1|c\nc:1|c"), FORMAT_IDS.statsd);
        await h.pipeline.flush();
        assert.deepEqual(h.logs.filter((l) => l.includes("Series cap")), []);
        emit(text("brandnew:1|c\nother:1|c"), FORMAT_IDS.statsd);
        await h.pipeline.flush();
        emit(text("third:1|c"), FORMAT_IDS.statsd);
        await h.pipeline.flush();
        const warnings = h.logs.filter((l) => l.includes("Series cap reached"));
        assert.equal(warnings.length, 1, h.logs.join("\n"));
        assert.match(
          warnings[0]!,
          /max_series=3 config_key=aggregation\.max_series live=3 rejected_total=2 /,
        );
        assert.equal(selfValue(h.stats, "tally_series_rejected_total"), 3);
      } finally {
        await h.pipeline.stop();
      }
    });

    it("flush() warns, naming the interval and its config key, when a flush took longer than the interval", async () => {
      let slow = false;
      const h = harness(workers, {
        onFlush: () => {
          // A store or an output that takes longer than the interval: the clock moves on meanwhile.
          if (slow) h.clock.now += INTERVAL + 2500;
        },
      });
      await h.pipeline.start();
      try {
        const emit = h.pipeline.register({ type: "statsd", id: "local" });
        emit(text("a:1|c"), FORMAT_IDS.statsd);
        await h.pipeline.flush();
        assert.deepEqual(h.logs.filter((l) => l.includes("Flush took longer")), []);
        slow = true;
        emit(text("a:1|c\nb:2|c"), FORMAT_IDS.statsd);
        await h.pipeline.flush();
        const warnings = h.logs.filter((l) => l.includes("Flush took longer"));
        assert.equal(warnings.length, 1, h.logs.join("\n"));
        assert.match(
          warnings[0]!,
          new RegExp(
            `took_s=${(INTERVAL + 2500) / 1000} flush_interval_s=${INTERVAL / 1000} ` +
              `config_key=agent\\.flush_interval metrics=2 `,
          ),
        );
      } finally {
        await h.pipeline.stop();
      }
    });

    it("flush() merges counters, gauges, sets and timers exactly", async () => {
      const h = harness(workers);
      await h.pipeline.start();
      try {
        const emit = h.pipeline.register({ type: "statsd", id: "local" });
        assert.equal(emit(text("hits:1|c\nhits:2|c|@0.5"), FORMAT_IDS.statsd), true);
        assert.equal(emit(text("api.requests,env=prod:3|c"), FORMAT_IDS.statsd), true);
        emit(text("temp:10|g"), FORMAT_IDS.statsd);
        emit(text("temp:+5|g\ntemp:-3|g"), FORMAT_IDS.statsd);
        emit(text("users:a|s\nusers:b|s\nusers:a|s"), FORMAT_IDS.statsd);
        for (let v = 1; v <= 100; v++) emit(text(`lat:${v}|ms`), FORMAT_IDS.statsd);
        const result = await h.pipeline.flush();

        assert.equal(result.windowMs, T0);
        assert.deepEqual(h.flushed, [result]);
        assert.ok(result.metrics.every((m) => m.timeMs === T0 && m.intervalMs === INTERVAL));
        const points = byKey(result.metrics);
        assert.deepEqual(points["hits"], { kind: "counter", delta: 5, total: 5, rate: 0.5 });
        assert.deepEqual(points["api.requests\x00env\x01prod"], {
          kind: "counter",
          delta: 3,
          total: 3,
          rate: 0.3,
        });
        assert.deepEqual(points["temp"], { kind: "gauge", value: 12 });
        assert.deepEqual(points["users"], { kind: "set", count: 2 });
        assert.deepEqual(points["lat"], {
          kind: "summary",
          count: 100,
          sum: 5050,
          totalCount: 100,
          totalSum: 5050,
          min: 1,
          max: 100,
          mean: 50.5,
          quantiles: [{ q: 0.5, value: 50 }, { q: 0.9, value: 90 }, { q: 0.99, value: 99 }],
        });
        assert.equal(Object.keys(points).length, 5);
        assert.equal(h.pipeline.table.size, 5);
      } finally {
        await h.pipeline.stop();
      }
    });

    it("flush() keeps every kind of a tagged name, whichever worker saw which kind first", async () => {
      // Issue 11: a counter with DogStatsD tags, sent under a name also used as a timer, lost increments
      // (286 sent, 281 kept) when another worker's timer state won the merge.
      const h = harness(workers);
      await h.pipeline.start();
      try {
        const emit = h.pipeline.register({ type: "statsd", id: "local" });
        let sent = 0;
        for (let i = 0; i < 200; i++) {
          const value = 1 + (i % 5);
          const line = i % 3 === 0
            ? `api.calls:${value * 10}|ms|#env:prod`
            : `api.calls:${value}|c|#env:prod`;
          if (i % 3 !== 0) sent += value;
          emit(text(i % 7 === 0 ? `${line}\napi.calls:${value}|g|#env:prod` : line), FORMAT_IDS.statsd);
        }
        const result = await h.pipeline.flush();
        const kinds = Object.fromEntries(result.metrics.map((m) => [m.kind, m.point]));
        assert.deepEqual(Object.keys(kinds).sort(), ["counter", "gauge", "timer"]);
        assert.equal(kinds["counter"]!.kind === "counter" && kinds["counter"]!.delta, sent);
        assert.equal(kinds["timer"]!.kind === "summary" && kinds["timer"]!.count, 67);
        assert.equal(h.pipeline.table.size, 3);
        const dropped = h.stats.snapshot().find((f) => f.name === "tally_samples_dropped_total");
        assert.ok(dropped?.series.every((s) => s.value === 0), "nothing dropped");
      } finally {
        await h.pipeline.stop();
      }
    });

    it("flush() carries counter totals and gauges into the next window", async () => {
      const h = harness(workers);
      await h.pipeline.start();
      try {
        const emit = h.pipeline.register({ type: "statsd", id: "local" });
        emit(text("c:4|c\ng:7|g"), FORMAT_IDS.statsd);
        await h.pipeline.flush();
        // Frames are stamped by the window the last tick opened: a flush at the new time plays the tick.
        h.clock.now += INTERVAL;
        assert.deepEqual((await h.pipeline.flush()).metrics, []);
        emit(text("c:6|c\ng:+1|g"), FORMAT_IDS.statsd);
        const second = await h.pipeline.flush();
        assert.equal(second.windowMs, T0 + INTERVAL);
        const points = byKey(second.metrics);
        assert.deepEqual(points["c"], { kind: "counter", delta: 6, total: 10, rate: 0.6 });
        assert.deepEqual(points["g"], { kind: "gauge", value: 8 });
      } finally {
        await h.pipeline.stop();
      }
    });

    it("counts lines, bytes, bad lines by reason and events per input", async () => {
      const h = harness(workers);
      await h.pipeline.start();
      try {
        const a = h.pipeline.register({ type: "statsd", id: "a" });
        const b = h.pipeline.register({ type: "statsd", id: "b" });
        a(text("x:1|c\ngarbage\ny:1|zz"), FORMAT_IDS.statsd);
        b(text("_e{5,4}:title|text\nz:abc|c"), FORMAT_IDS.statsd);
        const result = await h.pipeline.flush();
        assert.deepEqual(result.events.map((e) => [e.kind, e.title, e.text]), [["event", "title", "text"]]);
        const received = "tally_component_received_events_total";
        assert.equal(selfValue(h.stats, received, { component_id: "a" }), 3);
        assert.equal(selfValue(h.stats, received, { component_id: "b" }), 2);
        assert.equal(selfValue(h.stats, "tally_component_received_bytes_total", { component_id: "a" }), 20);
        assert.equal(
          selfValue(h.stats, "tally_bad_lines_total", { component_id: "a", reason: "no_value" }),
          1,
        );
        assert.equal(
          selfValue(h.stats, "tally_bad_lines_total", { component_id: "a", reason: "unknown_type" }),
          1,
        );
        assert.equal(
          selfValue(h.stats, "tally_bad_lines_total", { component_id: "b", reason: "bad_value" }),
          1,
        );
        assert.equal(
          selfValue(h.stats, "tally_component_errors_total", { component_id: "a", error_type: "bad_line" }),
          2,
        );
        assert.equal(selfValue(h.stats, "tally_series_live"), 1);
        assert.equal(typeof selfValue(h.stats, "tally_flush_duration_seconds"), "number");
      } finally {
        await h.pipeline.stop();
      }
    });

    it("register() with labels counts each source of one input apart, labelled", async () => {
      const h = harness(workers);
      await h.pipeline.start();
      try {
        const x = h.pipeline.register({ type: "scripts", id: "s", labels: { script: "x" } });
        const y = h.pipeline.register({ type: "scripts", id: "s", labels: { script: "y" } });
        x(text("x:1|c\ngarbage"), FORMAT_IDS.statsd);
        y(text("y:1|c\ny:2|c\ny:3|c"), FORMAT_IDS.statsd);
        await h.pipeline.flush();
        const series = (name: string) =>
          h.stats.snapshot().find((f) => f.name === name)?.series.map((
            s,
          ) => [Object.fromEntries(s.labels), s.value]);
        const base = { component_id: "s", component_type: "scripts" };
        assert.deepEqual(series("tally_component_received_events_total"), [
          [{ ...base, script: "x" }, 2],
          [{ ...base, script: "y" }, 3],
        ]);
        assert.deepEqual(series("tally_bad_lines_total"), [[
          { ...base, reason: "no_value", script: "x" },
          1,
        ]]);
        assert.deepEqual(
          series("tally_component_errors_total")?.filter(([, value]) => value !== 0),
          [[{ ...base, error_type: "bad_line", script: "x" }, 1]],
        );
      } finally {
        await h.pipeline.stop();
      }
    });

    it("stop() flushes the open window once and later emits are dropped and counted", async () => {
      const h = harness(workers);
      await h.pipeline.start();
      const emit = h.pipeline.register({ type: "statsd", id: "local" });
      emit(text("last:1|c"), FORMAT_IDS.statsd);
      await Promise.all([h.pipeline.stop(), h.pipeline.stop()]);
      await h.pipeline.stop();
      assert.equal(h.flushed.length, 1);
      assert.deepEqual(byKey(h.flushed[0]!.metrics)["last"], {
        kind: "counter",
        delta: 1,
        total: 1,
        rate: 0.1,
      });
      assert.equal(emit(text("late:1|c"), FORMAT_IDS.statsd), false);
      assert.equal(
        selfValue(h.stats, "tally_component_dropped_events_total", {
          component_id: "local",
          reason: "stopped",
        }),
        1,
      );
    });

    it("the timer closes window W at W + interval and later frames go to the next window", async () => {
      const h = harness(workers, { intervalMs: 1000 });
      h.clock.now = T0 + 990; // 10 ms before the boundary
      const first = new Promise<FlushResult>((resolve) => {
        const check = setInterval(() => {
          if (h.flushed.length > 0) {
            clearInterval(check);
            resolve(h.flushed[0]!);
          }
        }, 2);
      });
      await h.pipeline.start();
      try {
        const emit = h.pipeline.register({ type: "statsd", id: "local" });
        emit(text("tick:1|c"), FORMAT_IDS.statsd);
        h.clock.now = T0 + 1001;
        const result = await first;
        assert.equal(result.windowMs, T0);
        assert.deepEqual(result.metrics.map((m) => [m.key, m.timeMs]), [["tick", T0]]);
        emit(text("tock:1|c"), FORMAT_IDS.statsd);
        const next = await h.pipeline.flush();
        assert.deepEqual(next.metrics.map((m) => [m.key, m.timeMs]), [["tock", T0 + 1000]]);
      } finally {
        await h.pipeline.stop();
      }
    });

    it("flush() expires idle series", async () => {
      const h = harness(workers, {
        aggregation: { percentiles: [50], exactLimit: 256, maxSeries: 1000, idleMs: 60_000 },
      });
      await h.pipeline.start();
      try {
        const emit = h.pipeline.register({ type: "statsd", id: "local" });
        emit(text("old:1|c"), FORMAT_IDS.statsd);
        await h.pipeline.flush();
        assert.equal(h.pipeline.table.size, 1);
        h.clock.now += 60_000;
        await h.pipeline.flush();
        emit(text("new:1|c"), FORMAT_IDS.statsd);
        await h.pipeline.flush();
        assert.deepEqual(h.pipeline.table.snapshot().map((m) => m.key), ["new"]);
      } finally {
        await h.pipeline.stop();
      }
    });
  });
}

describe("Pipeline (ring full)", () => {
  it("emit() drops and counts a frame when the rings are full, and warns once per interval", async () => {
    const h = harness(1, { ringBytes: 4096 });
    // Not started: no worker drains the ring.
    const emit = h.pipeline.register({ type: "statsd", id: "flood" });
    const frame = new Uint8Array(1000).fill(0x61);
    let accepted = 0;
    for (let i = 0; i < 10; i++) if (emit(frame, FORMAT_IDS.statsd)) accepted++;
    assert.equal(accepted, 4);
    assert.equal(
      selfValue(h.stats, "tally_component_dropped_events_total", {
        component_id: "flood",
        reason: "ring_full",
      }),
      6,
    );
    assert.equal(selfValue(h.stats, "tally_ring_fill_ratio", { worker: "0" }), 1);
    assert.equal(h.logs.filter((l) => l.includes("Pipeline rings full")).length, 1);
    await h.pipeline.stop();
  });

  it("emit() drops and counts a frame larger than half a ring apart from ring_full", async () => {
    const h = harness(1, { ringBytes: 4096 });
    await h.pipeline.start();
    try {
      const emit = h.pipeline.register({ type: "statsd", id: "big" });
      assert.equal(emit(new Uint8Array(5000), FORMAT_IDS.statsd), false);
      const dropped = "tally_component_dropped_events_total";
      assert.equal(selfValue(h.stats, dropped, { component_id: "big", reason: "frame_too_large" }), 1);
      assert.equal(selfValue(h.stats, dropped, { component_id: "big", reason: "ring_full" }), 0);
    } finally {
      await h.pipeline.stop();
    }
  });

  it("new Pipeline() rejects a negative worker count", () => {
    assert.throws(() => harness(-1), /Cannot create pipeline: workers must be 0 or more, got "-1"/);
  });
});
