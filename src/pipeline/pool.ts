/**
 * The worker pool: N workers, each with its own SPSC ring, that parse and aggregate the frames the
 * main thread writes; at each flush the pool collects one partial per worker.
 *
 * A worker that dies (an uncaught error, a crash of the runtime's thread) is restarted on the same ring
 * and counted; requests it had not answered are sent to its successor, which reads the ring from where
 * the dead one stopped (skipping the frame it died on). What the dead worker had aggregated but not yet
 * handed over is lost.
 *
 * @module
 */

import process from "node:process";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { collectYoungGarbage } from "../runtime/collect_garbage.ts";
import { workerHeapOptions } from "../runtime/worker_heap.ts";
import type { FrameSinkOptions, SinkPartial } from "./frame_sink.ts";
import { RingBuffer } from "./ring_buffer.ts";
import type { Piece, WorkerInit, WorkerReply, WorkerRequest } from "./worker_messages.ts";
import { SharedStamp, type SocketAttachment } from "./_socket_reader.ts";
import { type SeriesConsumer, SeriesDictionary } from "./_hand_over.ts";
import type { PartialBucket } from "./aggregate/aggregator.ts";

/** What to do with a frame when every ring is full. Only dropping (and counting) exists for now. */
export type WhenFull = "drop";

/**
 * How frames are spread over the rings: `least_filled` (the default) keeps a light stream on one worker
 * and spreads a heavy one by backlog; `round_robin` alternates every frame (the worst case for the
 * merge, which the property test uses).
 */
export type Balance = "least_filled" | "round_robin";

/** How a pool is sized and what its workers do. */
export interface PoolOptions {
  /** The number of workers, at least 1. */
  readonly workers: number;
  /** The size of each worker's ring in bytes (rounded down to a power of two). */
  readonly ringBytes: number;
  /** The policy when every ring is full. */
  readonly whenFull: WhenFull;
  /** How frames are spread over the rings; `least_filled` by default. */
  readonly balance?: Balance;
  /** How each worker aggregates, and the format options it builds its format table from. */
  readonly sink: FrameSinkOptions;
  /** Called after a worker died, before its successor starts. */
  readonly onRestart?: (index: number, error: unknown) => void;
  /**
   * The pipeline's shared sequence and window ({@link SharedStamp}), which workers stamp the datagrams
   * they read from sockets with; a fresh one when absent.
   */
  readonly stamp?: SharedArrayBuffer;
  /** The worker script; {@link workerUrl} when absent. */
  readonly url?: URL;
  /**
   * The made-up StatsD lines each worker parses before it is ready, so that its JIT has compiled the
   * StatsD path before the first datagram (`_warm_up.ts`); none when absent.
   */
  readonly warmUpLines?: number;
  /** The same for the collectd path: made-up value lists (`warmUpCollectd`); none when absent. */
  readonly warmUpValueLists?: number;
}

/** The virtual root of the files embedded in a `bun build --compile` executable. */
const BUNFS_ROOT = "/$bunfs/root/";

/**
 * After how many streamed pieces the pool runs a young collection (`collectYoungGarbage`): 20 pieces are
 * at most 10 000 series, a few MiB of states that are garbage once merged.
 */
const YOUNG_COLLECT_EVERY_PIECES = 20;

/** How long to wait before restarting a worker that died before it was ready (e.g. could not load). */
const RESTART_BACKOFF_MS = 1000;

