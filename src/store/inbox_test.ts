import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { createLogger } from "../internal/log.ts";
import { SelfStats } from "../internal/self_stats.ts";
import { FORMAT_IDS } from "../model/frame.ts";
import type { FormatId } from "../model/frame.ts";
import { Pipeline } from "../pipeline/pipeline.ts";
import type { FlushResult } from "../pipeline/pipeline.ts";
import { Inbox } from "./inbox.ts";
import type { InboxPipeline } from "./inbox.ts";
import { Store } from "./store.ts";

const T0 = 1_700_000_000_000;
const INTERVAL = 10_000;
const encoder = new TextEncoder();
const dirs: string[] = [];

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tally-inbox-"));
  dirs.push(dir);
  return dir;
}

/** A real pipeline (inline) whose flushes go through Store.commitFlush, as `tally run` wires it. */
function collector(store: Store, clock: { now: number }) {
  const flushed: FlushResult[] = [];
  const pipeline = new Pipeline({
    workers: 0,
    ringBytes: 1 << 20,
    intervalMs: INTERVAL,
    aggregation: { percentiles: [50], exactLimit: 256, maxSeries: 1000, idleMs: 300_000 },
    stats: new SelfStats(),
    log: createLogger({}, { write: () => {} }),
    now: () => clock.now,
    onFlush(result) {
      store.commitFlush(result, { receivedMs: clock.now, release: true });
      flushed.push(result);
    },
  });
  return { pipeline, flushed };
}

/** A pipeline stand-in whose ring room the test controls, recording what was emitted. */
class ScriptedPipeline implements InboxPipeline {
  windowMs = T0;
  maxFrameBytes = 100;
  room = true;
  readonly emitted: Array<[string, FormatId, number | undefined]> = [];
  fits(): boolean {
    return this.room;
  }
  emit = (bytes: Uint8Array, format: FormatId, windowMs?: number): boolean => {
    this.emitted.push([new TextDecoder().decode(bytes), format, windowMs]);
    return true;
  };
}

