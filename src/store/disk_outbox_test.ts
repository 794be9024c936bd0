import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DiskOutbox } from "./disk_outbox.ts";
import { PositionFile } from "./_outbox_position.ts";
import type { OutboxListener, SkipReason } from "./outbox.ts";

const root = mkdtempSync(join(tmpdir(), "tally-outbox-"));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

const FORMAT = "test/1";

/** A listener that records what it was told. */
function recorder() {
  const evicted = { records: 0, events: 0, bytes: 0 };
  const skipped: Array<{ reason: SkipReason; bytes: number; segment: string }> = [];
  const listener: OutboxListener = {
    evicted(records, events, bytes) {
      evicted.records += records;
      evicted.events += events;
      evicted.bytes += bytes;
    },
    skipped(reason, bytes, segment) {
      skipped.push({ reason, bytes, segment });
    },
  };
  return { listener, evicted, skipped };
}

function body(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** Peeks and acks until empty; returns the bodies as text. */
function drain(outbox: DiskOutbox): string[] {
  const out: string[] = [];
  for (let entry = outbox.peek(); entry !== undefined; entry = outbox.peek()) {
    out.push(text(entry.body));
    outbox.ack(entry);
  }
  return out;
}

function freshDir(): string {
  return join(root, `outbox-${dirs++}`);
}

/** Writes a position as a crashed process would have left it. */
function setPosition(dir: string, seq: number, offset: number): void {
  const file = new PositionFile(join(dir, "position"));
  file.write({ seq, offset });
  file.write({ seq, offset });
  file.close();
}

function segments(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith(".seg")).sort();
}

