/**
 * The worker entry point: drains its ring, and the UDP sockets handed to it, into a {@link FrameSink}
 * and answers the pool's control messages with partials.
 *
 * Started by `Pool` with `new Worker(workerUrl(), { workerData })`. The loop reads frames while there
 * are any, yields to the event loop every few thousand frames (so control messages get through under a
 * steady stream) and once the ring runs empty, and when it is still empty after that turn waits with
 * `Atomics.waitAsync`, which does not block the thread.
 *
 * With sockets attached the worker reads them too ({@link SocketReader}), and sleeps differently: while
 * data flows, after a read that drained every socket it blocks for {@link COALESCE_MS} (an `Atomics.wait`
 * that a frame in the ring cuts short) so that the next read gets a batch rather than a datagram; idle, it
 * blocks in `poll(2)` on the sockets for at most {@link IDLE_POLL_MS}. Control messages wait at most that
 * long, and at most {@link YIELD_EVERY_MS} while data flows.
 *
 * Protocol (all messages are plain data):
 * - worker → pool `{ kind: "ready" }` once the modules are loaded and the loop runs;
 * - pool → worker `{ kind: "flush", id, upToWindowMs, fold, writeIndex }`: read at least up to
 *   `writeIndex` (the producer's position when it closed the window, so every frame stamped with a window
 *   ≤ `upToWindowMs` is before it), then reply `{ kind: "partial", id, partial }` and reset the counters;
 *   with `fold`, the windows handed over are first merged into one. A partial of more than 500 series
 *   goes over in pieces, `{ kind: "chunk", id, piece }` then the `partial` with the last piece, and the
 *   worker reads its ring and sockets between two pieces; a piece names each series once and then refers
 *   to it by number (`_hand_over.ts` says why);
 * - pool → worker `{ kind: "stop", id }`: read everything, reply with every window, stop the loop (the
 *   pool then terminates the worker);
 * - pool → worker `{ kind: "attach", id, socket }` / `{ kind: "detach", id, fd }`: start or stop reading a
 *   UDP socket of an input, then reply `{ kind: "done", id }` (the pool closes a socket only after every
 *   worker let go of it), or `{ kind: "done", id, error }` for a socket this thread cannot read;
 * - pool → worker `{ kind: "crash" }`: throw, for the restart test (fault injection).
 *
 * No logging here: everything the worker sees is counted in the partials.
 *
 * @module
 */

import { parentPort, workerData } from "node:worker_threads";
import { detectRuntime } from "../runtime/detect.ts";
import { FrameSink } from "./frame_sink.ts";
import { RingBuffer } from "./ring_buffer.ts";
import { SharedStamp, SocketReader } from "./_socket_reader.ts";
import { handOver, SeriesNamer } from "./_hand_over.ts";
import { collectGarbage } from "../runtime/collect_garbage.ts";
import { warmUp, warmUpCollectd } from "./_warm_up.ts";
import type { WorkerInit, WorkerReply, WorkerRequest } from "./worker_messages.ts";

/** How long an idle worker sleeps before re-checking its ring (a write wakes it earlier). */
const IDLE_WAIT_MS = 1000;
/**
 * From how many series a hand-over is followed by a full garbage collection of the worker (see
 * `collect_garbage.ts`): each window's states outlive the young collections and die in the old generation
 * at the hand-over, and the engine let dead windows pile up there (the heap grew a window a flush, to about
 * twice what the last full collection kept) before it collected them itself.
 */
const COLLECT_AFTER_SERIES = 10_000;

