/**
 * A single-producer/single-consumer ring of frames over one `SharedArrayBuffer`.
 *
 * The main thread (producer) copies each frame's bytes into the ring; one worker (consumer) reads them in
 * place. There are no locks: the write and read positions are free-running 32-bit counters in an
 * `Int32Array` header, each written by one side only with `Atomics.store` and read by the other with
 * `Atomics.load`, so a frame's bytes are always written before the position that publishes them.
 *
 * Layout of the buffer:
 *
 * ```
 * header (256 bytes, Int32Array)          data (capacity bytes, a power of two)
 * [0] write  [16] read  [17] busy         record record … [skip marker] (wraps to 0)
 * [32] waiting  [48] capacity
 * ```
 *
 * A record is 8-byte aligned: `u32 length | u16 inputId | u8 format | u8 0 | f64 seq | f64 windowMs | bytes`.
 * A record never straddles the end of the data region: when it does not fit before the end, the writer
 * puts a skip marker (`length = 0xFFFFFFFF`) there and starts the record at offset 0, so the reader can
 * always hand out one contiguous view.
 *
 * The consumer waits with `Atomics.waitAsync`, so a worker's event loop stays free for control messages
 * while the ring is empty (or, between batches of datagrams it reads itself, with a short blocking
 * `Atomics.wait`); the producer calls `Atomics.notify` only when the consumer said it is waiting.
 *
 * @module
 */

/** Bytes before the data region. */
export const RING_HEADER_BYTES = 256;
/** Bytes of a record header before the frame's bytes. */
export const RECORD_HEADER_BYTES = 24;
/** The smallest data region a ring gets. */
export const RING_MIN_CAPACITY = 4096;

// Int32 slots in the header. Producer- and consumer-owned slots sit on different 64-byte cache lines.
const WRITE = 0;
const READ = 16;
const BUSY = 17;
const WAITING = 32;
const CAPACITY = 48;
const SKIP = 0xffffffff;
const HALF_RANGE = 0x80000000;

/** Receives the frames read from a ring; a method on an object so reading creates no closure per frame. */
export interface FrameVisitor {
  /**
   * Handles one frame. `bytes` is a view into the shared ring, valid only during the call.
   *
   * @param inputId The index of the input that received the bytes.
   * @param format The numeric format id.
   * @param seq The arrival sequence number.
   * @param windowMs The start of the flush window the frame was stamped with.
   * @param bytes The frame's bytes (a view, not a copy).
   */
  frame(inputId: number, format: number, seq: number, windowMs: number, bytes: Uint8Array): void;
}

/**
 * One SPSC ring. Construct one instance per thread over the same buffer: the producer calls
 * {@link RingBuffer.tryWrite} and {@link RingBuffer.wake}, the consumer {@link RingBuffer.read},
 * {@link RingBuffer.wait} and {@link RingBuffer.recover}.
 *
 * @example
 * ```ts
 * const sab = RingBuffer.allocate(1 << 20);
 * const producer = new RingBuffer(sab); // main thread
 * producer.tryWrite(0, 1, 1, 0, new TextEncoder().encode("a:1|c"));
 * const consumer = new RingBuffer(sab); // in the worker, from workerData
 * consumer.read({ frame(inputId, format, seq, windowMs, bytes) {} });
 * ```
 */
export class RingBuffer {
  readonly #header: Int32Array;
  readonly #view: DataView;
  readonly #bytes: Uint8Array;
  readonly #capacity: number;
  readonly #mask: number;

  /**
   * Allocates the shared buffer for a ring whose data region is the largest power of two that fits in
   * `bytes` (at least {@link RING_MIN_CAPACITY}).
   *
   * @param bytes The wanted size of the data region in bytes.
   * @returns The shared buffer, header initialised.
   * @throws {RangeError} When `bytes` is not a positive finite number.
   */
  static allocate(bytes: number): SharedArrayBuffer {
    if (!Number.isFinite(bytes) || bytes <= 0) {
      throw new RangeError(`Cannot allocate a ring of "${bytes}" bytes: expected a positive size`);
    }
    let capacity = RING_MIN_CAPACITY;
    while (capacity * 2 <= bytes && capacity < 1 << 30) capacity *= 2;
    const sab = new SharedArrayBuffer(RING_HEADER_BYTES + capacity);
    new Int32Array(sab, 0, RING_HEADER_BYTES / 4)[CAPACITY] = capacity;
    return sab;
  }

