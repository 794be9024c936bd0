/**
 * The one shape of "could not bind" errors for input listeners (UDP, TCP, Unix datagram), whatever failed
 * underneath: `node:dgram` and `node:net` errors carry the errno name in `code` (sometimes on a wrapped
 * `cause`), and the runtime facade's errors already read `Cannot bind … "…": reason`, which is reworded
 * for the input here.
 *
 * @module
 */

/** Reasons for errno codes seen when binding, phrased to end our sentence. */
const BIND_REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  ENOENT: "no such file or directory",
  ENOTDIR: "a path component is not a directory",
  EROFS: "read-only file system",
};
/** The start of a message that already says what failed to bind (the runtime facade's), to drop. */
const RUNTIME_BIND_PREFIX_REGEXP = /^Cannot bind [^"]*"(?:[^"\\]|\\.)*": /;
const CAPITALIZED_WORD_REGEXP = /^[A-Z][a-z]/;

/**
 * Builds the error thrown when an input's listener cannot bind.
 *
 * @param component The input's type, e.g. `statsd`; the message names its listener.
 * @param address The address as configured, e.g. `udp:0.0.0.0:8125`; quoted in the message.
 * @param cause The system's error (its `code`, or its cause's, picks the reason) or the reason text.
 * @returns The error, with `cause` set unless the cause was the reason text.
 * @example
 * ```ts
 * bindError("statsd", "udp:0.0.0.0:8125", Object.assign(new Error("bind EADDRINUSE"), { code: "EADDRINUSE" }))
 *   .message; // 'Cannot bind statsd listener "udp:0.0.0.0:8125": address already in use'
 * ```
 */
export function bindError(component: string, address: string, cause: unknown): Error {
  const message = `Cannot bind ${component} listener ${JSON.stringify(address)}: ${bindReason(cause)}`;
  return typeof cause === "string" ? new Error(message) : new Error(message, { cause });
}

function bindReason(cause: unknown): string {
  if (typeof cause === "string") return cause;
  // The errno name may sit on the error or, when the runtime wrapped it, on its cause.
  for (let current = cause, depth = 0; depth < 4 && isObject(current); depth++, current = current["cause"]) {
    const code = current["code"];
    if (typeof code === "string" && BIND_REASONS[code] !== undefined) return BIND_REASONS[code];
  }
  const message = isObject(cause) && typeof cause["message"] === "string" ? cause["message"] : String(cause);
  const reason = message.replace(RUNTIME_BIND_PREFIX_REGEXP, "");
  // "Address already in use" reads as the tail of our sentence; acronyms ("EACCES: …") stay intact.
  return CAPITALIZED_WORD_REGEXP.test(reason) ? reason[0]!.toLowerCase() + reason.slice(1) : reason;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
