/**
 * The wait for a receiver's count to become final after the load.
 *
 * @module
 */
import { sleep } from "./receiver_process.ts";

/** How often the count is polled while it settles. */
const SETTLE_POLL_MS = 200;

/** Options for {@link pollUntilSettled}. */
export interface PollOptions<T> {
  /** The total of a reading, compared with `expected`. */
  readonly total: (reading: T) => number;
  /** What a lossless receiver reaches. */
  readonly expected: number;
  /** How long the total must stay unchanged to count as final, ms. */
  readonly stableMs: number;
  /** The bound on the whole wait, ms. */
  readonly capMs: number;
  /** What is read, for error messages: `counters`, `count`. */
  readonly what: string;
  /** Called once the total reaches `expected`; its result is returned (e.g. one more, later, reading). */
  readonly onReached?: (reading: T) => Promise<T>;
}

/**
 * Polls `read` until its total reaches `expected` (nothing lost; more cannot change the verdict), stays
 * unchanged for `stableMs`, or `capMs` passes.
 *
 * @param running The receiver, for its exit state and output.
 * @param read One readback.
 * @param options The total, expected value, times and a label.
 * @returns The last reading.
 * @throws {Error} When the receiver exited while readbacks failed, or every readback failed.
 */
export async function pollUntilSettled<T>(
  running: { hasExited(): boolean; outputTail(): string },
  read: () => Promise<T>,
  options: PollOptions<T>,
): Promise<T> {
  const started = performance.now();
  let lastTotal = Number.NaN;
  let lastChange = started;
  let lastError: unknown;
  let reading: T | undefined;
  for (;;) {
    const now = performance.now();
    try {
      reading = await read();
      const total = options.total(reading);
      if (total >= options.expected) {
        return options.onReached === undefined ? reading : await options.onReached(reading);
      }
      if (total !== lastTotal) {
        lastTotal = total;
        lastChange = now;
      } else if (now - lastChange >= options.stableMs) {
        return reading;
      }
    } catch (error) {
      lastError = error;
      if (running.hasExited()) {
        throw new Error(
          `Cannot read the receiver's ${options.what}: it exited during the trial\noutput:\n${running.outputTail()}`,
          { cause: error },
        );
      }
    }
    if (now - started > options.capMs) {
      if (reading !== undefined) return reading;
      throw new Error(
        `Cannot read the receiver's ${options.what}: every readback failed for ${options.capMs} ms` +
          (lastError instanceof Error ? `; last error: ${lastError.message}` : "") +
          `\noutput:\n${running.outputTail()}`,
        { cause: lastError },
      );
    }
    await sleep(SETTLE_POLL_MS);
  }
}
