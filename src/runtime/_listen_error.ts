/**
 * The one shape of "could not bind" errors across runtimes: Bun and Deno report the same OS failure with
 * different classes and messages (`Failed to start server. Is port 8127 in use?` vs `Address already in
 * use (os error 98)`), but both carry the errno name in `code`.
 *
 * @module
 */

const REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "address not available",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  ENOTDIR: "a path component is not a directory",
  EROFS: "read-only file system",
  ENAMETOOLONG: "path too long",
};

/**
 * Builds the error thrown when a listener cannot bind.
 *
 * @param listener What failed to bind, e.g. `HTTP listener`.
 * @param address The address as the user wrote it, e.g. `127.0.0.1:8127`; quoted in the message.
 * @param cause The runtime's error (its `code`, when it has one, picks the reason) or the reason text.
 * @returns The error, with `cause` set when one was given.
 * @example
 * ```ts
 * listenError("HTTP listener", "127.0.0.1:8127", { code: "EADDRINUSE" }).message;
 * // 'Cannot bind HTTP listener "127.0.0.1:8127": address already in use'
 * ```
 */
export function listenError(listener: string, address: string, cause: unknown): Error {
  const message = `Cannot bind ${listener} ${JSON.stringify(address)}: ${reasonOf(cause)}`;
  return typeof cause === "string" ? new Error(message) : new Error(message, { cause });
}

/**
 * Formats a host and port for messages, bracketing IPv6 hosts.
 *
 * @param hostname The host.
 * @param port The port.
 * @returns `host:port` or `[v6]:port`.
 */
export function hostPort(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

function reasonOf(cause: unknown): string {
  if (typeof cause === "string") return lowerFirst(cause);
  if (typeof cause === "object" && cause !== null) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && REASONS[code] !== undefined) return REASONS[code];
    const message = (cause as { message?: unknown }).message;
    if (typeof message === "string" && message.length > 0) return lowerFirst(message);
  }
  return lowerFirst(String(cause));
}

function lowerFirst(text: string): string {
  // "Address already in use" reads as the tail of our sentence; keep acronyms ("EACCES: …") intact.
  return /^[A-Z][a-z]/.test(text) ? text[0]!.toLowerCase() + text.slice(1) : text;
}
