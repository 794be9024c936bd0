/**
 * Cuts a newline-delimited byte stream (one TCP connection) into frames of whole lines.
 *
 * Formats parse a frame as a unit, so a frame must never end inside a line. The framer keeps the
 * partial last line of each chunk until its newline arrives, hands over every complete line of a chunk
 * in one frame (up to a frame size limit), and skips lines longer than the limit up to their newline,
 * keeping their neighbours. `\r\n` ends are passed through: formats treat `\r` before `\n` as part of the
 * line end.
 *
 * @module
 */

/** Where a framer delivers its frames and reports its drops; one sink serves every connection. */
export interface LineFramerSink {
  /** Takes one frame of whole lines; `bytes` are only valid during the call. */
  frame(bytes: Uint8Array): void;
  /** Counts one line skipped for exceeding the length limit. */
  tooLong(): void;
}

/** The frame size a framer aims for: the largest UDP datagram rounded up, which every ring holds. */
export const FRAME_BYTES = 65_536;

const NEWLINE = 0x0a;

/** The framing state of one stream; a resource that lives as long as its connection. */
export class LineFramer {
  readonly #maxLine: number;
  readonly #maxFrame: number;
  readonly #sink: LineFramerSink;
  /** The partial line carried over from the previous chunk (never longer than the limit). */
  #tail: Uint8Array | undefined;
  /** Whether we are inside a too-long line, discarding up to its newline. */
  #skipping = false;

  /**
   * @param maxLineLength The longest line accepted, in bytes without its newline.
   * @param sink Where frames and drops go.
   */
  constructor(maxLineLength: number, sink: LineFramerSink) {
    this.#maxLine = maxLineLength;
    this.#maxFrame = Math.max(FRAME_BYTES, maxLineLength + 1);
    this.#sink = sink;
  }

  /** The bytes of the partial line held back, waiting for its newline. */
  get pending(): number {
    return this.#tail?.length ?? 0;
  }

  /**
   * Takes the next chunk of the stream and delivers every line it completes.
   *
   * @param chunk The bytes read; not kept after the call returns.
   */
  push(chunk: Uint8Array): void {
    let data = chunk;
    let start = 0;
    if (this.#skipping) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl < 0) return;
      this.#skipping = false;
      start = nl + 1;
    }
    if (this.#tail !== undefined) {
      // One copy joins the carried line to this chunk, so that its lines still leave in one frame.
      const joined = new Uint8Array(this.#tail.length + chunk.length - start);
      joined.set(this.#tail, 0);
      joined.set(chunk.subarray(start), this.#tail.length);
      this.#tail = undefined;
      data = joined;
      start = 0;
    }
    const last = data.lastIndexOf(NEWLINE);
    if (last >= start) this.#deliver(data, start, last + 1);
    const restStart = last >= start ? last + 1 : start;
    const rest = data.length - restStart;
    if (rest > this.#maxLine) {
      this.#sink.tooLong();
      this.#skipping = true;
    } else if (rest > 0) {
      // A copy, not a view, of the caller's chunk: its memory may belong to a larger pooled buffer.
      this.#tail = data !== chunk && restStart === 0 ? data : data.slice(restStart);
    }
  }

  /**
   * Ends the stream: delivers the final line when it had no newline.
   */
  end(): void {
    const tail = this.#tail;
    this.#tail = undefined;
    this.#skipping = false;
    if (tail !== undefined) this.#sink.frame(tail);
  }

  /**
   * Forgets the partial line (the stream was cut off mid-line).
   *
   * @returns The bytes forgotten.
   */
  discard(): number {
    const pending = this.pending;
    this.#tail = undefined;
    this.#skipping = false;
    return pending;
  }

  /** Delivers the complete lines in `data[start, end)`, which ends with a newline. */
  #deliver(data: Uint8Array, start: number, end: number): void {
    const sink = this.#sink;
    const maxLine = this.#maxLine;
    // No line can be longer than the region, so a short region needs no per-line scan.
    if (end - start <= maxLine + 1 && end - start <= this.#maxFrame) {
      sink.frame(data.subarray(start, end));
      return;
    }
    const maxFrame = this.#maxFrame;
    let frameStart = start;
    let lineStart = start;
    while (lineStart < end) {
      const nl = data.indexOf(NEWLINE, lineStart);
      if (nl - lineStart > maxLine) {
        if (lineStart > frameStart) sink.frame(data.subarray(frameStart, lineStart));
        sink.tooLong();
        frameStart = nl + 1;
      } else if (nl + 1 - frameStart > maxFrame) {
        sink.frame(data.subarray(frameStart, lineStart));
        frameStart = lineStart;
      }
      lineStart = nl + 1;
    }
    if (frameStart < end) sink.frame(data.subarray(frameStart, end));
  }
}
