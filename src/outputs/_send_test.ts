import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Sender } from "./_send.ts";

/** What the test server saw of each request. */
interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: Buffer;
}

type Reply = (res: ServerResponse) => void;

let server: Server;
let base = "";
const seen: Seen[] = [];
const replies = new Map<string, Reply>();

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      seen.push({
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      const reply = replies.get(req.url ?? "");
      if (reply === undefined) res.writeHead(204).end();
      else reply(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function sender(path: string, timeoutMs = 5000): Sender {
  return new Sender({
    url: `${base}${path}`,
    headers: { "content-type": "application/x-test", "user-agent": "tally/test" },
    timeoutMs,
  });
}

describe("Sender", () => {
  it("posts the body with the headers and reports a 2xx as delivered", async () => {
    const s = sender("/ok");
    const result = await s.send(new TextEncoder().encode("payload"), new AbortController().signal);
    await s.close();
    assert.equal(result.kind, "delivered");
    const request = seen.find((r) => r.url === "/ok")!;
    assert.equal(request.method, "POST");
    assert.equal(request.body.toString(), "payload");
    assert.equal(request.headers["content-type"], "application/x-test");
    assert.equal(request.headers["user-agent"], "tally/test");
    assert.equal(request.headers["content-length"], "7");
  });

  it("reports a 4xx other than 429 as rejected with the body's first line", async () => {
    replies.set("/bad", (res) => res.writeHead(400).end("out of order sample\nsecond line"));
    const s = sender("/bad");
    const result = await s.send(new Uint8Array(1), new AbortController().signal);
    await s.close();
    assert.equal(result.kind, "rejected");
    assert.equal(result.kind === "rejected" && result.status, 400);
    assert.equal(result.kind === "rejected" && result.message, "out of order sample");
  });

  it("reports 429 with its Retry-After and 5xx as retry", async () => {
    replies.set("/busy", (res) => res.writeHead(429, { "retry-after": "7" }).end("slow down"));
    replies.set("/down", (res) => res.writeHead(503).end());
    const busy = sender("/busy");
    const down = sender("/down");
    const r429 = await busy.send(new Uint8Array(1), new AbortController().signal);
    const r503 = await down.send(new Uint8Array(1), new AbortController().signal);
    await busy.close();
    await down.close();
    assert.deepEqual(
      r429.kind === "retry" &&
        { reason: r429.reason, status: r429.status, after: r429.retryAfterMs, message: r429.message },
      { reason: "http_429", status: 429, after: 7000, message: "slow down" },
    );
    assert.deepEqual(r503.kind === "retry" && [r503.reason, r503.status, r503.retryAfterMs], [
      "http_5xx",
      503,
      undefined,
    ]);
  });

  it("reports a refused connection as a network retry", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const s = new Sender({ url: `http://127.0.0.1:${port}/`, headers: {}, timeoutMs: 5000 });
    const result = await s.send(new Uint8Array(1), new AbortController().signal);
    await s.close();
    assert.equal(result.kind === "retry" && result.reason, "network");
    assert.match(result.kind === "retry" ? result.message : "", /ECONNREFUSED/);
  });

  it("gives up on a receiver that does not answer within the timeout", async () => {
    replies.set("/hang", () => {});
    const s = sender("/hang", 200);
    const result = await s.send(new Uint8Array(1), new AbortController().signal);
    await s.close();
    assert.equal(result.kind === "retry" && result.reason, "timeout");
  });

  it("reports an abort by the caller as aborted", async () => {
    replies.set("/slow", () => {});
    const s = sender("/slow");
    const controller = new AbortController();
    const pending = s.send(new Uint8Array(1), controller.signal);
    setTimeout(() => controller.abort(), 50);
    assert.deepEqual(await pending, { kind: "aborted" });
    assert.deepEqual(await s.send(new Uint8Array(1), controller.signal), { kind: "aborted" });
    await s.close();
  });
});
