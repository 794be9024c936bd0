/**
 * The client side of collectd's unixsock protocol (collectd `src/collectd-unixsock.pod`): one connection
 * reading reply lines as they arrive, a reply (a status line, then as many lines as it announces), and the
 * errors a poll counts by `error_type`.
 *
 * @module
 */

import { connect } from "node:net";
import type { Socket } from "node:net";

/** The longest reply line accepted; collectd's own lines are far shorter. */
const MAX_LINE = 65_536;
/** The most values a reply may announce before it is taken for garbage. */
const MAX_COUNT = 10_000_000;
const STATUS_REGEXP = /^(-?\d+)(?: (.*))?$/;

/** A poll that failed for a reason worth its own `error_type`. */
export class PollError extends Error {
  readonly errorType: string;

  /**
   * @param errorType The `error_type` to count.
   * @param message What failed and the state found.
   * @param options The cause.
   */
  constructor(errorType: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PollError";
    this.errorType = errorType;
  }
}

/**
 * One connection to collectd's unixsock: a resource reading reply lines as they arrive.
 */
export class UnixsockConnection {
  readonly #socket: Socket;
  readonly #lines: string[] = [];
  #partial = "";
  #failure: Error | undefined;
  #waiter: { resolve: (line: string) => void; reject: (error: Error) => void } | undefined;

  /**
   * @param socket A connected socket.
   * @param signal Aborts the connection.
   */
  constructor(socket: Socket, signal: AbortSignal) {
    this.#socket = socket;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => this.#take(chunk));
    socket.on(
      "error",
      (error: Error) => this.#fail(new PollError("connection", describe(error), { cause: error })),
    );
    // Bun reports the peer's close as "end" and may hold "close" back until the socket is destroyed.
    const onPeerClosed = () => this.#fail(new PollError("connection", "collectd closed the connection"));
    socket.on("end", onPeerClosed);
    socket.on("close", onPeerClosed);
    const onAbort = () => this.#fail(abortReason(signal));
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    socket.once("close", () => signal.removeEventListener("abort", onAbort));
  }

  /**
   * Connects to the socket at `path`.
   *
   * @param path The socket.
   * @param signal Aborts the attempt.
   * @returns The connection.
   * @throws {PollError} `connect` when the socket is missing or refuses, or the abort reason.
   */
  static open(path: string, signal: AbortSignal): Promise<UnixsockConnection> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(abortReason(signal));
      const socket = connect({ path });
      const onAbort = () => {
        socket.destroy();
        reject(abortReason(signal));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      socket.once("error", function onConnectError(error: Error) {
        signal.removeEventListener("abort", onAbort);
        socket.destroy();
        reject(
          new PollError("connect", `cannot connect to ${JSON.stringify(path)}: ${describe(error)}`, {
            cause: error,
          }),
        );
      });
      socket.once("connect", function onConnected() {
        signal.removeEventListener("abort", onAbort);
        socket.removeAllListeners("error");
        resolve(new UnixsockConnection(socket, signal));
      });
    });
  }

  /**
   * Writes commands.
   *
   * @param text One or more command lines, each ending with a newline.
   */
  send(text: string): void {
    if (this.#failure === undefined) this.#socket.write(text);
  }

  /**
   * Reads the next reply line, without its line break.
   *
   * @returns The line.
   * @throws {PollError} When the connection failed, closed or was aborted first.
   */
  readLine(): Promise<string> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** Closes the connection. */
  close(): void {
    this.#socket.destroy();
  }

  #take(chunk: string): void {
    let text = this.#partial + chunk;
    let newline = text.indexOf("\n");
    while (newline >= 0) {
      this.#lines.push(text.slice(0, newline));
      text = text.slice(newline + 1);
      newline = text.indexOf("\n");
    }
    this.#partial = text;
    if (text.length > MAX_LINE) {
      this.#fail(new PollError("protocol", `a reply line is longer than ${MAX_LINE} characters`));
      this.#socket.destroy();
      return;
    }
    const waiter = this.#waiter;
    const line = waiter === undefined ? undefined : this.#lines.shift();
    if (waiter !== undefined && line !== undefined) {
      this.#waiter = undefined;
      waiter.resolve(line);
    }
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    const waiter = this.#waiter;
    if (waiter === undefined || this.#lines.length > 0) return;
    this.#waiter = undefined;
    waiter.reject(this.#failure);
  }
}

/**
 * Reads one reply: its status line, then as many lines as it announces.
 *
 * @param connection The connection the command was sent on.
 * @param command The command, for messages: `LISTVAL`, `GETVAL`.
 * @param errorType The `error_type` of a negative status.
 * @returns The announced lines.
 * @throws {PollError} With `errorType` for a negative status, `protocol` for a status that does not parse.
 */
export async function readReply(
  connection: UnixsockConnection,
  command: string,
  errorType: string,
): Promise<string[]> {
  const status = await connection.readLine();
  const match = STATUS_REGEXP.exec(status);
  if (match === null) {
    throw new PollError("protocol", `${command} answered the status ${JSON.stringify(status)}`);
  }
  const count = Number(match[1]);
  if (count < 0) throw new PollError(errorType, `${command} failed: ${match[2] ?? status}`);
  if (count > MAX_COUNT) throw new PollError("protocol", `${command} announced ${count} values`);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) lines.push(await connection.readLine());
  return lines;
}

/**
 * Quotes an identifier for a command, as collectd's `parse_string` reads it back.
 *
 * @param identifier The identifier, as `LISTVAL` gave it.
 * @returns The identifier in double quotes, backslashes and quotes escaped.
 */
export function quote(identifier: string): string {
  return `"${identifier.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new PollError("connection", "the poll was aborted");
}

/**
 * Says what a socket error means for a user of the unixsock plugin.
 *
 * @param error What the socket or the connect attempt threw.
 * @returns A message naming the likely cause for the common codes, else the error's own message.
 */
export function describe(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "ENOENT") return "no such socket (is collectd running with the unixsock plugin?)";
  if (code === "ECONNREFUSED") return "connection refused (is collectd running?)";
  if (code === "EACCES") return "permission denied";
  return error instanceof Error ? error.message : String(error);
}