/**
 * Resolves the worker script for the way tally is running. The one place that knows the build layout:
 *
 * 1. From source (`bun src/main.ts`, `deno run src/main.ts`, tests): this module is
 *    `src/pipeline/pool.ts`, and the worker is `./worker_main.ts` beside it.
 * 2. The esbuild bundle: this code is inside `dist/tally.mjs`, and `build/bundle.ts` emits the worker
 *    as `dist/worker_main.mjs` beside it.
 * 3. A `bun build --compile` binary: `import.meta.url` is the executable (`file:///$bunfs/root/tally`,
 *    no extension), and the worker is the extra entrypoint `src/pipeline/worker_main.ts`, which Bun
 *    stores as `pipeline/worker_main.js` under the same root (paths are relative to the entrypoints'
 *    common directory, `src/`). Compiled with `--bytecode`, Bun 1.4 reports the module's original source
 *    path as `import.meta.url` instead, so the executable's virtual root is recognised from `argv[1]`.
 *
 * @param base The URL of the calling module; `import.meta.url` of this file by default.
 * @param script The running script, `process.argv[1]`; `/$bunfs/root/tally` inside a compiled binary.
 * @returns The URL of the worker entry.
 */
export function workerUrl(base: string = import.meta.url, script: string | undefined = process.argv[1]): URL {
  if (script !== undefined && script.startsWith(BUNFS_ROOT)) {
    return new URL(`file://${BUNFS_ROOT}pipeline/worker_main.js`);
  }
  const path = new URL(base).pathname;
  if (path.endsWith(".ts")) return new URL("./worker_main.ts", base);
  if (path.endsWith(".mjs") || path.endsWith(".js")) return new URL("./worker_main.mjs", base);
  return new URL("./pipeline/worker_main.js", base);
}

interface _Pending {
  readonly request: WorkerRequest & { readonly id: number };
  /** Takes the series of a flush or stop as they arrive; when absent, they are joined into the partial. */
  readonly consumer: SeriesConsumer | undefined;
  /** Takes the partial of a flush or stop; `undefined` for attach and detach, or when no worker answers. */
  readonly resolve: (partial: SinkPartial | undefined) => void;
  /** Takes the worker's refusal of the request (an attach it could not carry out). */
  readonly reject: (error: Error) => void;
}

interface _Slot {
  readonly index: number;
  readonly sab: SharedArrayBuffer;
  readonly ring: RingBuffer;
  worker: Worker | undefined;
  ready: boolean;
  everReady: boolean;
  error: unknown;
  readonly pending: Map<number, _Pending>;
  /** The buckets of partials that arrive in pieces, by request id, when the request has no consumer. */
  readonly pieces: Map<number, PartialBucket[]>;
  /** The names of the running worker's series (a new one for each worker started). */
  dictionary: SeriesDictionary;
}

/**
 * A pool of parsing and aggregating workers.
 *
 * @example
 * ```ts
 * const pool = new Pool({ workers: 2, ringBytes: 4 << 20, whenFull: "drop",
 *   sink: { intervalMs: 10_000, exactLimit: 256, maxSeries: 100_000, maxEvents: 10_000 } });
 * await pool.start();
 * pool.write(inputId, FORMAT_IDS.statsd, seq, windowMs, bytes) || countDrop();
 * const partials = await pool.flush(windowMs);
 * await pool.stop();
 * ```
 */
export class Pool {
  readonly #options: PoolOptions;
  readonly #url: URL;
  readonly #slots: _Slot[];
  readonly #roundRobin: boolean;
  readonly #stamp: SharedArrayBuffer;
  /** The sockets handed over, by descriptor, with the worker that reads each. */
  readonly #sockets = new Map<number, { readonly socket: SocketAttachment; readonly reader: number }>();
  #current = 0;
  #nextId = 1;
  /** Streamed pieces read, for {@link YOUNG_COLLECT_EVERY_PIECES}. */
  #piecesRead = 0;
  #restarts = 0;
  #started = false;
  #stopping = false;
  #stopped: Promise<SinkPartial[]> | undefined;

