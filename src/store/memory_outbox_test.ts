import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { MemoryOutbox } from "./memory_outbox.ts";

function body(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

describe("MemoryOutbox", () => {
  it("returns records in order and drops them on ack", async () => {
    const outbox = new MemoryOutbox({ maxBytes: 1 << 20 });
    outbox.append([{ body: body("a"), events: 1 }, { body: body("b"), events: 2 }], 5);
    assert.equal(outbox.queuedRecords, 2);
    assert.equal(outbox.queuedBytes, 42);
    assert.equal(outbox.oldestTimeMs, 5);
    const first = outbox.peek()!;
    assert.equal(new TextDecoder().decode(first.body), "a");
    outbox.ack(first);
    outbox.ack(first);
    assert.equal(outbox.queuedRecords, 1);
    assert.equal(outbox.peek()!.events, 2);
    await outbox.close();
    assert.equal(outbox.peek(), undefined);
  });

  it("evicts the oldest records past the cap and reports them", () => {
    let evicted = { records: 0, events: 0, bytes: 0 };
    const outbox = new MemoryOutbox({
      maxBytes: 100,
      listener: {
        evicted(records, events, bytes) {
          evicted = {
            records: evicted.records + records,
            events: evicted.events + events,
            bytes: evicted.bytes + bytes,
          };
        },
        skipped() {},
      },
    });
    for (let i = 0; i < 5; i++) outbox.append([{ body: body(`r${i}`), events: 1 }], i);
    // Each record counts 22 bytes: four fit in 100.
    assert.deepEqual(evicted, { records: 1, events: 1, bytes: 22 });
    assert.equal(new TextDecoder().decode(outbox.peek()!.body), "r1");
    assert.ok(outbox.queuedBytes <= 100);
  });
});
