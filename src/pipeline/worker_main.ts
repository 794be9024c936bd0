/**
 * The worker entry point: drains its ring into a {@link FrameSink} and answers the pool's control
 * messages with partials.
 *
 * Started by `Pool` with `new Worker(workerUrl(), { workerData })`. The loop reads frames while there
 * are any, yields to the event loop every few thousand frames (so control messages get through under a
 * steady stream) and once the ring runs empty, and when it is still empty after that turn waits with
 * `Atomics.waitAsync`, which does not block the thread.
 *
 * Protocol (all messages are plain data):
 * - worker → pool `{ kind: "ready" }` once the modules are loaded and the loop runs;
 * - pool → worker `{ kind: "flush", id, upToWindowMs, writeIndex }`: read at least up to `writeIndex`
 *   (the producer's position when it closed the window, so every frame stamped with a window
 *   ≤ `upToWindowMs` is before it), then reply `{ kind: "partial", id, partial }` and reset the counters;
 * - pool → worker `{ kind: "stop", id }`: read everything, reply with every window, stop the loop (the
 *   pool then terminates the worker);
 * - pool → worker `{ kind: "crash" }`: throw, for the restart test (fault injection).
 *
 * No logging here: everything the worker sees is counted in the partials.
 *
 * @module
 */

import { parentPort, workerData } from "node:worker_threads";
import { FrameSink } from "./frame_sink.ts";
import type { FrameSinkOptions, SinkPartial } from "./frame_sink.ts";
import { RingBuffer } from "./ring_buffer.ts";

/** What the pool passes in `workerData`. */
export interface WorkerInit {
  /** The worker's ring. */
  readonly sab: SharedArrayBuffer;
  /** The worker's index in the pool. */
  readonly index: number;
  /** How the worker aggregates, and the format options it builds its format table from. */
  readonly sink: FrameSinkOptions;
}

/** A control message from the pool. */
export type WorkerRequest =
  | {
    readonly kind: "flush";
    /** Matches the reply to the request. */
    readonly id: number;
    /** The newest window to hand over. */
    readonly upToWindowMs: number;
    /** The producer's position when it closed the window. */
    readonly writeIndex: number;
  }
  | {
    readonly kind: "stop";
    /** Matches the reply to the request. */
    readonly id: number;
  }
  | { readonly kind: "crash" };

/** A message from the worker. */
export type WorkerReply =
  | { readonly kind: "ready" }
  | {
    readonly kind: "partial";
    /** The id of the request answered. */
    readonly id: number;
    /** What the worker aggregated and counted. */
    readonly partial: SinkPartial;
  };

/** How long an idle worker sleeps before re-checking its ring (a write wakes it earlier). */
const IDLE_WAIT_MS = 1000;
/** How many frames a busy worker reads between two turns of its event loop (control messages wait that long). */
const YIELD_EVERY_FRAMES = 4096;

if (parentPort !== null && workerData !== null && typeof workerData === "object" && "sab" in workerData) {
  runWorker(workerData as WorkerInit);
}

/**
 * Runs the worker loop until a stop request.
 *
 * @param init The worker's ring and options.
 */
function runWorker(init: WorkerInit): void {
  const port = parentPort!;
  const ring = new RingBuffer(init.sab);
  const sink = new FrameSink(init.sink);
  if (ring.recover()) sink.skipped(1);
  let stopping = false;

  port.on("message", function onRequest(request: WorkerRequest): void {
    switch (request.kind) {
      case "flush": {
        do ring.read(sink); while (ring.behind(request.writeIndex));
        reply({ kind: "partial", id: request.id, partial: sink.take(request.upToWindowMs) });
        break;
      }
      case "stop": {
        stopping = true;
        ring.read(sink);
        reply({ kind: "partial", id: request.id, partial: sink.take(Number.POSITIVE_INFINITY) });
        break;
      }
      case "crash":
        throw new Error(`Worker ${init.index} crashed on request`);
    }
  });

  function reply(message: WorkerReply): void {
    port.postMessage(message);
  }

  async function loop(): Promise<void> {
    reply({ kind: "ready" });
    let unyielded = 0;
    while (!stopping) {
      const read = ring.read(sink);
      if (read > 0) {
        unyielded += read;
        if (unyielded < YIELD_EVERY_FRAMES) continue;
      } else if (unyielded === 0) {
        // Still empty after a turn of the event loop: sleep until the producer writes.
        await ring.wait(IDLE_WAIT_MS);
        continue;
      }
      // A macrotask boundary lets a flush request in under a steady stream, and gives the producer a
      // moment to write more before this thread goes to sleep.
      unyielded = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // The port stays open: the pool terminates the worker once it has the final partial.
  }

  void loop();
}
