/**
 * Test fixture: reads `count` frames from the ring in `workerData.sab`, waiting with `wait()` when it is
 * empty, and posts a digest of everything it read. Used by the cross-thread test in `ring_buffer_test.ts`.
 *
 * @module
 */

import { parentPort, workerData } from "node:worker_threads";
import { RingBuffer } from "../ring_buffer.ts";
import type { FrameVisitor } from "../ring_buffer.ts";
import { frameDigest } from "./ring_digest.ts";

const { sab, count } = workerData as { sab: SharedArrayBuffer; count: number };
const ring = new RingBuffer(sab);
let digest = 0x811c9dc5;
let seen = 0;
let lastSeq = 0;
let ordered = true;
const visitor: FrameVisitor = {
  frame(inputId, format, seq, windowMs, bytes) {
    if (seq !== lastSeq + 1) ordered = false;
    lastSeq = seq;
    digest = frameDigest(digest, inputId, format, seq, windowMs, bytes);
    seen++;
  },
};
while (seen < count) {
  ring.read(visitor);
  if (seen < count) await ring.wait(1000);
}
parentPort!.postMessage({ seen, digest, ordered });