  /**
   * Opens one side of a ring allocated by {@link RingBuffer.allocate}.
   *
   * @param sab The shared buffer.
   * @throws {RangeError} When the buffer does not hold a ring header matching its size.
   */
  constructor(sab: SharedArrayBuffer) {
    this.#header = new Int32Array(sab, 0, RING_HEADER_BYTES / 4);
    const capacity = this.#header[CAPACITY] ?? 0;
    if (capacity < RING_MIN_CAPACITY || RING_HEADER_BYTES + capacity !== sab.byteLength) {
      throw new RangeError(
        `Cannot open ring: header says capacity "${capacity}" but the buffer holds "${sab.byteLength}" bytes`,
      );
    }
    this.#capacity = capacity;
    this.#mask = capacity - 1;
    this.#view = new DataView(sab, RING_HEADER_BYTES, capacity);
    this.#bytes = new Uint8Array(sab, RING_HEADER_BYTES, capacity);
  }

  /** The size of the data region in bytes. */
  get capacity(): number {
    return this.#capacity;
  }

  /** The largest frame that fits in an empty ring wherever its positions stand. */
  get maxFrameBytes(): number {
    return this.#capacity / 2 - RECORD_HEADER_BYTES;
  }

  /** The producer's position (a free-running 32-bit counter); a flush request carries it. */
  get writeIndex(): number {
    return Atomics.load(this.#header, WRITE);
  }

  /** The consumer's position (a free-running 32-bit counter). */
  get readIndex(): number {
    return Atomics.load(this.#header, READ);
  }

  /** The fraction of the data region in use, in [0, 1], for the `tally_ring_fill_ratio` self-metric. */
  get fill(): number {
    return ((Atomics.load(this.#header, WRITE) - Atomics.load(this.#header, READ)) >>> 0) / this.#capacity;
  }

  /**
   * Producer: whether {@link RingBuffer.tryWrite} would take a frame of `length` bytes now (the consumer
   * only ever makes more room).
   *
   * @param length The frame's length in bytes.
   * @returns True when it fits.
   */
  fits(length: number): boolean {
    const header = this.#header;
    const write = Atomics.load(header, WRITE);
    const free = this.#capacity - ((write - Atomics.load(header, READ)) >>> 0);
    const need = (RECORD_HEADER_BYTES + length + 7) & ~7;
    const toEnd = this.#capacity - (write & this.#mask);
    return need <= toEnd ? need <= free : toEnd + need <= free;
  }

  /**
   * Producer: copies one frame into the ring, or returns `false` when it does not fit (the caller
   * drops and counts it: the `when_full = "drop"` policy).
   *
   * @param inputId The input index (u16).
   * @param format The format id (u8).
   * @param seq The arrival sequence number (exact up to 2^53).
   * @param windowMs The window stamp in ms since the epoch.
   * @param bytes The frame's bytes; copied, not retained.
   * @returns Whether the frame was written.
   */
  tryWrite(inputId: number, format: number, seq: number, windowMs: number, bytes: Uint8Array): boolean {
    const header = this.#header;
    const write = Atomics.load(header, WRITE);
    const free = this.#capacity - ((write - Atomics.load(header, READ)) >>> 0);
    const need = (RECORD_HEADER_BYTES + bytes.length + 7) & ~7;
    let offset = write & this.#mask;
    const toEnd = this.#capacity - offset;
    let next: number;
    if (need <= toEnd) {
      if (need > free) return false;
      next = write + need;
    } else {
      if (toEnd + need > free) return false;
      // Alignment guarantees at least 8 bytes before the end, room for the marker.
      this.#view.setUint32(offset, SKIP, true);
      offset = 0;
      next = write + toEnd + need;
    }
    const view = this.#view;
    view.setUint32(offset, bytes.length, true);
    view.setUint16(offset + 4, inputId, true);
    view.setUint8(offset + 6, format);
    view.setUint8(offset + 7, 0);
    view.setFloat64(offset + 8, seq, true);
    view.setFloat64(offset + 16, windowMs, true);
    this.#bytes.set(bytes, offset + RECORD_HEADER_BYTES);
    Atomics.store(header, WRITE, next | 0);
    if (Atomics.load(header, WAITING) === 1) this.wake();
    return true;
  }

  /**
   * Producer: wakes a consumer blocked in {@link RingBuffer.wait}, if any (e.g. before a control message
   * it must notice).
   */
  wake(): void {
    if (Atomics.compareExchange(this.#header, WAITING, 1, 0) === 1) Atomics.notify(this.#header, WRITE);
  }

  /**
   * Consumer: hands every frame written so far to `visitor`, in order, freeing each one's space after
   * its call returns.
   *
   * While a frame is being handled the header marks it busy, so that if the handler kills the thread
   * a new consumer can skip it with {@link RingBuffer.recover} instead of dying on it again.
   *
   * @param visitor The frame handler.
   * @returns The number of frames read.
   */
  read(visitor: FrameVisitor): number {
    const header = this.#header;
    const view = this.#view;
    const write = Atomics.load(header, WRITE);
    let read = Atomics.load(header, READ);
    let count = 0;
    while (read !== write) {
      const offset = read & this.#mask;
      const length = view.getUint32(offset, true);
      if (length === SKIP) {
        read = (read + this.#capacity - offset) | 0;
        Atomics.store(header, READ, read);
        continue;
      }
      const start = offset + RECORD_HEADER_BYTES;
      Atomics.store(header, BUSY, 1);
      visitor.frame(
        view.getUint16(offset + 4, true),
        view.getUint8(offset + 6),
        view.getFloat64(offset + 8, true),
        view.getFloat64(offset + 16, true),
        this.#bytes.subarray(start, start + length),
      );
      Atomics.store(header, BUSY, 0);
      read = (read + ((RECORD_HEADER_BYTES + length + 7) & ~7)) | 0;
      Atomics.store(header, READ, read);
      count++;
    }
    return count;
  }

  /**
   * Consumer: whether the consumer has not yet read up to `position` (a {@link RingBuffer.writeIndex}
   * the producer observed earlier).
   *
   * @param position A producer position.
   * @returns `true` while frames written before `position` are still unread.
   */
  behind(position: number): boolean {
    const distance = (position - Atomics.load(this.#header, READ)) >>> 0;
    return distance !== 0 && distance < HALF_RANGE;
  }

  /**
   * Consumer: resolves when frames may be available, or after `timeoutMs`, without blocking the thread.
   *
   * @param timeoutMs The longest wait.
   * @returns A promise that resolves when the caller should call {@link RingBuffer.read} again.
   */
  async wait(timeoutMs: number): Promise<void> {
    const header = this.#header;
    const write = Atomics.load(header, WRITE);
    if (write !== Atomics.load(header, READ)) return;
    Atomics.store(header, WAITING, 1);
    // waitAsync re-checks the write position after the flag is up: a write that missed the flag moved
    // it, so the wait returns "not-equal" at once (all these accesses are sequentially consistent).
    const result = Atomics.waitAsync(header, WRITE, write, timeoutMs);
    if (result.async) {
      // Neither Bun nor Deno counts a pending waitAsync as work that keeps the event loop alive, so a
      // timer for the same timeout does. Only an idle consumer gets here: the cost is per wait, not per frame.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
      await Promise.race([result.value, timeout]);
      clearTimeout(timer);
    }
    Atomics.store(header, WAITING, 0);
  }

  /**
   * Consumer: blocks the calling thread until the producer writes or `timeoutMs` passes. For a worker
   * that also reads sockets: a short sleep that lets a batch of datagrams gather, cut short by a frame.
   *
   * @param timeoutMs The longest wait.
   */
  waitSync(timeoutMs: number): void {
    const header = this.#header;
    const write = Atomics.load(header, WRITE);
    if (write !== Atomics.load(header, READ)) return;
    Atomics.store(header, WAITING, 1);
    Atomics.wait(header, WRITE, write, timeoutMs);
    Atomics.store(header, WAITING, 0);
  }

  /**
   * Consumer: called by a new consumer before its first read. When the previous consumer died while
   * handling a frame, skips that frame so that it cannot kill this one too.
   *
   * @returns Whether a frame was skipped.
   */
  recover(): boolean {
    const header = this.#header;
    Atomics.store(header, WAITING, 0);
    if (Atomics.load(header, BUSY) !== 1) return false;
    // Only a real record is ever marked busy, and the read position still points at it.
    const read = Atomics.load(header, READ);
    const length = this.#view.getUint32(read & this.#mask, true);
    const next = (read + ((RECORD_HEADER_BYTES + length + 7) & ~7)) | 0;
    Atomics.store(header, READ, next);
    Atomics.store(header, BUSY, 0);
    return true;
  }
}
