/**
 * The consumer side of `tests/bench/ring.ts`: reads frames from the ring in `workerData.sab` and
 * counts them, until told to stop; then posts the totals.
 *
 * @module
 */

import { parentPort, workerData } from "node:worker_threads";
import { RingBuffer } from "../../src/pipeline/ring_buffer.ts";
import type { FrameVisitor } from "../../src/pipeline/ring_buffer.ts";

const ring = new RingBuffer((workerData as { sab: SharedArrayBuffer }).sab);
let stopping = false;
const counter: FrameVisitor & { frames: number; bytes: number; check: number } = {
  frames: 0,
  bytes: 0,
  check: 0,
  frame(_inputId, _format, _seq, _windowMs, bytes) {
    this.frames++;
    this.bytes += bytes.length;
    // Touch the bytes so the read is not optimised into nothing.
    if (bytes.length > 0) this.check ^= bytes[0]! ^ bytes[bytes.length - 1]!;
  },
};
parentPort!.on("message", () => {
  stopping = true;
});
while (!stopping) {
  if (ring.read(counter) === 0) await ring.wait(50);
  else if ((counter.frames & 0x3ff) === 0) await new Promise<void>((resolve) => setImmediate(resolve));
}
ring.read(counter);
parentPort!.postMessage({ frames: counter.frames, bytes: counter.bytes, check: counter.check });
