/**
 * The UDP sockets a pool worker reads itself: datagrams go from the kernel straight into the worker's
 * frame sink, many per `recvmmsg`, without the main thread or the ring in between, so parsing never waits
 * on the main thread (a flush's merge, the store, an HTTP scrape).
 *
 * Every datagram still gets what a frame from the ring gets: a sequence number from the pipeline-wide
 * counter (gauges resolve "last write" by it across threads and inputs) and the window open when it was
 * read, both from the {@link SharedStamp} the main thread keeps. Each socket has one reader (the pool
 * assigns it), so its datagrams' numbers follow the kernel's queue; its counts go to
 * {@link SocketCounters} the main thread reads.
 *
 * @module
 */

import type { DatagramBatch, ReadablePoller, Runtime } from "../runtime/types.ts";
import type { FrameSink } from "./frame_sink.ts";
import { DatagramOpener, type DatagramOpening, REFUSAL_REASONS } from "./_datagram_opener.ts";

/** The most datagrams one `recvmmsg` returns. */
export const SOCKET_BATCH = 64;
/** The most datagrams read from one socket before the worker turns to its ring and other sockets. */
const BUDGET_PER_SOCKET = 1024;

/** A socket handed to the workers: its descriptor (the process's), the input it belongs to and its format. */
export interface SocketAttachment {
  /** The file descriptor. */
  readonly fd: number;
  /** The input index, as in frames. */
  readonly inputId: number;
  /** The format id of its datagrams. */
  readonly format: number;
  /** Its {@link SocketCounters}, which the reading worker adds to and the main thread reads. */
  readonly counters: SharedArrayBuffer;
  /** What is done to each datagram before its format parses it (`_datagram_opener.ts`); nothing when absent. */
  readonly open?: DatagramOpening;
}

/** The slots before the refusals: datagrams, bytes, failed reads. */
const FIXED_SLOTS = 3;

/**
 * The datagrams, bytes, failed reads and refusals (by index into `REFUSAL_REASONS`, for a socket whose
 * datagrams are opened) of one socket a worker reads, in shared memory, so that the main thread's
 * self-metrics are current at every scrape rather than at every flush.
 */
export class SocketCounters {
  readonly #slots: BigInt64Array;

  /**
   * Allocates the shared counters (all 0).
   *
   * @returns The buffer to put in a {@link SocketAttachment}.
   */
  static allocate(): SharedArrayBuffer {
    return new SharedArrayBuffer(8 * (FIXED_SLOTS + REFUSAL_REASONS.length));
  }

  /**
   * Opens counters over a buffer from {@link SocketCounters.allocate}.
   *
   * @param sab The buffer.
   */
  constructor(sab: SharedArrayBuffer) {
    this.#slots = new BigInt64Array(sab);
  }

