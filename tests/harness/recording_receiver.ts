/**
 * A real HTTP receiver on a loopback port for output tests: it records every request (method, path,
 * headers, body) and answers with what the test scripts, 204 by default.
 *
 * @module
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { waitFor } from "./wait_for.ts";

/** One request as the receiver saw it. */
export interface ReceivedRequest {
  /** The method. */
  readonly method: string;
  /** The path with the query. */
  readonly path: string;
  /** The headers (names in lower case). */
  readonly headers: IncomingHttpHeaders;
  /** The body. */
  readonly body: Uint8Array;
}

/** How the receiver answers one request; a function that never ends the response makes it hang. */
export type Reply = (res: ServerResponse, request: ReceivedRequest) => void;

/** A running receiver: a resource; `close()` stops it. */
export interface RecordingReceiver {
  /** The base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** Every request, in arrival order (a live array). */
  readonly requests: ReceivedRequest[];
  /**
   * Scripts the next answers: each request takes the first reply left; with none left it gets `fallback`.
   *
   * @param replies The replies, in order.
   */
  reply(...replies: Reply[]): void;
  /** The answer once the scripted ones are used up; 204 at first. */
  fallback: Reply;
  /**
   * Waits until at least `count` requests arrived.
   *
   * @param count How many.
   * @param timeoutMs The bound, 10 000 ms by default.
   */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Closes the server and every connection. */
  close(): Promise<void>;
}

/**
 * A reply with a status, optional headers and a body.
 *
 * @param status The status code.
 * @param body The body text.
 * @param headers The response headers.
 * @returns The reply.
 */
export function status(status: number, body = "", headers: Record<string, string> = {}): Reply {
  return (res) => res.writeHead(status, headers).end(body);
}

/** Options of {@link startRecordingReceiver}. */
export interface RecordingReceiverOptions {
  /** The port; a free one by default (pass one to start the receiver where a sender already posts). */
  readonly port?: number;
}

/**
 * Starts a receiver on 127.0.0.1 and a free port (or the one given).
 *
 * @param options The port.
 * @returns The receiver.
 */
export async function startRecordingReceiver(
  options: RecordingReceiverOptions = {},
): Promise<RecordingReceiver> {
  const requests: ReceivedRequest[] = [];
  const scripted: Reply[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const request: ReceivedRequest = {
        method: req.method ?? "",
        path: req.url ?? "",
        headers: req.headers,
        body: new Uint8Array(Buffer.concat(chunks)),
      };
      requests.push(request);
      (scripted.shift() ?? receiver.fallback)(res, request);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", resolve);
  });
  const receiver: RecordingReceiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    reply(...replies) {
      scripted.push(...replies);
    },
    fallback: status(204),
    async waitForRequests(count, timeoutMs = 10_000) {
      await waitFor(() => requests.length >= count, { timeoutMs, what: `${count} requests` });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}