describe("Inbox", () => {
  it("Inbox acceptor commits every frame of one turn in one transaction, stamped with the open window", async () => {
    const store = Store.open(tempDir());
    const fake = new ScriptedPipeline();
    const stats = new SelfStats();
    const inbox = new Inbox(store, fake, { stats });
    const accept = inbox.acceptor("http", fake.emit);
    const results = await Promise.all(
      ["a:1|c", "b:2|c", "c:3|c"].map((text) => accept(encoder.encode(text), FORMAT_IDS.influx_line)),
    );
    assert.deepEqual(results, ["accepted", "accepted", "accepted"]);
    assert.deepEqual(fake.emitted.map(([text]) => text), ["a:1|c", "b:2|c", "c:3|c"]);
    assert.deepEqual(store.inboxRows().map((r) => [r.id, r.windowMs, r.input]), [
      [1, T0, "http"],
      [2, T0, "http"],
      [3, T0, "http"],
    ]);
    const counter = (name: string) => stats.snapshot().find((f) => f.name === name)?.series[0]?.value;
    assert.deepEqual([counter("tally_inbox_commits_total"), counter("tally_inbox_frames_total")], [1, 3]);
    store.close();
  });

  it("Inbox acceptor joins consecutive StatsD and JSON frames of one input into one frame and one row", async () => {
    const store = Store.open(tempDir());
    const fake = new ScriptedPipeline();
    fake.maxFrameBytes = 1 << 20;
    const inbox = new Inbox(store, fake);
    const http = inbox.acceptor("http", fake.emit);
    const other = inbox.acceptor("other", fake.emit);
    await Promise.all([
      http(encoder.encode("a:1|c"), FORMAT_IDS.statsd),
      http(encoder.encode("b:2|c\n"), FORMAT_IDS.statsd),
      http(encoder.encode('{"metrics":[]}'), FORMAT_IDS.json),
      http(encoder.encode('{"metrics":[1]}'), FORMAT_IDS.json),
      other(encoder.encode("c:3|c"), FORMAT_IDS.statsd),
      http(encoder.encode("m value=1"), FORMAT_IDS.influx_line),
      http(encoder.encode("n value=2"), FORMAT_IDS.influx_line),
    ]);
    assert.deepEqual(fake.emitted, [
      ["a:1|c\nb:2|c\n", FORMAT_IDS.statsd, undefined],
      ['{"metrics":[]}\n{"metrics":[1]}', FORMAT_IDS.json, undefined],
      ["c:3|c", FORMAT_IDS.statsd, undefined],
      ["m value=1", FORMAT_IDS.influx_line, undefined],
      ["n value=2", FORMAT_IDS.influx_line, undefined],
    ]);
    assert.deepEqual(
      store.inboxRows().map((r) => [r.input, new TextDecoder().decode(r.bytes)]),
      fake.emitted.map(([text], i) => [i === 2 ? "other" : "http", text]),
    );
    store.close();
  });

  it("Inbox acceptor makes a frame wait for ring room, then answers busy at the deadline, keeping order", async () => {
    const store = Store.open(tempDir());
    const fake = new ScriptedPipeline();
    const clock = { now: T0 };
    const inbox = new Inbox(store, fake, { waitMs: 50, now: () => clock.now });
    const accept = inbox.acceptor("http", fake.emit);
    fake.room = false;
    const first = accept(encoder.encode("first"), FORMAT_IDS.influx_line);
    const second = accept(encoder.encode("second"), FORMAT_IDS.influx_line);
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(fake.emitted.length, 0, "nothing is emitted or kept while there is no room");
    fake.room = true;
    assert.deepEqual(await Promise.all([first, second]), ["accepted", "accepted"]);
    assert.deepEqual(fake.emitted.map(([text]) => text), ["first", "second"]);
    fake.room = false;
    const late = accept(encoder.encode("late"), FORMAT_IDS.influx_line);
    clock.now += 51;
    assert.equal(await late, "busy");
    assert.equal(store.inboxRows().length, 2, "a busy frame leaves no row");
    store.close();
  });

  it("Inbox acceptor refuses a frame larger than a ring at once, and every frame after close()", async () => {
    const store = Store.open(tempDir());
    const fake = new ScriptedPipeline();
    const inbox = new Inbox(store, fake);
    const accept = inbox.acceptor("http", fake.emit);
    assert.equal(await accept(new Uint8Array(101), FORMAT_IDS.statsd), "too_large");
    fake.room = false;
    const waiting = accept(encoder.encode("x"), FORMAT_IDS.statsd);
    inbox.close();
    assert.equal(await waiting, "stopped");
    assert.equal(await accept(encoder.encode("y"), FORMAT_IDS.statsd), "stopped");
    assert.deepEqual(store.inboxRows(), []);
    store.close();
  });

  it("Inbox acceptor rejects every frame of a turn whose commit failed", async () => {
    const store = Store.open(tempDir());
    const fake = new ScriptedPipeline();
    const inbox = new Inbox(store, fake);
    const accept = inbox.acceptor("http", fake.emit);
    store.close();
    await assert.rejects(accept(encoder.encode("x"), FORMAT_IDS.statsd), /Cannot keep 1 frames in the inbox/);
  });

  it("Inbox frames survive a crash before their flush and are stored exactly once after the restart", async () => {
    const dir = tempDir();
    const clock = { now: T0 + 1234 };
    // First run: frames accepted into window T0, then the process dies before any flush (no stop()).
    const first = Store.open(dir);
    const run1 = collector(first, clock);
    await run1.pipeline.start();
    const inbox1 = new Inbox(first, run1.pipeline);
    const accept = inbox1.acceptor("http", run1.pipeline.register({ type: "http", id: "http" }));
    assert.equal(await accept(encoder.encode("jobs:3|c\ntemp:21.5|g"), FORMAT_IDS.statsd), "accepted");
    assert.equal(await accept(encoder.encode("jobs:4|c"), FORMAT_IDS.statsd), "accepted");
    inbox1.close();
    first.close();
    // Second run, three windows later: the replay goes back into window T0, and the first flush stores it.
    clock.now = T0 + 3 * INTERVAL + 5;
    const second = Store.open(dir);
    const run2 = collector(second, clock);
    const inbox2 = new Inbox(second, run2.pipeline);
    const emit = run2.pipeline.register({ type: "http", id: "http" });
    let replayed = 0;
    await run2.pipeline.start(async () => {
      replayed = await inbox2.replay(() => emit);
    });
    assert.equal(replayed, 2);
    await run2.pipeline.flush();
    const points = (name: string) =>
      second.query({ name, sinceMs: 0 }).map((s) => s.points.map((p) => [p.t, p.value]));
    assert.deepEqual(points("jobs"), [[[T0, 7]]]);
    assert.deepEqual(points("temp"), [[[T0, 21.5]]]);
    assert.deepEqual(second.inboxRows(), [], "the flush let go of the replayed rows");
    await run2.pipeline.stop();
    assert.deepEqual(points("jobs"), [[[T0, 7]]], "nothing stored twice");
    await run1.pipeline.stop();
    second.close();
  });
});