/** How many frames a busy worker reads between two turns of its event loop (control messages wait that long). */
const YIELD_EVERY_FRAMES = 4096;
/** The longest a worker reading sockets goes without a turn of its event loop while data flows. */
const YIELD_EVERY_MS = 20;
/** While data flows, how long a worker that drained its sockets lets the next batch gather. */
const COALESCE_MS = 1;
/** How many empty coalescing sleeps in a row make a socket-reading worker idle. */
const IDLE_AFTER_SLEEPS = 20;
/** How long an idle worker with sockets blocks in poll(2) before it turns its event loop. */
const IDLE_POLL_MS = 20;

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
  const sockets = new SocketReader(detectRuntime(), new SharedStamp(init.stamp), sink);
  if (ring.recover()) sink.skipped(1);
  // The aggregator's numbers, which it starts over past twice the cap (room for the live series and as many
  // that came and went).
  const namer = new SeriesNamer(2 * init.sink.maxSeries, sink.numbers);
  let stopping = false;

  port.on("message", function onRequest(request: WorkerRequest): void {
    switch (request.kind) {
      case "flush": {
        do ring.read(sink); while (ring.behind(request.writeIndex));
        // Empty the sockets' kernel buffers first: taking and posting the partial takes a while.
        if (sockets.size > 0) sockets.read();
        const partial = sink.take(request.upToWindowMs, request.fold);
        let series = 0;
        for (const bucket of partial.aggregate.buckets) series += bucket.series.length;
        handOver(request.id, partial, { namer, between: readMore, post: reply });
        if (series >= COLLECT_AFTER_SERIES) {
          // The window just handed over is garbage in the old generation now: collect it before the next
          // one joins it, with the sockets' kernel buffers emptied first to absorb the pause.
          if (sockets.size > 0) sockets.read();
          collectGarbage();
        }
        break;
      }
      case "stop": {
        stopping = true;
        ring.read(sink);
        handOver(request.id, sink.take(Number.POSITIVE_INFINITY), {
          namer,
          between: () => ring.read(sink),
          post: reply,
        });
        break;
      }
      case "attach": {
        const id = request.id;
        // A socket this thread cannot read is refused, so that the main thread reads it rather than nobody.
        sockets.attach(request.socket).then(
          () => reply({ kind: "done", id }),
          (error: unknown) =>
            reply({ kind: "done", id, error: error instanceof Error ? error.message : String(error) }),
        );
        break;
      }
      case "detach": {
        const id = request.id;
        sockets.detach(request.fd).finally(() => reply({ kind: "done", id }));
        break;
      }
      case "crash":
        throw new Error(`Worker ${init.index} crashed on request`);
    }
  });

  function reply(message: WorkerReply): void {
    port.postMessage(message);
  }

  function readMore(): void {
    ring.read(sink);
    if (sockets.size > 0) sockets.read();
  }

  function turn(): Promise<void> {
    return new Promise<void>((resolve) => setImmediate(resolve));
  }

  async function loop(): Promise<void> {
    // Before any socket (the datagrams that came meanwhile would wait in the kernel, as a restarted worker's
    // do); then its garbage, which is most of the worker's heap at that point, goes at once.
    const warmed = warmUp(init.sink, init.warmUpLines).lines +
      warmUpCollectd(init.sink, init.warmUpValueLists).lines;
    if (warmed > 0) collectGarbage();
    // A successor takes its predecessor's sockets, which this same kind of thread could read a moment ago.
    for (const socket of init.sockets) await sockets.attach(socket).catch(() => {});
    reply({ kind: "ready" });
    let unyielded = 0;
    let lastTurn = performance.now();
    let emptySleeps = 0;
    while (!stopping) {
      const read = ring.read(sink) + (sockets.size > 0 ? sockets.read() : 0);
      if (sockets.size === 0) {
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
        await turn();
        continue;
      }
      if (read > 0) emptySleeps = 0;
      else emptySleeps++;
      if (performance.now() - lastTurn >= YIELD_EVERY_MS) {
        await turn();
        lastTurn = performance.now();
      } else if (emptySleeps >= IDLE_AFTER_SLEEPS) {
        // Idle: block until a datagram comes, and read it at once; after a quiet poll, let control
        // messages in.
        if (sockets.waitReadable(IDLE_POLL_MS)) {
          emptySleeps = 0;
          continue;
        }
        await turn();
        lastTurn = performance.now();
      } else if (!sockets.behind) {
        // Drained: let the next batch gather (a frame written to the ring ends the sleep early).
        ring.waitSync(COALESCE_MS);
      }
    }
    // The port stays open: the pool terminates the worker once it has the final partial.
  }

  void loop();
}
