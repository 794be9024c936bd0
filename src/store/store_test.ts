import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import type { Metric, Point } from "../model/metric.ts";
import type { Labels, SampleKind, TallyEvent } from "../model/sample.ts";
import { seriesKey } from "../model/series_key.ts";
import { Store, StoreError } from "./store.ts";

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tally-store-"));
  dirs.push(dir);
  return dir;
}

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function metric(
  name: string,
  labels: Labels,
  point: Point,
  timeMs: number,
  kind: SampleKind = point.kind === "summary" ? "timer" : point.kind,
): Metric {
  return { name, labels, key: seriesKey(name, labels), kind, point, timeMs, intervalMs: 10_000, startMs: T0 };
}

function gauge(value: number): Point {
  return { kind: "gauge", value };
}

function event(title: string, timeMs: number): TallyEvent {
  return { kind: "event", title, text: `${title} text`, timeMs, labels: [["host", "a"]], status: -1 };
}

describe("Store", () => {
  it("Store.open() creates the data directory and a WAL-mode tally.db", () => {
    const dir = join(tempDir(), "nested", "data");
    const store = Store.open(dir);
    store.close();
    const db = new DatabaseSync(join(dir, "tally.db"));
    const mode = db.prepare("PRAGMA journal_mode").get() as { journal_mode: string };
    const vacuum = db.prepare("PRAGMA auto_vacuum").get() as { auto_vacuum: number };
    db.close();
    assert.equal(mode.journal_mode, "wal");
    assert.equal(vacuum.auto_vacuum, 2);
  });

  it("Store.eventsToForward() holds events stored outside a flush until a released flush hands them over", () => {
    const store = Store.open(tempDir());
    const [pushed] = store.appendEvents([event("deploy", T0)], T0);
    const flush = { windowMs: T0, metrics: [], events: [event("from statsd", T0)] };
    // Events that came through the pipeline went to the outputs with their flush already.
    store.commitFlush(flush, { receivedMs: T0, release: false, forwarded: [pushed!] });
    assert.deepEqual(store.eventsToForward(10).map((e) => e.title), ["deploy"], "kept: a consumer failed");
    store.commitFlush(flush, { receivedMs: T0, release: true, forwarded: [pushed!] });
    assert.deepEqual(store.eventsToForward(10), []);
    // A change (a CoScale event closed) hands the event over again, as it stands now.
    store.updateEvent(pushed!, { end: T0 + 5000 });
    const [again] = store.eventsToForward(10);
    assert.equal(again?.end, T0 + 5000);
    assert.equal(store.events({ sinceMs: 0 }).length, 3);
    store.close();
  });

  it("Store.open() names the directory it cannot create", () => {
    const root = tempDir();
    writeFileSync(join(root, "file"), "x");
    const dir = join(root, "file", "data");
    assert.throws(() => Store.open(dir), (error: unknown) => {
      assert.ok(error instanceof StoreError);
      assert.match(error.message, /^Cannot create data directory "/);
      assert.ok(error.message.includes(`"${dir}"`), error.message);
      assert.ok(error.cause instanceof Error);
      return true;
    });
  });

  it("Store.append() round-trips a counter as delta with total and rate", () => {
    const store = Store.open(tempDir());
    store.append([metric("hits", [], { kind: "counter", delta: 5, total: 42, rate: 0.5 }, T0)]);
    const series = store.query({ name: "hits", sinceMs: 0 });
    store.close();
    assert.deepEqual(series, [{
      name: "hits",
      labels: {},
      kind: "counter",
      points: [{ t: T0, value: 5, fields: { total: 42, rate: 0.5 } }],
    }]);
  });

  it("Store.append() round-trips a cumulative series as its kind with delta, total and rate", () => {
    const store = Store.open(tempDir());
    const point: Point = { kind: "counter", delta: 30, total: 123_456, rate: 3 };
    store.append([metric("if_octets", [], point, T0, "cumulative")]);
    const series = store.query({ name: "if_octets", sinceMs: 0 });
    store.close();
    assert.deepEqual(series, [{
      name: "if_octets",
      labels: {},
      kind: "cumulative",
      points: [{ t: T0, value: 30, fields: { total: 123_456, rate: 3 } }],
    }]);
  });

  it("Store.append() round-trips a gauge and a set without fields", () => {
    const store = Store.open(tempDir());
    store.append([
      metric("temp", [["room", "a"]], gauge(21.5), T0),
      metric("users", [], { kind: "set", count: 7 }, T0),
    ]);
    assert.deepEqual(store.query({ name: "temp", sinceMs: 0 }), [
      { name: "temp", labels: { room: "a" }, kind: "gauge", points: [{ t: T0, value: 21.5 }] },
    ]);
    assert.deepEqual(store.query({ name: "users", sinceMs: 0 }), [
      { name: "users", labels: {}, kind: "set", points: [{ t: T0, value: 7 }] },
    ]);
    store.close();
  });

  it("Store.append() round-trips a summary with the median as value and every number in fields", () => {
    const store = Store.open(tempDir());
    const point: Point = {
      kind: "summary",
      count: 4,
      sum: 100,
      totalCount: 40,
      totalSum: 1000,
      min: 10,
      max: 40,
      mean: 25,
      quantiles: [{ q: 0.5, value: 20 }, { q: 0.9, value: 38 }, { q: 0.999, value: 40 }],
    };
    const noMedian: Point = { ...point, quantiles: [{ q: 0.99, value: 40 }] };
    store.append([
      metric("latency", [], point, T0),
      metric("latency", [], noMedian, T0 + 10_000),
    ]);
    const [series] = store.query({ name: "latency", sinceMs: 0 });
    store.close();
    assert.ok(series !== undefined);
    assert.equal(series.kind, "timer");
    assert.deepEqual(series.points, [
      {
        t: T0,
        value: 20,
        fields: {
          count: 4,
          sum: 100,
          totalCount: 40,
          totalSum: 1000,
          min: 10,
          max: 40,
          mean: 25,
          p50: 20,
          p90: 38,
          "p99.9": 40,
        },
      },
      {
        t: T0 + 10_000,
        value: 25,
        fields: { count: 4, sum: 100, totalCount: 40, totalSum: 1000, min: 10, max: 40, mean: 25, p99: 40 },
      },
    ]);
  });

  it("Store.append() keeps a counter and a gauge of the same name apart", () => {
    const store = Store.open(tempDir());
    store.append([
      metric("x", [], { kind: "counter", delta: 1, total: 1, rate: 0.1 }, T0),
      metric("x", [], gauge(9), T0),
    ]);
    const series = store.query({ name: "x", sinceMs: 0 });
    store.close();
    assert.deepEqual(series.map((s) => [s.kind, s.points[0]?.value]), [["counter", 1], ["gauge", 9]]);
  });

  it("Store.append() reads a NaN value back as NaN", () => {
    const store = Store.open(tempDir());
    store.append([metric("odd", [], gauge(NaN), T0)]);
    const value = store.query({ name: "odd", sinceMs: 0 })[0]?.points[0]?.value;
    store.close();
    assert.ok(Number.isNaN(value));
  });

  it("Store.append() stores every point of a 10 000-metric batch", () => {
    const store = Store.open(tempDir());
    const batch: Metric[] = [];
    for (let i = 0; i < 10_000; i++) {
      batch.push(metric("bulk", [["i", String(i % 1000)]], gauge(i), T0 + Math.floor(i / 1000) * 10_000));
    }
    store.append(batch);
    store.append(batch.map((m) => ({ ...m, timeMs: m.timeMs + 100_000 })));
    const series = store.query({ name: "bulk", sinceMs: 0 });
    store.close();
    assert.equal(series.length, 1000);
    assert.equal(series.reduce((n, s) => n + s.points.length, 0), 20_000);
    const i7 = series.find((s) => s.labels["i"] === "7");
    assert.deepEqual(i7?.points.slice(0, 2), [{ t: T0, value: 7 }, { t: T0 + 10_000, value: 1007 }]);
  });

  it("Store.append() rolls back the whole batch when one metric fails, and recovers after", () => {
    const store = Store.open(tempDir());
    const good = metric("fresh", [], gauge(1), T0);
    const bad = { ...metric("other", [], gauge(2), T0), point: { kind: "bogus" } } as unknown as Metric;
    assert.throws(() => store.append([good, bad]), (error: unknown) => {
      assert.ok(error instanceof StoreError);
      assert.match(error.message, /^Cannot append 2 metrics to store "/);
      return true;
    });
    assert.deepEqual(store.query({ name: "fresh", sinceMs: 0 }), []);
    // The series row of the failed batch is gone; its cached id must be too.
    store.append([good]);
    assert.deepEqual(store.query({ name: "fresh", sinceMs: 0 })[0]?.points, [{ t: T0, value: 1 }]);
    store.close();
  });

  it("Store.query() filters by exact label values", () => {
    const store = Store.open(tempDir());
    store.append([
      metric("req", [["env", "prod"], ["host", "a"]], gauge(1), T0),
      metric("req", [["env", "prod"], ["host", "b"]], gauge(2), T0),
      metric("req", [["env", "dev"], ["host", "a"]], gauge(3), T0),
      metric("req", [], gauge(4), T0),
    ]);
    const pick = (labels: Record<string, string>) =>
      store.query({ name: "req", sinceMs: 0, labels }).map((s) => s.points[0]?.value);
    assert.deepEqual(pick({ env: "prod" }), [1, 2]);
    assert.deepEqual(pick({ env: "prod", host: "b" }), [2]);
    assert.deepEqual(pick({ host: "a" }), [3, 1]);
    assert.deepEqual(pick({ env: "staging" }), []);
    assert.deepEqual(pick({ toString: "x" }), []);
    assert.deepEqual(pick({}), [4, 3, 1, 2], "sorted by series key");
    store.close();
  });

  it("Store.query() bounds points by since and until, inclusive, and limit keeps the newest", () => {
    const store = Store.open(tempDir());
    store.append([0, 1, 2, 3, 4].map((i) => metric("g", [], gauge(i), T0 + i * 10_000)));
    const times = (q: { sinceMs: number; untilMs?: number; limit?: number }) =>
      store.query({ name: "g", ...q })[0]?.points.map((p) => p.value) ?? [];
    assert.deepEqual(times({ sinceMs: T0 + 10_000 }), [1, 2, 3, 4]);
    assert.deepEqual(times({ sinceMs: T0 + 10_000, untilMs: T0 + 30_000 }), [1, 2, 3]);
    assert.deepEqual(times({ sinceMs: T0 + 10_001, untilMs: T0 + 29_999 }), [2]);
    assert.deepEqual(times({ sinceMs: 0, limit: 2 }), [3, 4]);
    assert.deepEqual(times({ sinceMs: T0 + 50_000 }), []);
    assert.deepEqual(
      store.query({ name: "g", sinceMs: T0 + 50_000 }),
      [],
      "a series with no points in range is left out",
    );
    assert.deepEqual(store.query({ name: "missing", sinceMs: 0 }), []);
    store.close();
  });

  it("Store.appendEvents() stamps events without a time with the arrival time", () => {
    const store = Store.open(tempDir());
    store.appendEvents([event("deploy", 0), event("restart", T0 - 5000)], T0);
    store.appendEvents([{ ...event("disk", 0), kind: "service_check", status: 2 }], T0 + 1000);
    const events = store.events({ sinceMs: 0 });
    store.close();
    assert.deepEqual(events.map((e) => [e.title, e.t, e.kind, e.status]), [
      ["disk", T0 + 1000, "service_check", 2],
      ["deploy", T0, "event", -1],
      ["restart", T0 - 5000, "event", -1],
    ]);
    assert.deepEqual(events[1]?.labels, { host: "a" });
    assert.equal(events[1]?.text, "deploy text");
  });

  it("Store.events() bounds by range and returns the newest up to the limit", () => {
    const store = Store.open(tempDir());
    store.appendEvents([1, 2, 3, 4, 5].map((i) => event(`e${i}`, T0 + i)), T0);
    assert.deepEqual(store.events({ sinceMs: T0 + 2, untilMs: T0 + 4 }).map((e) => e.title), [
      "e4",
      "e3",
      "e2",
    ]);
    assert.deepEqual(store.events({ sinceMs: 0, limit: 2 }).map((e) => e.title), ["e5", "e4"]);
    store.close();
  });

  it("Store.enforce() deletes points and events past retention, and empty series", () => {
    let now = T0;
    const store = Store.open(tempDir(), { retentionMs: 60_000, now: () => now });
    store.append([
      metric("old", [], gauge(1), T0 - 120_000),
      metric("mixed", [], gauge(2), T0 - 90_000),
      metric("mixed", [], gauge(3), T0 - 30_000),
    ]);
    store.appendEvents([event("ancient", T0 - 61_000), event("recent", T0 - 59_000)], T0);
    assert.deepEqual(store.enforce(), { deletedPoints: 2, deletedEvents: 1 });
    assert.deepEqual(store.query({ name: "old", sinceMs: 0 }), []);
    assert.deepEqual(store.query({ name: "mixed", sinceMs: 0 })[0]?.points, [{ t: T0 - 30_000, value: 3 }]);
    assert.deepEqual(store.events({ sinceMs: 0 }).map((e) => e.title), ["recent"]);
    // The "old" series row is gone; appending to it again must create it anew, not reuse a stale id.
    store.append([metric("old", [], gauge(4), T0)]);
    assert.deepEqual(store.query({ name: "old", sinceMs: 0 })[0]?.points, [{ t: T0, value: 4 }]);
    now = T0 + 500;
    assert.deepEqual(store.enforce(), { deletedPoints: 0, deletedEvents: 0 });
    store.close();
  });

  it("Store.enforce() keeps an event for the retention period after it ended, and an open one", () => {
    const store = Store.open(tempDir(), { retentionMs: 60_000, now: () => T0 });
    const [, long, open] = store.appendEvents([
      event("ended long ago", T0 - 200_000),
      { ...event("long deploy", T0 - 200_000), endMs: T0 - 30_000 },
      event("still running", T0 - 200_000),
    ], T0);
    store.updateEvent(open!, { end: null });
    assert.deepEqual(store.enforce(), { deletedPoints: 0, deletedEvents: 1 });
    assert.deepEqual(store.events({ sinceMs: 0 }).map((e) => [e.id, e.title]).sort(), [
      [long, "long deploy"],
      [open, "still running"],
    ]);
    store.close();
  });

  it("Store.enforce() deletes the oldest points until the store fits the size cap", () => {
    const maxBytes = 256 * 1024;
    const dir = tempDir();
    const store = Store.open(dir, { maxBytes, now: () => T0 + 3_600_000 });
    for (let w = 0; w < 40; w++) {
      const batch: Metric[] = [];
      for (let s = 0; s < 100; s++) {
        batch.push(
          metric(
            "cap",
            [["s", String(s)]],
            { kind: "counter", delta: w, total: w * s, rate: s },
            T0 + w * 10_000,
          ),
        );
      }
      store.append(batch);
    }
    const before = store.sizeBytes();
    assert.ok(before > maxBytes, `the test must start over the cap, was ${before}`);
    const result = store.enforce();
    const after = store.sizeBytes();
    const series = store.query({ name: "cap", sinceMs: 0 });
    store.close();
    assert.ok(after <= maxBytes, `size ${after} over cap ${maxBytes}`);
    // Incremental vacuum gave the free pages back: the file itself shrank, not just the live size.
    const fileBytes = statSync(join(dir, "tally.db")).size;
    assert.ok(fileBytes <= maxBytes, `file ${fileBytes} bytes over cap ${maxBytes}`);
    assert.ok(result.deletedPoints > 0 && result.deletedPoints < 4000, `deleted ${result.deletedPoints}`);
    assert.equal(result.deletedEvents, 0);
    const times = series.flatMap((s) => s.points.map((p) => p.t));
    const oldestKept = Math.min(...times);
    assert.equal(Math.max(...times), T0 + 39 * 10_000, "the newest window is kept");
    assert.ok(oldestKept > T0, "the oldest window is deleted");
    assert.equal(times.length, 4000 - result.deletedPoints);
    assert.equal(times.filter((t) => t < oldestKept).length, 0);
  });

  it("Store.open() on a closed store's directory keeps its data", () => {
    const dir = tempDir();
    const first = Store.open(dir);
    first.append([metric("kept", [["a", "1"]], gauge(5), T0)]);
    first.appendEvents([event("kept", T0)], T0);
    first.close();
    first.close();
    const second = Store.open(dir);
    second.append([metric("kept", [["a", "1"]], gauge(6), T0 + 10_000)]);
    const series = second.query({ name: "kept", sinceMs: 0 });
    const events = second.events({ sinceMs: 0 });
    second.close();
    assert.equal(series.length, 1, "the reopened store reuses the series row");
    assert.deepEqual(series[0]?.points.map((p) => p.value), [5, 6]);
    assert.deepEqual(events.map((e) => e.title), ["kept"]);
  });

  it("Store.open() read-only reads a live store, refuses writes and needs the file", () => {
    const dir = tempDir();
    assert.throws(
      () => Store.open(dir, { readOnly: true }),
      /^StoreError: Cannot open store ".*tally\.db": file not found$/,
    );
    const writer = Store.open(dir);
    writer.append([metric("live", [], gauge(1), T0)]);
    const reader = Store.open(dir, { readOnly: true });
    assert.equal(reader.query({ name: "live", sinceMs: 0 })[0]?.points[0]?.value, 1);
    writer.append([metric("live", [], gauge(2), T0 + 10_000)]);
    assert.equal(reader.query({ name: "live", sinceMs: 0 })[0]?.points.length, 2);
    assert.throws(() => reader.append([metric("live", [], gauge(3), T0)]), StoreError);
    reader.close();
    writer.close();
  });
});