  /**
   * Worker: adds what one read turn got.
   *
   * @param packets Datagrams read.
   * @param bytes Their bytes.
   * @param errors Failed reads.
   */
  add(packets: number, bytes: number, errors: number): void {
    if (packets > 0) Atomics.add(this.#slots, 0, BigInt(packets));
    if (bytes > 0) Atomics.add(this.#slots, 1, BigInt(bytes));
    if (errors > 0) Atomics.add(this.#slots, 2, BigInt(errors));
  }

  /**
   * Worker: adds refusals of one reason.
   *
   * @param index The reason's index in `REFUSAL_REASONS`.
   * @param count How many.
   */
  refuse(index: number, count: number): void {
    if (count > 0) Atomics.add(this.#slots, FIXED_SLOTS + index, BigInt(count));
  }

  /**
   * The refusals of one reason so far.
   *
   * @param index The reason's index in `REFUSAL_REASONS`.
   * @returns The count.
   */
  refused(index: number): number {
    return Number(Atomics.load(this.#slots, FIXED_SLOTS + index));
  }

  /** The datagrams read so far. */
  get packets(): number {
    return Number(Atomics.load(this.#slots, 0));
  }

  /** Their bytes. */
  get bytes(): number {
    return Number(Atomics.load(this.#slots, 1));
  }

  /** The failed reads. */
  get errors(): number {
    return Number(Atomics.load(this.#slots, 2));
  }
}

/**
 * The pipeline's arrival sequence and open window, shared by the main thread and every worker: slot 0 is
 * the last sequence number handed out (taken with `Atomics.add`), slot 1 the start of the open window in
 * ms (written by the main thread when a window closes).
 */
export class SharedStamp {
  readonly #slots: BigInt64Array;

  /**
   * Allocates the shared slots.
   *
   * @returns The buffer to hand to every thread.
   */
  static allocate(): SharedArrayBuffer {
    return new SharedArrayBuffer(16);
  }

  /**
   * Opens the stamp over a buffer from {@link SharedStamp.allocate}.
   *
   * @param sab The buffer.
   */
  constructor(sab: SharedArrayBuffer) {
    this.#slots = new BigInt64Array(sab);
  }

  /**
   * Takes `count` consecutive sequence numbers.
   *
   * @param count How many.
   * @returns The first of them.
   */
  take(count: number): number {
    return Number(Atomics.add(this.#slots, 0, BigInt(count))) + 1;
  }

  /** The start of the open window, in ms since the epoch. */
  get windowMs(): number {
    return Number(Atomics.load(this.#slots, 1));
  }

  set windowMs(ms: number) {
    Atomics.store(this.#slots, 1, BigInt(ms));
  }
}

interface Reading {
  readonly attachment: SocketAttachment;
  readonly batch: DatagramBatch;
  readonly counters: SocketCounters;
  readonly opener: DatagramOpener | undefined;
}

/** The sockets one worker reads; a resource of the worker thread. */
export class SocketReader {
  readonly #runtime: Runtime;
  readonly #stamp: SharedStamp;
  readonly #sink: FrameSink;
  #readings: Reading[] = [];
  #poller: ReadablePoller | undefined;
  /** Whether the last read left datagrams waiting (a socket gave a full batch or hit its budget). */
  #behind = false;

  /**
   * @param runtime The runtime facade (its FFI reads the sockets).
   * @param stamp The shared sequence and window.
   * @param sink Where datagrams are parsed and counted.
   */
  constructor(runtime: Runtime, stamp: SharedStamp, sink: FrameSink) {
    this.#runtime = runtime;
    this.#stamp = stamp;
    this.#sink = sink;
  }

  /** How many sockets are read. */
  get size(): number {
    return this.#readings.length;
  }

  /** Whether the last {@link SocketReader.read} left datagrams waiting in some socket. */
  get behind(): boolean {
    return this.#behind;
  }

  /**
   * Starts reading a socket; attaching the same descriptor twice does nothing.
   *
   * @param attachment The socket.
   * @throws {Error} When the runtime cannot read sockets through FFI, or the descriptor is not one.
   */
  async attach(attachment: SocketAttachment): Promise<void> {
    if (!Number.isInteger(attachment.fd) || attachment.fd < 0) {
      throw new RangeError(`Cannot read socket ${attachment.fd}: not a file descriptor`);
    }
    if (this.#readings.some((r) => r.attachment.fd === attachment.fd)) return;
    const open = this.#runtime.datagramBatch;
    if (open === undefined) {
      throw new Error(`Cannot read socket ${attachment.fd}: ${this.#runtime.name} has no FFI`);
    }
    const batch = await open(attachment.fd, SOCKET_BATCH);
    this.#readings = [...this.#readings, {
      attachment,
      batch,
      counters: new SocketCounters(attachment.counters),
      opener: attachment.open === undefined ? undefined : new DatagramOpener(this.#sink),
    }];
    await this.#repoll();
  }

  /**
   * Stops reading a socket (before the main thread closes it).
   *
   * @param fd The descriptor.
   */
  async detach(fd: number): Promise<void> {
    this.#readings = this.#readings.filter((r) => r.attachment.fd !== fd);
    await this.#repoll();
  }

  /**
   * Reads what waits in every socket, up to a budget per socket, into the sink.
   *
   * @returns The datagrams read.
   */
  read(): number {
    const sink = this.#sink;
    const stamp = this.#stamp;
    let total = 0;
    let behind = false;
    for (const { attachment, batch, counters, opener } of this.#readings) {
      const { inputId, format } = attachment;
      let got = 0;
      let bytes = 0;
      let errors = 0;
      while (got < BUDGET_PER_SOCKET) {
        const n = batch.receive();
        if (n <= 0) {
          if (n < 0) errors++;
          break;
        }
        let seq = stamp.take(n);
        const windowMs = stamp.windowMs;
        const data = batch.bytes;
        if (opener === undefined) {
          for (let i = 0; i < n; i++) {
            const length = batch.length(i);
            bytes += length;
            if (length > 0) {
              const start = batch.start(i);
              sink.datagram(inputId, format, seq, windowMs, data, start, start + length);
            }
            seq++;
          }
        } else {
          for (let i = 0; i < n; i++) {
            const length = batch.length(i);
            if (length > 0) {
              const start = batch.start(i);
              opener.open(inputId, format, seq, windowMs, data, start, start + length);
            }
            seq++;
          }
        }
        got += n;
        if (n < batch.capacity) break;
      }
      if (got >= BUDGET_PER_SOCKET) behind = true;
      if (opener !== undefined) {
        // The sections' bytes, as the main thread's emit counts them, and the refusals by reason.
        bytes = opener.bytes;
        opener.bytes = 0;
        const refused = opener.refused;
        for (let r = 0; r < refused.length; r++) {
          if (refused[r]! > 0) counters.refuse(r, refused[r]!);
          refused[r] = 0;
        }
      }
      counters.add(got, bytes, errors);
      total += got;
    }
    this.#behind = behind;
    return total;
  }

  /**
   * Blocks the thread until a socket is readable or `timeoutMs` passed.
   *
   * @param timeoutMs The longest wait.
   * @returns Whether a socket is readable (false after the timeout).
   */
  waitReadable(timeoutMs: number): boolean {
    return (this.#poller?.wait(timeoutMs) ?? 0) > 0;
  }

  async #repoll(): Promise<void> {
    const make = this.#runtime.readablePoller;
    const fds = this.#readings.map((r) => r.attachment.fd);
    this.#poller = make === undefined || fds.length === 0 ? undefined : await make(fds);
  }
}