describe("DiskOutbox", () => {
  it("returns records in append order, the same entry until acknowledged", async () => {
    const outbox = DiskOutbox.open({ dir: freshDir(), format: FORMAT, maxBytes: 1 << 20 });
    outbox.append([{ body: body("a"), events: 1 }, { body: body("bb"), events: 2 }], 1000);
    outbox.append([{ body: body("ccc"), events: 3 }], 2000);
    assert.equal(outbox.queuedRecords, 3);
    assert.equal(outbox.oldestTimeMs, 1000);
    const first = outbox.peek();
    assert.equal(outbox.peek(), first);
    assert.deepEqual({ body: text(first!.body), events: first!.events, timeMs: first!.timeMs }, {
      body: "a",
      events: 1,
      timeMs: 1000,
    });
    outbox.ack(first!);
    assert.deepEqual(drain(outbox), ["bb", "ccc"]);
    assert.equal(outbox.queuedRecords, 0);
    assert.equal(outbox.oldestTimeMs, undefined);
    assert.equal(outbox.peek(), undefined);
    await outbox.close();
  });

  it("keeps what append wrote without close (a kill -9) and replays it in order after the last ack", async () => {
    const dir = freshDir();
    const crashed = DiskOutbox.open({ dir, format: FORMAT, maxBytes: 1 << 20 });
    for (let i = 0; i < 5; i++) crashed.append([{ body: body(`r${i}`), events: 1 }], 1000 + i);
    crashed.ack(crashed.peek()!);
    // No close(): the process "dies" here.
    const reopened = DiskOutbox.open({ dir, format: FORMAT, maxBytes: 1 << 20 });
    assert.equal(reopened.queuedRecords, 4);
    assert.equal(reopened.oldestTimeMs, 1001);
    reopened.append([{ body: body("after"), events: 1 }], 2000);
    assert.deepEqual(drain(reopened), ["r1", "r2", "r3", "r4", "after"]);
    await reopened.close();
    await crashed.close();
  });

  it("deletes a segment once it is consumed and finished, and starts a new segment after a restart", async () => {
    const dir = freshDir();
    const outbox = DiskOutbox.open({ dir, format: FORMAT, maxBytes: 1 << 20 });
    outbox.append([{ body: body("one"), events: 1 }], 1);
    await outbox.close();
    const again = DiskOutbox.open({ dir, format: FORMAT, maxBytes: 1 << 20 });
    again.append([{ body: body("two"), events: 1 }], 2);
    assert.equal(segments(dir).length, 2);
    assert.deepEqual(drain(again), ["one", "two"]);
    assert.equal(segments(dir).length, 1, "the finished first segment is gone, the open one stays");
    await again.close();
  });

  it("evicts whole segments oldest first past the cap and counts records, events and bytes", async () => {
    const dir = freshDir();
    const { listener, evicted } = recorder();
    // 100-byte bodies are 120-byte records; a 64 KiB segment holds about 545 of them.
    const outbox = DiskOutbox.open({ dir, format: FORMAT, maxBytes: 256 * 1024, listener });
    const payload = "x".repeat(90);
    for (let flush = 0; flush < 300; flush++) {
      const records = Array.from({ length: 10 }, (_, i) => ({
        body: body(`${String(flush * 10 + i).padStart(10, "0")}${payload}`),
        events: 3,
      }));
      outbox.append(records, flush);
    }
    const onDisk = segments(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
    assert.ok(onDisk <= 256 * 1024, `files take ${onDisk} bytes`);
    assert.ok(evicted.records > 0);
    assert.equal(evicted.records + outbox.queuedRecords, 3000);
    assert.equal(evicted.events, evicted.records * 3);
    assert.ok(evicted.bytes >= evicted.records * 120);
    const left = drain(outbox).map((s) => Number(s.slice(0, 10)));
    assert.equal(left[0], evicted.records, "the oldest went first");
    assert.deepEqual(left, Array.from({ length: left.length }, (_, i) => evicted.records + i));
    await outbox.close();
  });

  it("evicts the record being sent too, oldest first, and ignores its late ack", async () => {
    const dir = freshDir();
    const { listener, evicted } = recorder();
    const outbox = DiskOutbox.open({
      dir,
      format: FORMAT,
      maxBytes: 4 * 64 * 1024,
      segmentBytes: 64 * 1024,
      listener,
    });
    outbox.append([{ body: body("head"), events: 7 }], 0);
    const head = outbox.peek()!;
    const payload = "y".repeat(1000);
    for (let i = 0; i < 400; i++) outbox.append([{ body: body(payload), events: 1 }], i + 1);
    assert.ok(evicted.records > 0);
    assert.equal(evicted.events, evicted.records - 1 + 7, "the head's 7 events are among them");
    assert.notEqual(outbox.peek(), head, "peek moved on: the sender can tell");
    const queued = outbox.queuedRecords;
    outbox.ack(head);
    assert.equal(outbox.queuedRecords, queued);
    await outbox.close();
  });

  it("skips a truncated newest segment (a torn write) after a restart and goes on with new records", async () => {
    const dir = freshDir();
    const { listener, skipped } = recorder();
    const outbox = DiskOutbox.open({ dir, format: FORMAT, maxBytes: 1 << 20 });
    outbox.append([{ body: body("kept-1"), events: 1 }, { body: body("kept-2"), events: 1 }], 1);
    outbox.append([{ body: body("torn-record"), events: 1 }], 2);
    await outbox.close();
    const [segment] = segments(dir);
    const path = join(dir, segment!);
    truncateSync(path, statSync(path).size - 4);
    const reopened = DiskOutbox.open({ dir, format: FORMAT, maxBytes: 1 << 20, listener });
    assert.equal(reopened.queuedRecords, 2, "the scan counts the intact records only");
    reopened.append([{ body: body("new"), events: 1 }], 3);
    assert.deepEqual(drain(reopened), ["kept-1", "kept-2", "new"]);
    assert.deepEqual(skipped, [{ reason: "truncated", bytes: 20 + 11 - 4, segment: segment! }]);
    await reopened.close();
  });

  it("skips the rest of a segment whose record fails its checksum, keeping the next segment", async () => {
    const dir = freshDir();
    const { listener, skipped } = recorder();
    const first = DiskOutbox.open({ dir, format: FORMAT, maxBytes: 1 << 20 });
    first.append([{ body: body("good"), events: 1 }, { body: body("rotten"), events: 1 }], 1);
    first.append([{ body: body("lost-with-it"), events: 1 }], 1);
    await first.close();
    const second = DiskOutbox.open({ dir, format: FORMAT, maxBytes: 1 << 20 });
    second.append([{ body: body("next-segment"), events: 1 }], 2);
    await second.close();
    const [older] = segments(dir);
    const path = join(dir, older!);
    const bytes = readFileSync(path);
    const at = bytes.indexOf("rotten");
    bytes[at] = bytes[at]! ^ 0xff;
    writeFileSync(path, bytes);
    const reopened = DiskOutbox.open({ dir, format: FORMAT, maxBytes: 1 << 20, listener });
    assert.deepEqual(drain(reopened), ["good", "next-segment"]);
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0]!.reason, "corrupt");
    assert.equal(skipped[0]!.bytes, 20 + 6 + 20 + 12);
    await reopened.close();
  });

  it("skips a segment of another format, and one without the magic", async () => {
    const dir = freshDir();
    const { listener, skipped } = recorder();
    const old = DiskOutbox.open({ dir, format: "other/9", maxBytes: 1 << 20 });
    old.append([{ body: body("foreign"), events: 1 }], 1);
    await old.close();
    writeFileSync(join(dir, `${"5".padStart(20, "0")}.seg`), "not an outbox segment at all");
    const reopened = DiskOutbox.open({ dir, format: FORMAT, maxBytes: 1 << 20, listener });
    reopened.append([{ body: body("mine"), events: 1 }], 2);
    assert.deepEqual(drain(reopened), ["mine"]);
    assert.deepEqual(skipped.map((s) => s.reason), ["format", "corrupt"]);
    await reopened.close();
  });

  it("removes a consumed segment left by a crash between the position update and the unlink", async () => {
    const dir = freshDir();
    const first = DiskOutbox.open({ dir, format: FORMAT, maxBytes: 1 << 20 });
    first.append([{ body: body("consumed"), events: 1 }], 1);
    await first.close();
    const second = DiskOutbox.open({ dir, format: FORMAT, maxBytes: 1 << 20 });
    second.append([{ body: body("pending"), events: 1 }], 2);
    await second.close();
    const [consumed, pending] = segments(dir);
    setPosition(dir, Number(pending!.slice(0, 20)), 0);
    const reopened = DiskOutbox.open({ dir, format: FORMAT, maxBytes: 1 << 20 });
    assert.ok(!segments(dir).includes(consumed!));
    assert.deepEqual(drain(reopened), ["pending"]);
    await reopened.close();
  });

  it("moves on when the position names a deleted segment or lies past a segment's end", async () => {
    const dir = freshDir();
    const first = DiskOutbox.open({ dir, format: FORMAT, maxBytes: 1 << 20 });
    first.append([{ body: body("short"), events: 1 }], 1);
    await first.close();
    const [segment] = segments(dir);
    // A power cut kept the position but not the segment's tail: the offset lies past the file's end.
    setPosition(dir, Number(segment!.slice(0, 20)), 10_000);
    const reopened = DiskOutbox.open({ dir, format: FORMAT, maxBytes: 1 << 20 });
    reopened.append([{ body: body("later"), events: 1 }], 2);
    assert.deepEqual(drain(reopened), ["later"]);
    await reopened.close();
    // Segment 0 is long gone: reading resumes at the oldest segment there is (at-least-once).
    setPosition(dir, 0, 50);
    const again = DiskOutbox.open({ dir, format: FORMAT, maxBytes: 1 << 20 });
    again.append([{ body: body("still"), events: 1 }], 3);
    assert.deepEqual(drain(again), ["later", "still"]);
    await again.close();
  });

  it("replays from the oldest segment when the position file is unreadable", async () => {
    const dir = freshDir();
    const first = DiskOutbox.open({ dir, format: FORMAT, maxBytes: 1 << 20 });
    first.append([{ body: body("a"), events: 1 }, { body: body("b"), events: 1 }], 1);
    first.ack(first.peek()!);
    await first.close();
    writeFileSync(join(dir, "position"), "torn".repeat(16));
    const reopened = DiskOutbox.open({ dir, format: FORMAT, maxBytes: 1 << 20 });
    assert.deepEqual(drain(reopened), ["a", "b"], "at-least-once: the acknowledged record comes again");
    await reopened.close();
  });

  it("reports a record larger than the cap as evicted without writing it", async () => {
    const dir = freshDir();
    const { listener, evicted } = recorder();
    const outbox = DiskOutbox.open({ dir, format: FORMAT, maxBytes: 1000, listener });
    outbox.append([{ body: new Uint8Array(2000), events: 5 }, { body: body("fits"), events: 1 }], 1);
    assert.deepEqual(evicted, { records: 1, events: 5, bytes: 2020 });
    assert.deepEqual(drain(outbox), ["fits"]);
    await outbox.close();
  });

  it("refuses use after close", async () => {
    const outbox = DiskOutbox.open({ dir: freshDir(), format: FORMAT, maxBytes: 1 << 20 });
    await outbox.close();
    await outbox.close();
    assert.throws(
      () => outbox.append([{ body: body("x"), events: 1 }], 1),
      /Cannot use outbox .*: it is closed/,
    );
  });
});