  /**
   * Allocates the rings; no thread starts before {@link Pool.start}.
   *
   * @param options The size, ring size and worker options.
   * @throws {RangeError} When `workers` is not a positive integer or the ring size is invalid.
   */
  constructor(options: PoolOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new RangeError(`Cannot create worker pool: expected at least 1 worker, got "${options.workers}"`);
    }
    this.#options = options;
    this.#url = options.url ?? workerUrl();
    this.#roundRobin = options.balance === "round_robin";
    this.#stamp = options.stamp ?? SharedStamp.allocate();
    this.#slots = [];
    for (let index = 0; index < options.workers; index++) {
      const sab = RingBuffer.allocate(options.ringBytes);
      this.#slots.push({
        index,
        sab,
        ring: new RingBuffer(sab),
        worker: undefined,
        ready: false,
        everReady: false,
        error: undefined,
        pending: new Map(),
        pieces: new Map(),
        dictionary: new SeriesDictionary(),
      });
    }
  }

  /** The number of workers. */
  get size(): number {
    return this.#slots.length;
  }

  /** How many times a worker was restarted. */
  get restarts(): number {
    return this.#restarts;
  }

  /** The largest frame a ring always accepts when it is empty. */
  get maxFrameBytes(): number {
    return this.#slots[0]!.ring.maxFrameBytes;
  }

  /**
   * Starts every worker and resolves once all are ready.
   *
   * @throws {Error} When a worker cannot start (its script fails to load).
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    try {
      await Promise.all(this.#slots.map((slot) => this.#spawn(slot)));
    } catch (error) {
      this.#stopping = true;
      this.#stopped = Promise.resolve([]);
      await Promise.all(this.#slots.map((slot) => slot.worker?.terminate()));
      throw new Error(`Cannot start worker pool from "${this.#url.href}"`, { cause: error });
    }
  }

  /**
   * Copies one frame into a ring: with `least_filled`, the one with the least unread bytes (the last one
   * used on a tie, so a light stream keeps one worker busy rather than waking all of them); with
   * `round_robin`, the next one. When that ring has no room, any other ring that has.
   *
   * @param inputId The input index.
   * @param format The format id.
   * @param seq The arrival sequence.
   * @param windowMs The window stamp.
   * @param bytes The bytes; copied.
   * @returns `false` when no ring had room (the `when_full = "drop"` policy: the caller counts it).
   */
  write(inputId: number, format: number, seq: number, windowMs: number, bytes: Uint8Array): boolean {
    const slots = this.#slots;
    let best = this.#current;
    if (this.#roundRobin) {
      best = best + 1 === slots.length ? 0 : best + 1;
    } else if (slots.length > 1) {
      let least = slots[best]!.ring.fill;
      for (let i = 0; i < slots.length && least > 0; i++) {
        const fill = slots[i]!.ring.fill;
        if (fill < least) {
          least = fill;
          best = i;
        }
      }
    }
    if (slots[best]!.ring.tryWrite(inputId, format, seq, windowMs, bytes)) {
      this.#current = best;
      return true;
    }
    // The least-filled ring may still lack contiguous room for a large frame where another has it.
    for (let i = 0; i < slots.length; i++) {
      if (i !== best && slots[i]!.ring.tryWrite(inputId, format, seq, windowMs, bytes)) {
        this.#current = i;
        return true;
      }
    }
    return false;
  }

  /**
   * Whether {@link Pool.write} would take a frame of `length` bytes now.
   *
   * @param length The frame's length in bytes.
   * @returns True when some ring has room for it.
   */
  fits(length: number): boolean {
    for (const slot of this.#slots) if (slot.ring.fits(length)) return true;
    return false;
  }

  /**
   * The fill level of one worker's ring, for `tally_ring_fill_ratio`.
   *
   * @param index The worker index.
   * @returns The used fraction in [0, 1].
   */
  fill(index: number): number {
    return this.#slots[index]?.ring.fill ?? 0;
  }

  /**
   * Asks every worker for its windows up to `upToWindowMs` and its counters. Call it after the stamp
   * for new frames moved past `upToWindowMs`: each request carries the ring's write position now.
   *
   * With a `consumer`, every series goes to it as its piece arrives (so the caller merges while the
   * workers still send, and no piece outlives its message), and the partials come back without buckets;
   * without one, each partial holds its series.
   *
   * @param upToWindowMs The newest window to collect.
   * @param consumer Receives the series as they arrive.
   * @param fold Whether each worker merges its windows up to `upToWindowMs` into one, stamped with it.
   * @returns One partial per worker.
   */
  flush(upToWindowMs: number, consumer?: SeriesConsumer, fold = false): Promise<SinkPartial[]> {
    return Promise.all(
      this.#slots.map(async (slot) =>
        await this.#request(slot, {
          kind: "flush",
          id: this.#nextId++,
          upToWindowMs,
          fold,
          writeIndex: slot.ring.writeIndex,
        }, consumer) ?? emptyPartial()
      ),
    );
  }

  /**
   * Hands a UDP socket to one worker (the one reading the fewest), which reads it itself from then on
   * (and its successor after a restart). One reader per socket keeps the datagrams' sequence numbers in
   * the order the kernel queued them: two workers reading one socket take their sequence numbers after
   * their reads return, so a later datagram could get the earlier number and a gauge's older value win.
   * Resolves once the worker reads it.
   *
   * @param socket The descriptor, the input it belongs to, the format of its datagrams and its counters.
   * @throws {Error} When the worker cannot read it (its thread has no FFI, say); then no worker holds it.
   */
  async attach(socket: SocketAttachment): Promise<void> {
    const load = this.#slots.map(() => 0);
    for (const { reader } of this.#sockets.values()) load[reader]!++;
    const reader = load.indexOf(Math.min(...load));
    this.#sockets.set(socket.fd, { socket, reader });
    try {
      await this.#request(this.#slots[reader]!, { kind: "attach", id: this.#nextId++, socket });
    } catch (error) {
      this.#sockets.delete(socket.fd);
      throw new Error(`Worker ${reader} cannot read socket ${socket.fd}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  /**
   * Makes the worker reading a socket let go of it; the caller may close it once this resolves.
   *
   * @param fd The descriptor.
   */
  async detach(fd: number): Promise<void> {
    const attached = this.#sockets.get(fd);
    if (attached === undefined) return;
    this.#sockets.delete(fd);
    await this.#request(this.#slots[attached.reader]!, { kind: "detach", id: this.#nextId++, fd });
  }

  /**
   * Drains every ring, collects every window and stops the workers. Idempotent.
   *
   * @param consumer Receives the series as they arrive, as in {@link Pool.flush}; the first call's counts.
   * @returns One final partial per worker (empty when the pool never started).
   */
  stop(consumer?: SeriesConsumer): Promise<SinkPartial[]> {
    this.#stopped ??= this.#stopAll(consumer);
    return this.#stopped;
  }

  /**
   * Makes one worker throw, to exercise the restart path (fault injection for tests).
   *
   * @param index The worker index.
   */
  crash(index: number): void {
    this.#slots[index]?.worker?.postMessage({ kind: "crash" } satisfies WorkerRequest);
  }

  async #stopAll(consumer: SeriesConsumer | undefined): Promise<SinkPartial[]> {
    if (!this.#started) return [];
    this.#stopping = true;
    const partials = await Promise.all(
      this.#slots.map(async (slot) =>
        await this.#request(slot, { kind: "stop", id: this.#nextId++ }, consumer) ?? emptyPartial()
      ),
    );
    await Promise.all(this.#slots.map((slot) => slot.worker?.terminate()));
    return partials;
  }

  #request(
    slot: _Slot,
    request: WorkerRequest & { readonly id: number },
    consumer?: SeriesConsumer,
  ): Promise<SinkPartial | undefined> {
    return new Promise((resolve, reject) => {
      if ((this.#stopping || !this.#started) && slot.worker === undefined) {
        // Not started, or died during shutdown and will not be restarted: what it held is lost.
        resolve(undefined);
        return;
      }
      slot.pending.set(request.id, { request, consumer, resolve, reject });
      if (slot.ready) {
        slot.worker!.postMessage(request);
        slot.ring.wake();
      }
    });
  }

  /** Hands a piece's series to the request's consumer, or keeps them for its partial. */
  #takePiece(slot: _Slot, id: number, piece: Piece): void {
    const consumer = slot.pending.get(id)?.consumer;
    // Read even when nobody waits (a request answered twice after a restart): the names must be learnt.
    if (consumer !== undefined) {
      slot.dictionary.read(piece, consumer);
      if (++this.#piecesRead % YOUNG_COLLECT_EVERY_PIECES === 0) collectYoungGarbage();
      return;
    }
    const buckets = slot.dictionary.buckets(piece);
    if (!slot.pending.has(id)) return;
    const kept = slot.pieces.get(id);
    if (kept === undefined) slot.pieces.set(id, buckets);
    else for (const bucket of buckets) kept.push(bucket);
  }

  #spawn(slot: _Slot): Promise<void> {
    const init: WorkerInit = {
      sab: slot.sab,
      index: slot.index,
      sink: this.#options.sink,
      stamp: this.#stamp,
      sockets: [...this.#sockets.values()].filter((a) => a.reader === slot.index).map((a) => a.socket),
      warmUpLines: this.#options.warmUpLines ?? 0,
      warmUpValueLists: this.#options.warmUpValueLists ?? 0,
    };
    const worker = new Worker(fileURLToPath(this.#url.href), { workerData: init, ...workerHeapOptions() });
    slot.worker = worker;
    slot.dictionary = new SeriesDictionary();
    slot.ready = false;
    slot.error = undefined;
    return new Promise((resolve, reject) => {
      const onReply = (reply: WorkerReply): void => {
        switch (reply.kind) {
          case "ready":
            slot.ready = true;
            slot.everReady = true;
            for (const pending of slot.pending.values()) worker.postMessage(pending.request);
            resolve();
            break;
          case "chunk":
            this.#takePiece(slot, reply.id, reply.piece);
            break;
          case "partial": {
            this.#takePiece(slot, reply.id, reply.piece);
            const pending = slot.pending.get(reply.id);
            slot.pending.delete(reply.id);
            const buckets = slot.pieces.get(reply.id) ?? [];
            slot.pieces.delete(reply.id);
            const partial = reply.partial;
            pending?.resolve(
              buckets.length === 0 ? partial : { ...partial, aggregate: { ...partial.aggregate, buckets } },
            );
            break;
          }
          case "done": {
            const pending = slot.pending.get(reply.id);
            slot.pending.delete(reply.id);
            if (reply.error === undefined) pending?.resolve(undefined);
            else pending?.reject(new Error(reply.error));
            break;
          }
        }
      };
      worker.on("message", onReply);
      worker.on("error", (error: unknown) => {
        slot.error = error;
      });
      worker.on("exit", () => {
        worker.off("message", onReply);
        if (slot.worker !== worker) return;
        const wasReady = slot.ready;
        slot.worker = undefined;
        slot.ready = false;
        const error = slot.error ?? new Error(`Worker ${slot.index} exited`);
        if (!wasReady) reject(error instanceof Error ? error : new Error(String(error)));
        if (this.#stopping || !wasReady) {
          // Nothing will answer soon (shutting down, or the script does not load): release the waiters
          // with empty partials rather than hang a flush or the shutdown.
          for (const pending of slot.pending.values()) pending.resolve(undefined);
          slot.pending.clear();
        }
        // Shutting down, or a worker that never started once (a broken install, which start() reports).
        if (this.#stopping || !slot.everReady) return;
        this.#restarts++;
        this.#options.onRestart?.(slot.index, error);
        const restart = (): void => {
          if (!this.#stopping) this.#spawn(slot).catch(() => {});
        };
        if (wasReady) restart();
        else setTimeout(restart, RESTART_BACKOFF_MS);
      });
    });
  }
}

function emptyPartial(): SinkPartial {
  return {
    aggregate: { buckets: [], rejected: 0, invalid: 0 },
    events: [],
    eventsDropped: 0,
    lines: [],
    bad: [],
    framesSkipped: 0,
  };
}
