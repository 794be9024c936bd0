/**
 * Ring throughput: how many frames per second the main thread can push through one SPSC ring to one
 * worker that reads them, per frame size. The producer spins on a full ring (backpressure), so the
 * figure is the slower of the two sides. A benchmark program, not a test:
 *
 * ```sh
 * bun tests/bench/ring.ts [--seconds 1] [--ring-bytes 4194304]
 * deno run -A tests/bench/ring.ts
 * ```
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { RingBuffer } from "../../src/pipeline/ring_buffer.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "1" },
    "ring-bytes": { type: "string", default: String(4 << 20) },
  },
});
const seconds = Number(values.seconds);
const ringBytes = Number(values["ring-bytes"]);
const SIZES = [32, 128, 512, 1400, 8192, 65507];

console.log(`ring ${ringBytes} bytes, ${seconds} s per size, one consumer thread`);
console.log("frame bytes     frames/s        MB/s   full spins/frame");
for (const size of SIZES) {
  const sab = RingBuffer.allocate(ringBytes);
  const ring = new RingBuffer(sab);
  const worker = new Worker(fileURLToPath(new URL("./_ring_consumer.ts", import.meta.url).href), {
    workerData: { sab },
  });
  await new Promise((resolve) => setTimeout(resolve, 100)); // let the worker load
  const frame = new Uint8Array(size).map((_, i) => i & 0xff);
  let frames = 0;
  let spins = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 1024; i++) {
      while (!ring.tryWrite(0, 1, frames + 1, 0, frame)) spins++;
      frames++;
    }
    now = performance.now();
  }
  const done = new Promise<{ frames: number; bytes: number }>((resolve) => worker.once("message", resolve));
  worker.postMessage("stop");
  ring.wake();
  const read = await done;
  const elapsed = (performance.now() - start) / 1000;
  await worker.terminate();
  if (read.frames !== frames) {
    throw new Error(`Consumer read "${read.frames}" frames but "${frames}" were written`);
  }
  const perSecond = frames / elapsed;
  console.log(
    `${String(size).padStart(11)} ${perSecond.toFixed(0).padStart(12)} ${
      (perSecond * size / 1e6).toFixed(1).padStart(11)
    }` +
      `${(spins / frames).toFixed(2).padStart(19)}`,
  );
}
