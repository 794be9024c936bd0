import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { RECORD_HEADER_BYTES, RING_HEADER_BYTES, RING_MIN_CAPACITY, RingBuffer } from "./ring_buffer.ts";
import type { FrameVisitor } from "./ring_buffer.ts";
import { seededRandom } from "./aggregate/_seeded_random.ts";
import { frameDigest } from "./testdata/ring_digest.ts";

interface Read {
  readonly inputId: number;
  readonly format: number;
  readonly seq: number;
  readonly windowMs: number;
  readonly bytes: Uint8Array;
}

function collector(): FrameVisitor & { readonly frames: Read[] } {
  const frames: Read[] = [];
  return {
    frames,
    frame(inputId, format, seq, windowMs, bytes) {
      frames.push({ inputId, format, seq, windowMs, bytes: bytes.slice() });
    },
  };
}

function filled(length: number, start: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = (start + i) & 0xff;
  return bytes;
}

describe("RingBuffer", () => {
  it("RingBuffer.allocate() rounds the data region down to a power of two", () => {
    const sab = RingBuffer.allocate(100_000);
    assert.equal(sab.byteLength, RING_HEADER_BYTES + 65536);
    assert.equal(new RingBuffer(sab).capacity, 65536);
    assert.equal(new RingBuffer(RingBuffer.allocate(10)).capacity, RING_MIN_CAPACITY);
    assert.throws(() => RingBuffer.allocate(0), /Cannot allocate a ring of "0" bytes/);
  });

  it("new RingBuffer() rejects a buffer without a ring header", () => {
    assert.throws(
      () => new RingBuffer(new SharedArrayBuffer(8192)),
      /Cannot open ring: header says capacity "0"/,
    );
  });

  it("read() returns the frames written, fields and bytes intact", () => {
    const ring = new RingBuffer(RingBuffer.allocate(RING_MIN_CAPACITY));
    assert.equal(ring.tryWrite(7, 1, 1, 1_700_000_000_000, new TextEncoder().encode("a:1|c")), true);
    assert.equal(ring.tryWrite(65535, 255, 2 ** 40, 1_700_000_010_000, new Uint8Array(0)), true);
    const sink = collector();
    assert.equal(ring.read(sink), 2);
    assert.deepEqual(sink.frames, [
      {
        inputId: 7,
        format: 1,
        seq: 1,
        windowMs: 1_700_000_000_000,
        bytes: new TextEncoder().encode("a:1|c"),
      },
      { inputId: 65535, format: 255, seq: 2 ** 40, windowMs: 1_700_000_010_000, bytes: new Uint8Array(0) },
    ]);
    assert.equal(ring.read(sink), 0);
    assert.equal(ring.fill, 0);
  });

  it("tryWrite() returns false when full and succeeds again once read", () => {
    const ring = new RingBuffer(RingBuffer.allocate(RING_MIN_CAPACITY));
    const frame = new Uint8Array(1000); // 1024 bytes with its header
    for (let i = 0; i < 4; i++) assert.equal(ring.tryWrite(0, 1, i + 1, 0, frame), true);
    assert.equal(ring.fill, 1);
    assert.equal(ring.tryWrite(0, 1, 5, 0, new Uint8Array(1)), false);
    const sink = collector();
    assert.equal(ring.read(sink), 4);
    assert.equal(ring.tryWrite(0, 1, 5, 0, frame), true);
  });

  it("tryWrite() refuses a frame larger than the ring", () => {
    const ring = new RingBuffer(RingBuffer.allocate(RING_MIN_CAPACITY));
    assert.equal(ring.tryWrite(0, 1, 1, 0, new Uint8Array(RING_MIN_CAPACITY)), false);
    assert.equal(ring.tryWrite(0, 1, 1, 0, new Uint8Array(ring.maxFrameBytes)), true);
  });

  it("tryWrite() wraps a record that does not fit before the end to offset 0", () => {
    const ring = new RingBuffer(RingBuffer.allocate(RING_MIN_CAPACITY));
    const sink = collector();
    // 3000 bytes in use, then read: the next 1500-byte frame cannot fit in the last 1096 bytes.
    assert.equal(ring.tryWrite(0, 1, 1, 0, filled(3000 - RECORD_HEADER_BYTES, 1)), true);
    ring.read(sink);
    assert.equal(ring.tryWrite(1, 1, 2, 0, filled(1500, 2)), true);
    assert.equal(ring.tryWrite(2, 1, 3, 0, filled(100, 3)), true);
    // The skipped tail counts as used until the reader passes it.
    assert.ok(ring.fill > (1500 + 100 + 2 * RECORD_HEADER_BYTES) / RING_MIN_CAPACITY);
    assert.equal(ring.read(sink), 2);
    assert.deepEqual(sink.frames.slice(1).map((f) => [f.inputId, f.bytes]), [[1, filled(1500, 2)], [
      2,
      filled(100, 3),
    ]]);
    assert.equal(ring.fill, 0);
  });

  it("tryWrite() refuses a wrapping record when the skipped tail plus the record exceed the free space", () => {
    const ring = new RingBuffer(RingBuffer.allocate(RING_MIN_CAPACITY));
    const sink = collector();
    ring.tryWrite(0, 1, 1, 0, new Uint8Array(3000 - RECORD_HEADER_BYTES));
    ring.read(sink);
    ring.tryWrite(0, 1, 2, 0, new Uint8Array(800));
    // Free: 4096 - 824 = 3272; the tail before the end is 272 bytes, so 3008 + 272 > 3272 but 2904 + 272 fits.
    assert.equal(ring.tryWrite(0, 1, 3, 0, new Uint8Array(3008 - RECORD_HEADER_BYTES)), false);
    assert.equal(ring.tryWrite(0, 1, 3, 0, new Uint8Array(2900 - RECORD_HEADER_BYTES)), true);
    assert.equal(ring.read(sink), 2);
    assert.deepEqual(sink.frames.map((f) => f.seq), [1, 2, 3]);
  });

  it("read() round-trips many random-sized frames byte-exact across many wraps", () => {
    const random = seededRandom(42);
    const ring = new RingBuffer(RingBuffer.allocate(16384));
    const sink = collector();
    const written: Read[] = [];
    let seq = 0;
    for (let round = 0; round < 400; round++) {
      const burst = 1 + Math.floor(random() * 12);
      for (let i = 0; i < burst; i++) {
        const length = Math.floor(random() * random() * 3000);
        const frame = {
          inputId: Math.floor(random() * 65536),
          format: 1,
          seq: seq + 1,
          windowMs: round * 10_000,
          bytes: filled(length, seq),
        };
        if (ring.tryWrite(frame.inputId, frame.format, frame.seq, frame.windowMs, frame.bytes)) {
          written.push(frame);
          seq++;
        }
      }
      if (random() < 0.7) ring.read(sink);
    }
    ring.read(sink);
    assert.ok(written.length > 1000, `only ${written.length} frames written`);
    assert.deepEqual(sink.frames, written);
  });

  it("read() keeps working when the 32-bit positions wrap around", () => {
    const sab = RingBuffer.allocate(RING_MIN_CAPACITY);
    const header = new Int32Array(sab, 0, RING_HEADER_BYTES / 4);
    // Start both positions just below 2^31 and let them run past it (and negative as int32).
    header[0] = 0x7fffff00;
    header[16] = 0x7fffff00;
    const ring = new RingBuffer(sab);
    const sink = collector();
    for (let i = 1; i <= 50; i++) {
      assert.equal(ring.tryWrite(0, 1, i, 0, filled(200, i)), true);
      ring.read(sink);
    }
    assert.ok(ring.readIndex < 0);
    assert.deepEqual(
      sink.frames.map((f) => f.bytes),
      Array.from({ length: 50 }, (_, i) => filled(200, i + 1)),
    );
  });

  it("behind() tells whether the reader has reached a producer position", () => {
    const ring = new RingBuffer(RingBuffer.allocate(RING_MIN_CAPACITY));
    ring.tryWrite(0, 1, 1, 0, new Uint8Array(10));
    const position = ring.writeIndex;
    ring.tryWrite(0, 1, 2, 0, new Uint8Array(10));
    assert.equal(ring.behind(position), true);
    ring.read(collector());
    assert.equal(ring.behind(position), false);
  });

  it("recover() skips the frame a dead consumer was handling", () => {
    const sab = RingBuffer.allocate(RING_MIN_CAPACITY);
    const producer = new RingBuffer(sab);
    for (let i = 1; i <= 3; i++) producer.tryWrite(0, 1, i, 0, filled(10, i));
    const dying = new RingBuffer(sab);
    assert.throws(() =>
      dying.read({
        frame(_inputId, _format, seq) {
          if (seq === 2) throw new Error("Poison frame");
        },
      })
    );
    const next = new RingBuffer(sab);
    assert.equal(next.recover(), true);
    assert.equal(next.recover(), false);
    const sink = collector();
    next.read(sink);
    assert.deepEqual(sink.frames.map((f) => f.seq), [3]);
  });

  it("wait() resolves when the producer writes", async () => {
    const ring = new RingBuffer(RingBuffer.allocate(RING_MIN_CAPACITY));
    const waiting = ring.wait(10_000);
    setTimeout(() => ring.tryWrite(0, 1, 1, 0, new Uint8Array(3)), 5);
    await waiting;
    assert.equal(ring.read(collector()), 1);
  });

  it("wait() resolves at once when frames are already there", async () => {
    const ring = new RingBuffer(RingBuffer.allocate(RING_MIN_CAPACITY));
    ring.tryWrite(0, 1, 1, 0, new Uint8Array(3));
    await ring.wait(10_000);
    assert.equal(ring.read(collector()), 1);
  });

  it("carries frames byte-exact to a consumer on another thread", async () => {
    const count = 20_000;
    const sab = RingBuffer.allocate(32768);
    const ring = new RingBuffer(sab);
    const worker = new Worker(
      fileURLToPath(new URL("./testdata/ring_reader_worker.ts", import.meta.url).href),
      {
        workerData: { sab, count },
      },
    );
    try {
      const done = new Promise<{ seen: number; digest: number; ordered: boolean }>((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      });
      const random = seededRandom(7);
      let digest = 0x811c9dc5;
      for (let seq = 1; seq <= count; seq++) {
        const bytes = filled(Math.floor(random() * 1500), seq);
        const inputId = seq % 5;
        const windowMs = Math.floor(seq / 1000) * 10_000;
        while (!ring.tryWrite(inputId, 1, seq, windowMs, bytes)) {
          await new Promise((resolve) => setImmediate(resolve));
        }
        digest = frameDigest(digest, inputId, 1, seq, windowMs, bytes);
      }
      const result = await done;
      assert.deepEqual(result, { seen: count, digest, ordered: true });
    } finally {
      await worker.terminate();
    }
  });
});
