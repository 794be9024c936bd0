import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeValueLists } from "../inputs/collectd/_test_packets.ts";
import { FORMAT_IDS } from "../model/frame.ts";
import { seriesKey } from "../model/series_key.ts";
import { counterFinish } from "./aggregate/counter_reducer.ts";
import { cumulativeFinish } from "./aggregate/cumulative_reducer.ts";
import type { SinkPartial } from "./frame_sink.ts";
import { Pool, workerUrl } from "./pool.ts";

const T0 = 1_700_000_000_000;
const SINK = { intervalMs: 10_000, exactLimit: 64, maxSeries: 1000, maxEvents: 100 };

function bytes(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** The counter sums per series key across partials. */
function counters(partials: readonly SinkPartial[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of partials) {
    for (const bucket of p.aggregate.buckets) {
      for (const s of bucket.series) {
        if (s.state.kind === "counter") out[s.key] = (out[s.key] ?? 0) + counterFinish(s.state);
      }
    }
  }
  return out;
}

function lines(partials: readonly SinkPartial[]): number {
  return partials.reduce((n, p) => n + p.lines.reduce((m, l) => m + l.lines, 0), 0);
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(check(), "condition not reached within 5 s");
}

describe("workerUrl()", () => {
  it("workerUrl() points at the TypeScript worker when running from source", () => {
    assert.equal(
      workerUrl("file:///app/src/pipeline/pool.ts", "/app/src/main.ts").href,
      "file:///app/src/pipeline/worker_main.ts",
    );
  });

  it("workerUrl() points at worker_main.mjs beside the esbuild bundle", () => {
    assert.equal(
      workerUrl("file:///opt/tally/dist/tally.mjs", "/opt/tally/dist/tally.mjs").href,
      "file:///opt/tally/dist/worker_main.mjs",
    );
  });

  it("workerUrl() points at the extra entrypoint inside a compiled binary", () => {
    assert.equal(
      workerUrl("file:///$bunfs/root/tally", "/$bunfs/root/tally").href,
      "file:///$bunfs/root/pipeline/worker_main.js",
    );
  });

  it("workerUrl() finds the embedded worker from argv[1] when --bytecode reports source paths", () => {
    assert.equal(
      workerUrl("file:///build/src/pipeline/pool.ts", "/$bunfs/root/tally").href,
      "file:///$bunfs/root/pipeline/worker_main.js",
    );
  });
});

describe("Pool", () => {
  it("flush() collects what every worker aggregated", async () => {
    const pool = new Pool({ workers: 2, ringBytes: 1 << 16, whenFull: "drop", sink: SINK });
    await pool.start();
    try {
      for (let seq = 1; seq <= 200; seq++) {
        assert.equal(
          pool.write(seq % 3, FORMAT_IDS.statsd, seq, T0, bytes(`hits:1|c\nbytes:${seq}|c`)),
          true,
        );
      }
      const partials = await pool.flush(T0);
      assert.equal(partials.length, 2);
      assert.deepEqual(counters(partials), { hits: 200, bytes: 200 * 201 / 2 });
      assert.equal(lines(partials), 400);
      const again = await pool.flush(T0);
      assert.deepEqual(counters(again), {});
      assert.equal(lines(again), 0);
    } finally {
      await pool.stop();
    }
  });

  it("flush() joins a partial the worker handed over in pieces, reading frames between them", async () => {
    const pool = new Pool({
      workers: 1,
      ringBytes: 1 << 20,
      whenFull: "drop",
      sink: { ...SINK, maxSeries: 5000 },
    });
    await pool.start();
    try {
      // 2600 series in two windows: more than five pieces of CHUNK_SERIES.
      let seq = 0;
      for (let k = 0; k < 1300; k += 10) {
        const batch = Array.from({ length: 10 }, (_, i) => `s${k + i}:1|c`).join("\n");
        assert.equal(pool.write(0, FORMAT_IDS.statsd, ++seq, T0, bytes(batch)), true);
        assert.equal(pool.write(0, FORMAT_IDS.statsd, ++seq, T0 + 10_000, bytes(batch)), true);
      }
      const partials = await pool.flush(T0 + 10_000);
      const windows = partials[0]!.aggregate.buckets.map((b) => b.windowMs);
      assert.ok(windows.length > 2, "the buckets came in pieces");
      assert.deepEqual([...new Set(windows)], [T0, T0 + 10_000]);
      const perWindow = (ms: number) =>
        partials[0]!.aggregate.buckets.filter((b) => b.windowMs === ms).reduce(
          (n, b) => n + b.series.length,
          0,
        );
      assert.equal(perWindow(T0), 1300);
      assert.equal(perWindow(T0 + 10_000), 1300);
      assert.equal(Object.keys(counters(partials)).length, 1300);
      assert.equal(lines(partials), 2600);
    } finally {
      await pool.stop();
    }
  });

  it("flush() with a consumer hands it every series by name as the pieces arrive, flush after flush", async () => {
    const pool = new Pool({
      workers: 2,
      ringBytes: 1 << 20,
      whenFull: "drop",
      sink: { ...SINK, maxSeries: 5000 },
    });
    await pool.start();
    try {
      let seq = 0;
      const writeAll = (windowMs: number, value: number): void => {
        for (let k = 0; k < 1200; k += 10) {
          const batch = Array.from({ length: 10 }, (_, i) => `s${k + i},host=h${i % 2}:${value}|c`).join(
            "\n",
          );
          assert.equal(pool.write(0, FORMAT_IDS.statsd, ++seq, windowMs, bytes(batch)), true);
        }
      };
      const collect = async (
        windowMs: number,
      ): Promise<{ sums: Map<string, number>; partials: SinkPartial[] }> => {
        const sums = new Map<string, number>();
        const partials = await pool.flush(windowMs, (w, series, state) => {
          assert.equal(w, windowMs);
          assert.equal(series.key, seriesKey(series.name, series.labels));
          assert.equal(series.labels.length, 1);
          if (state.kind === "counter") {
            sums.set(series.key, (sums.get(series.key) ?? 0) + counterFinish(state));
          }
        });
        return { sums, partials };
      };
      writeAll(T0, 2);
      const first = await collect(T0);
      assert.equal(first.sums.size, 1200);
      assert.ok([...first.sums.values()].every((v) => v === 2));
      // The series came to the consumer, not in the partials; the counters still did.
      assert.deepEqual(first.partials.flatMap((p) => p.aggregate.buckets), []);
      assert.equal(lines(first.partials), 1200);
      // The second flush names nothing again: the pool's dictionary turns the numbers back into series.
      writeAll(T0 + 10_000, 3);
      const second = await collect(T0 + 10_000);
      assert.equal(second.sums.size, 1200);
      assert.ok([...second.sums.values()].every((v) => v === 3));
    } finally {
      await pool.stop();
    }
  });

  it("flush() leaves windows after upToWindowMs with the workers", async () => {
    const pool = new Pool({ workers: 1, ringBytes: 1 << 16, whenFull: "drop", sink: SINK });
    await pool.start();
    try {
      pool.write(0, FORMAT_IDS.statsd, 1, T0, bytes("a:1|c"));
      pool.write(0, FORMAT_IDS.statsd, 2, T0 + 10_000, bytes("a:5|c"));
      assert.deepEqual(counters(await pool.flush(T0)), { a: 1 });
      assert.deepEqual(counters(await pool.flush(T0 + 10_000)), { a: 5 });
    } finally {
      await pool.stop();
    }
  });

  it("write() returns false when every ring is full", async () => {
    const pool = new Pool({ workers: 1, ringBytes: 4096, whenFull: "drop", sink: SINK });
    // Not started: nothing drains the ring.
    const frame = new Uint8Array(1000);
    let written = 0;
    while (pool.write(0, FORMAT_IDS.statsd, written + 1, T0, frame)) written++;
    assert.equal(written, 4);
    assert.equal(pool.fill(0), 1);
    assert.deepEqual(await pool.stop(), []);
  });

  it("stop() drains the rings and hands over every window", async () => {
    const pool = new Pool({ workers: 2, ringBytes: 1 << 16, whenFull: "drop", sink: SINK });
    await pool.start();
    for (let seq = 1; seq <= 50; seq++) {
      pool.write(0, FORMAT_IDS.statsd, seq, T0 + (seq % 2) * 10_000, bytes("n:2|c"));
    }
    const partials = await pool.stop();
    assert.deepEqual(counters(partials), { n: 100 });
    assert.equal(await pool.stop(), partials);
  });

  it("restarts a crashed worker, counts it, and its successor answers the pending flush", async () => {
    const restarted: number[] = [];
    const pool = new Pool({
      workers: 2,
      ringBytes: 1 << 16,
      whenFull: "drop",
      sink: SINK,
      onRestart: (index) => restarted.push(index),
    });
    await pool.start();
    try {
      pool.crash(1);
      await until(() => pool.restarts === 1);
      assert.deepEqual(restarted, [1]);
      for (let seq = 1; seq <= 20; seq++) {
        assert.equal(pool.write(seq % 2, FORMAT_IDS.statsd, seq, T0, bytes("x:1|c")), true);
      }
      assert.deepEqual(counters(await pool.flush(T0)), { x: 20 });
    } finally {
      await pool.stop();
    }
  });

  it("passes the format options to every worker, restarted ones included", async () => {
    const typesDb = "tally_test value:COUNTER:0:U\n";
    const pool = new Pool({
      workers: 1,
      ringBytes: 1 << 16,
      whenFull: "drop",
      sink: { ...SINK, formats: { collectd: { typesDb } } },
    });
    const packet = (value: number): Uint8Array =>
      encodeValueLists([{
        host: "h",
        plugin: "p",
        type: "tally_test",
        time: 0,
        values: [{ type: "counter", value }],
      }]);
    /** The last raw value of each cumulative series, and the bad lines. */
    const seen = (partials: readonly SinkPartial[]): [Record<string, number>, number] => {
      const out: Record<string, number> = {};
      for (const p of partials) {
        for (const bucket of p.aggregate.buckets) {
          for (const s of bucket.series) {
            if (s.state.kind === "cumulative") out[s.key] = cumulativeFinish(s.state, NaN).last;
          }
        }
      }
      return [out, partials.reduce((n, p) => n + p.bad.reduce((m, b) => m + b.count, 0), 0)];
    };
    const key = "collectd_p_tally_test\u0000instance\u0001h";
    await pool.start();
    try {
      assert.equal(pool.write(0, FORMAT_IDS.collectd, 1, T0, packet(10)), true);
      assert.deepEqual(seen(await pool.flush(T0)), [{ [key]: 10 }, 0]);
      pool.crash(0);
      await until(() => pool.restarts === 1);
      assert.equal(pool.write(0, FORMAT_IDS.collectd, 2, T0, packet(25)), true);
      assert.deepEqual(seen(await pool.flush(T0)), [{ [key]: 25 }, 0]);
    } finally {
      await pool.stop();
    }
  });

  it("start() fails with the script's URL when the worker cannot load", async () => {
    const url = new URL("./testdata/missing_worker.ts", import.meta.url);
    const pool = new Pool({ workers: 1, ringBytes: 4096, whenFull: "drop", sink: SINK, url });
    await assert.rejects(pool.start(), /Cannot start worker pool from ".*missing_worker\.ts"/);
    assert.equal(pool.restarts, 0);
    assert.deepEqual(await pool.stop(), []);
  });
});
