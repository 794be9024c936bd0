import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Metric } from "../model/metric.ts";
import { FORMAT_IDS } from "../model/frame.ts";
import { seriesKey } from "../model/series_key.ts";
import { Store, StoreError } from "./store.ts";

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const W = 10_000;
const dirs: string[] = [];
const encoder = new TextEncoder();

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tally-inbox-"));
  dirs.push(dir);
  return dir;
}

function gaugeAt(name: string, value: number, timeMs: number): Metric {
  return {
    name,
    labels: [],
    key: seriesKey(name, []),
    kind: "gauge",
    point: { kind: "gauge", value },
    timeMs,
    intervalMs: W,
    startMs: timeMs,
  };
}

function entry(text: string) {
  return { input: "http", format: FORMAT_IDS.statsd, bytes: encoder.encode(text) };
}

function windows(store: Store): number[] {
  return store.inboxRows().map((row) => row.windowMs);
}

describe("Store inbox", () => {
  it("Store.keepInbox() keeps frames across a reopen, byte for byte, oldest first", () => {
    const dir = tempDir();
    const store = Store.open(dir);
    assert.deepEqual(store.keepInbox([entry("a:1|c"), entry("b:2|g")], T0), [1, 2]);
    store.keepInbox(
      [{ input: "push", format: FORMAT_IDS.json, bytes: new Uint8Array([0, 255, 10]) }],
      T0 + W,
    );
    store.close();
    const reopened = Store.open(dir);
    const rows = reopened.inboxRows();
    reopened.close();
    assert.deepEqual(rows.map((r) => [r.id, r.windowMs, r.input, r.format, [...r.bytes]]), [
      [1, T0, "http", FORMAT_IDS.statsd, [...encoder.encode("a:1|c")]],
      [2, T0, "http", FORMAT_IDS.statsd, [...encoder.encode("b:2|g")]],
      [3, T0 + W, "push", FORMAT_IDS.json, [0, 255, 10]],
    ]);
  });

  it("Store.commitFlush() stores the window's points and lets go of the inbox rows up to it, together", () => {
    const store = Store.open(tempDir());
    store.keepInbox([entry("a")], T0 - W);
    store.keepInbox([entry("b")], T0);
    store.keepInbox([entry("c")], T0 + W);
    store.commitFlush({ windowMs: T0, metrics: [gaugeAt("g", 1, T0)], events: [] }, {
      receivedMs: T0,
      release: true,
    });
    assert.deepEqual(windows(store), [T0 + W], "the open window's row stays");
    assert.deepEqual(store.query({ name: "g", sinceMs: 0 })[0]?.points, [{ t: T0, value: 1 }]);
    store.close();
  });

  it("Store.commitFlush() of the last flush lets go of every row, later windows too", () => {
    const store = Store.open(tempDir());
    store.keepInbox([entry("a")], T0);
    store.keepInbox([entry("future")], T0 + 5 * W);
    store.commitFlush({ windowMs: T0, metrics: [], events: [], final: true }, {
      receivedMs: T0,
      release: true,
    });
    assert.deepEqual(windows(store), []);
    store.close();
  });

  it("Store.commitFlush() keeps the rows of a flush a consumer could not persist until the next start", () => {
    const store = Store.open(tempDir());
    store.keepInbox([entry("a")], T0);
    store.commitFlush({ windowMs: T0, metrics: [], events: [] }, { receivedMs: T0, release: false });
    store.keepInbox([entry("b")], T0 + W);
    store.commitFlush({ windowMs: T0 + W, metrics: [], events: [] }, { receivedMs: T0, release: true });
    assert.deepEqual(windows(store), [T0], "only the held window is left");
    store.close();
  });

  it("Store.commitFlush() stores nothing and keeps the inbox rows when the write fails", () => {
    const store = Store.open(tempDir());
    store.keepInbox([entry("a")], T0);
    const bad = { ...gaugeAt("g", 1, T0), labels: undefined } as unknown as Metric;
    assert.throws(
      () =>
        store.commitFlush({ windowMs: T0, metrics: [gaugeAt("ok", 2, T0), bad], events: [] }, {
          receivedMs: T0,
          release: true,
        }),
      (error) =>
        error instanceof StoreError && /Cannot store the flush of window \d+ in store/.test(error.message),
    );
    assert.deepEqual(store.query({ name: "ok", sinceMs: 0 }), [], "the whole flush was rolled back");
    store.commitFlush({ windowMs: T0 + W, metrics: [], events: [] }, { receivedMs: T0, release: true });
    assert.deepEqual(windows(store), [T0], "the failed window's row waits for the next start");
    store.close();
  });

  it("Store.dropInbox() deletes rows by id", () => {
    const store = Store.open(tempDir());
    const ids = store.keepInbox([entry("a"), entry("b"), entry("c")], T0);
    store.dropInbox([ids[0]!, ids[2]!]);
    assert.deepEqual(store.inboxRows().map((r) => r.id), [ids[1]]);
    store.close();
  });
});
