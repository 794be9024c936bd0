/**
 * The retry policy every forwarder shares, as pure functions: which responses are retried, how long to
 * wait (exponential backoff with jitter, or the receiver's `Retry-After`), and how a rejection is told.
 *
 * The rule, from the Prometheus remote-write spec and common to OTLP/HTTP and InfluxDB: 2xx is delivered;
 * 429 and 5xx are retried (honouring `Retry-After`); any other 4xx means the receiver will never take this
 * body, so it is not retried (counted and logged); a network error or a timeout is retried.
 *
 * @module
 */

/** The longest `Retry-After` honoured; a receiver asking for longer is retried after this long. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/** How a response status is handled. */
export type StatusClass = "delivered" | "retry" | "rejected";

/**
 * Classifies an HTTP status.
 *
 * @param status The status code.
 * @returns `delivered` for 2xx, `retry` for 429 and 5xx (and anything unexpected below 200 or from 300 to
 *   399, which a forwarder never asks for), `rejected` for the other 4xx.
 */
export function classifyStatus(status: number): StatusClass {
  if (status >= 200 && status < 300) return "delivered";
  if (status === 429) return "retry";
  if (status >= 400 && status < 500) return "rejected";
  return "retry";
}

/** Backoff bounds in ms. */
export interface BackoffOptions {
  /** The first delay. */
  readonly minMs: number;
  /** The largest delay. */
  readonly maxMs: number;
}

/**
 * The delay before retry number `attempt` (1 for the first retry): `minMs · 2^(attempt-1)` capped at
 * `maxMs`, then jittered to between half and all of that ("equal jitter"), so that many tallys that lost
 * the same receiver do not come back in lockstep, while each still waits at least half the nominal delay.
 *
 * @param attempt The retry number, from 1.
 * @param options The bounds.
 * @param random A source of numbers in [0, 1); `Math.random` by default.
 * @returns The delay in ms.
 * @example
 * ```ts
 * backoffDelay(3, { minMs: 500, maxMs: 30_000 }, () => 0.5); // 1500: nominal 2000, jittered to 75%
 * ```
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(0, attempt - 1), 52);
  const nominal = Math.min(options.maxMs, options.minMs * 2 ** exponent);
  return Math.round(nominal / 2 + (nominal / 2) * random());
}

/**
 * Parses a `Retry-After` header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
 *
 * @param value The header value, or `undefined`.
 * @param nowMs The current time in ms since the epoch (for an HTTP-date).
 * @returns The delay in ms (0 for a date in the past, at most {@link MAX_RETRY_AFTER_MS}), or `undefined`
 *   when the header is absent or unreadable.
 */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === "") return undefined;
  let ms: number;
  if (/^\d+$/.test(text)) {
    ms = Number(text) * 1000;
  } else {
    // An HTTP-date always names its day and month; anything else ("-5", "2025") is not one.
    const date = /[A-Za-z]{3}/.test(text) ? Date.parse(text) : NaN;
    if (Number.isNaN(date)) return undefined;
    ms = Math.max(0, date - nowMs);
  }
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

/**
 * The wait before the next attempt: the receiver's `Retry-After` when it gave one (but at least half the
 * first backoff, so `Retry-After: 0` cannot spin), else the backoff.
 *
 * @param attempt The retry number, from 1.
 * @param retryAfterMs The parsed `Retry-After`, if any.
 * @param options The backoff bounds.
 * @param random A source of numbers in [0, 1).
 * @returns The delay in ms.
 */
export function retryDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.max(retryAfterMs, Math.round(options.minMs / 2));
  return backoffDelay(attempt, options, random);
}

/**
 * The first line of a response body, trimmed and cut to `max` characters, for a log line.
 *
 * @param text The body text.
 * @param max The most characters kept; 200 by default.
 * @returns The line, `""` for an empty body.
 */
export function firstLine(text: string, max = 200): string {
  const line = (text.split(/\r?\n/).find((l) => l.trim() !== "") ?? "").trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
