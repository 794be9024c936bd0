/**
 * Polls a condition until it yields a value, within a time bound and an optional `AbortSignal`.
 *
 * @module
 */
/** Options for {@link waitFor}. */
export interface WaitForOptions {
  /** The bound on the whole wait, 5000 ms by default. */
  readonly timeoutMs?: number;
  /** The pause between two polls, 50 ms by default. */
  readonly intervalMs?: number;
  /** Aborts the wait early. */
  readonly signal?: AbortSignal;
  /** What is awaited, for the error message: `"tally to be ready"`. */
  readonly what?: string;
}

/** Thrown when the bound passes before the condition held. */
export class WaitTimeoutError extends Error {
  /**
   * @param message What was awaited and for how long.
   * @param options The last error the condition threw, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "WaitTimeoutError";
  }
}

/**
 * Calls `condition` until it returns something other than `undefined`, `null` or `false`, and returns
 * that. A condition that throws counts as not yet; the last error becomes the timeout's cause.
 *
 * @param condition The check; may be async.
 * @param options The bound, the poll interval, an abort signal and a description.
 * @returns The first value the condition yielded.
 * @throws {WaitTimeoutError} When the bound passes first.
 * @throws {Error} The signal's reason when it aborts.
 */
export async function waitFor<T>(
  condition: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options: WaitForOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const value = await condition();
      if (value !== undefined && value !== null && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await pause(Math.min(intervalMs, left), options.signal);
  }
  const what = options.what ?? "the condition";
  const last = lastError instanceof Error ? `; last error: ${lastError.message}` : "";
  throw new WaitTimeoutError(
    `Timed out after ${timeoutMs} ms waiting for ${what}${last}`,
    lastError === undefined ? undefined : { cause: lastError },
  );
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(function onElapsed() {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    function onAbort(): void {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
