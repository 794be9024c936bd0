/**
 * The HTTP side every forwarder shares: one POST of one body to the receiver, with a timeout, classified
 * into delivered, rejected (never retried) or retry (with the receiver's `Retry-After`). Retrying, backoff
 * and counting are the caller's (`_forwarder.ts`); the policy lives in `_retry.ts`.
 *
 * @module
 */

import type { Agent } from "undici/index.js";
import { loadUndici, type Undici } from "../internal/undici.ts";
import { classifyStatus, firstLine, parseRetryAfter } from "./_retry.ts";

/** How much of an error response body is read for the log line. */
const ERROR_BODY_BYTES = 4096;

/** Where and how a forwarder posts. */
export interface SenderOptions {
  /** The receiver's URL. */
  readonly url: string;
  /** The request headers (content type and encoding, protocol version, authorisation, user agent). */
  readonly headers: Readonly<Record<string, string>>;
  /** The bound on one request, from connecting to the end of the response, in ms. */
  readonly timeoutMs: number;
  /** The clock for `Retry-After` dates; `Date.now` by default. */
  readonly now?: () => number;
}

/** Options of {@link Sender.send}. */
export interface SendOptions {
  /** The URL to post to; the sender's own `url` by default. */
  readonly url?: string;
}

/** Why an attempt is to be retried. */
export type RetryReason = "http_429" | "http_5xx" | "network" | "timeout";

/** What one attempt came to. */
export type SendResult =
  | {
    readonly kind: "delivered";
    /** The 2xx status. */
    readonly status: number;
    /** How long the request took, in ms. */
    readonly durationMs: number;
  }
  | {
    readonly kind: "rejected";
    /** The 4xx status (not 429). */
    readonly status: number;
    /** The first line of the response body. */
    readonly message: string;
    /** How long the request took, in ms. */
    readonly durationMs: number;
  }
  | {
    readonly kind: "retry";
    /** Why. */
    readonly reason: RetryReason;
    /** The status, or 0 when no response came. */
    readonly status: number;
    /** The receiver's `Retry-After` in ms, if it sent one. */
    readonly retryAfterMs: number | undefined;
    /** The first line of the response body, or the network error. */
    readonly message: string;
    /** How long the request took, in ms. */
    readonly durationMs: number;
  }
  | {
    /** The caller's signal aborted the attempt (shutdown). */
    readonly kind: "aborted";
  };

/**
 * Posts bodies to one receiver over a kept-alive connection. A resource: `close()` releases the
 * connections.
 *
 * @example
 * ```ts
 * const sender = new Sender({ url: "http://127.0.0.1:8428/api/v1/write", headers, timeoutMs: 30_000 });
 * const result = await sender.send(body, signal);
 * if (result.kind === "retry") await sleep(retryDelay(attempt, result.retryAfterMs, backoff));
 * await sender.close();
 * ```
 */
export class Sender {
  readonly #options: SenderOptions;
  #agent: Agent | undefined;
  #closed = false;
  readonly #now: () => number;

  /**
   * Creates a sender; it connects on the first `send`.
   *
   * @param options The URL, headers and timeout.
   */
  constructor(options: SenderOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** The connection pool, made on the first send: a run that forwards nothing never loads undici. */
  async #dispatcher(): Promise<{ agent: Agent; request: Undici["request"] } | undefined> {
    const { Agent, request } = await loadUndici();
    if (this.#closed) return undefined;
    this.#agent ??= new Agent({
      connections: 1,
      connect: { timeout: this.#options.timeoutMs },
      headersTimeout: this.#options.timeoutMs,
      bodyTimeout: this.#options.timeoutMs,
    });
    return { agent: this.#agent, request };
  }

  /**
   * Posts one body.
   *
   * @param body The request body.
   * @param signal Aborts the attempt (shutdown); the result is then `aborted`.
   * @param options Where to post when not to the sender's own `url` (an output with several endpoints,
   *   such as OTLP's `/v1/metrics` and `/v1/logs`; the kept-alive connections are per origin).
   * @returns What the attempt came to; never throws.
   */
  async send(body: Uint8Array, signal: AbortSignal, options: SendOptions = {}): Promise<SendResult> {
    if (signal.aborted) return { kind: "aborted" };
    const started = performance.now();
    // One controller per attempt, aborted by the caller's signal or the timeout, both released after: a
    // long-lived signal combined with AbortSignal.any() per attempt would keep every attempt reachable.
    const attempt = new AbortController();
    const onAbort = (): void => attempt.abort(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      attempt.abort(new Error(`no response within ${this.#options.timeoutMs} ms`));
    }, this.#options.timeoutMs);
    try {
      const dispatcher = await this.#dispatcher();
      if (dispatcher === undefined) return { kind: "aborted" };
      const { agent, request } = dispatcher;
      const response = await request(options.url ?? this.#options.url, {
        method: "POST",
        headers: { ...this.#options.headers, "content-length": String(body.length) },
        body,
        dispatcher: agent,
        signal: attempt.signal,
      });
      const status = response.statusCode;
      const verdict = classifyStatus(status);
      if (verdict === "delivered") {
        await response.body.dump();
        return { kind: "delivered", status, durationMs: performance.now() - started };
      }
      const message = firstLine(await readCapped(response.body, ERROR_BODY_BYTES));
      const durationMs = performance.now() - started;
      if (verdict === "rejected") return { kind: "rejected", status, message, durationMs };
      const header = response.headers["retry-after"];
      const retryAfterMs = parseRetryAfter(Array.isArray(header) ? header[0] : header, this.#now());
      return {
        kind: "retry",
        reason: status === 429 ? "http_429" : "http_5xx",
        status,
        retryAfterMs,
        message,
        durationMs,
      };
    } catch (error) {
      if (signal.aborted) return { kind: "aborted" };
      const durationMs = performance.now() - started;
      const late = timedOut || isTimeout(error);
      return {
        kind: "retry",
        reason: late ? "timeout" : "network",
        status: 0,
        retryAfterMs: undefined,
        message: late ? `no response within ${this.#options.timeoutMs} ms` : errorText(error),
        durationMs,
      };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Closes the connections; an attempt in flight is aborted.
   *
   * @returns Resolves when they are closed.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#agent?.destroy().catch(() => {});
  }
}

/** Reads at most `max` bytes of a body as text, then drops the rest. */
async function readCapped(
  body: AsyncIterable<Uint8Array> & { destroy(): unknown },
  max: number,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= max) break;
    }
  } catch {
    // A body cut off midway still gives what arrived.
  } finally {
    body.destroy();
  }
  const all = new Uint8Array(Math.min(size, max));
  let at = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, all.length - at);
    all.set(part, at);
    at += part.length;
    if (at >= all.length) break;
  }
  return new TextDecoder().decode(all);
}

function isTimeout(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" ||
    code === "UND_ERR_CONNECT_TIMEOUT" || (error as Error).name === "TimeoutError";
}

function errorText(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  const code = (error as { code?: unknown }).code ?? (cause as { code?: unknown } | undefined)?.code;
  const message = (error as Error).message ?? String(error);
  return typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message;
}
