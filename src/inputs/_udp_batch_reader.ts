/**
 * Reads a libc UDP socket on the main thread in batches (`recvmmsg` through the runtime's FFI), many
 * datagrams per JS call, and hands each datagram to the input.
 *
 * Neither runtime can wait on a foreign descriptor's readiness, so the socket is polled. The schedule
 * trades a little latency for far fewer wake-ups, which is what makes batches big:
 * - a read that filled the batch means more is waiting: read again at once (yielding to the event loop
 *   every {@link MAX_PER_TURN} datagrams);
 * - a read that got something but less than a batch: the socket is drained, so wait {@link BUSY_DELAY_MS}
 *   to let the next batch gather (at 400 000 datagrams/s that is 400 datagrams, well inside a 4 MiB
 *   receive buffer);
 * - an empty read: back off, doubling up to {@link IDLE_DELAY_MS}. Idle, that is 200 `recvmmsg` calls a
 *   second (about 0.3 % of a core); the first datagram after a quiet spell waits at most that long, and
 *   the kernel's receive buffer holds what arrives meanwhile.
 *
 * @module
 */

import { clearImmediate, setImmediate } from "node:timers";
import type { DatagramBatch } from "../runtime/types.ts";

/** The most datagrams one `recvmmsg` returns. */
export const BATCH_DATAGRAMS = 64;
/** The most datagrams handled before yielding to the event loop (timers, HTTP, other sockets). */
const MAX_PER_TURN = 4096;
/** The wait after a read that drained the socket while data flows. */
const BUSY_DELAY_MS = 1;
/** The longest wait between two reads of an idle socket. */
const IDLE_DELAY_MS = 5;

/** What the reader calls. */
export interface UdpBatchReaderHandlers {
  /** Takes one datagram; the bytes are only valid during the call. */
  readonly onMessage: (bytes: Uint8Array) => void;
  /** Takes a failed read's errno (the socket keeps being read). */
  readonly onError: (errno: number) => void;
}

/** Polls one socket until stopped; see the module doc. */
export class UdpBatchReader {
  readonly #batch: DatagramBatch;
  readonly #handlers: UdpBatchReaderHandlers;
  readonly #onTick: () => void;
  #delay = BUSY_DELAY_MS;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #immediate: ReturnType<typeof setImmediate> | undefined;
  #stopped = false;

  /**
   * Starts reading at once.
   *
   * @param batch The socket's batch buffers.
   * @param handlers The datagram and error callbacks.
   */
  constructor(batch: DatagramBatch, handlers: UdpBatchReaderHandlers) {
    this.#batch = batch;
    this.#handlers = handlers;
    // One bound callback for every timer, rather than a closure per tick.
    this.#onTick = this.#tick.bind(this);
    this.#timer = setTimeout(this.#onTick, 0);
  }

  /** Stops reading: no callback runs after this returns. Calling it again does nothing. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
  }

  #tick(): void {
    this.#timer = undefined;
    this.#immediate = undefined;
    if (this.#stopped) return;
    let full = false;
    let got = 0;
    try {
      [got, full] = this.#drain();
    } finally {
      // A throwing onMessage still surfaces as an uncaught error, but the socket keeps being read.
      if (!this.#stopped) this.#schedule(got, full);
    }
  }

  /** Reads until the socket is drained or the turn's budget is spent; returns [datagrams, budget spent]. */
  #drain(): [number, boolean] {
    const batch = this.#batch;
    const onMessage = this.#handlers.onMessage;
    const capacity = batch.capacity;
    let got = 0;
    while (got < MAX_PER_TURN) {
      const n = batch.receive();
      if (n < 0) {
        this.#handlers.onError(-n);
        return [got, false];
      }
      for (let i = 0; i < n && !this.#stopped; i++) onMessage(batch.datagram(i));
      got += n;
      if (n < capacity || this.#stopped) return [got, false];
    }
    return [got, true];
  }

  #schedule(got: number, full: boolean): void {
    if (full) {
      this.#delay = BUSY_DELAY_MS;
      this.#immediate = setImmediate(this.#onTick);
      return;
    }
    this.#delay = got > 0 ? BUSY_DELAY_MS : Math.min(this.#delay * 2, IDLE_DELAY_MS);
    this.#timer = setTimeout(this.#onTick, this.#delay);
  }
}
