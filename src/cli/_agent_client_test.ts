import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { AgentClient, AgentError } from "./_agent_client.ts";
import type { AgentSettings } from "./_agent_settings.ts";

/** One request as the server saw it. */
interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: Buffer;
}

type Handler = (req: Seen, res: ServerResponse) => void;

/** A real HTTP server on a loopback port, answering with whatever handler the test sets. */
class TestAgent {
  readonly seen: Seen[] = [];
  handler: Handler = (_req, res) => void res.writeHead(204).end();
  #server: Server | undefined;

  async listen(port = 0): Promise<number> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const seen = {
          method: req.method ?? "",
          url: req.url ?? "",
          headers: req.headers,
          body: Buffer.concat(chunks),
        };
        this.seen.push(seen);
        this.handler(seen, res);
      });
    });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const agent = new TestAgent();
  const port = await agent.listen();
  await agent.close();
  return port;
}

function settings(port: number, overrides: Partial<AgentSettings> = {}): AgentSettings {
  return {
    url: `http://127.0.0.1:${port}`,
    token: "",
    timeoutMs: 5000,
    waitMs: 0,
    dryRun: false,
    ...overrides,
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

async function rejection(promise: Promise<unknown>): Promise<AgentError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AgentError, `expected an AgentError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected the request to fail");
}

const PUSH = {
  method: "POST",
  path: "/api/v1/push",
  contentType: "application/json",
  body: '{"metrics":[]}',
} as const;

describe("AgentClient", () => {
  const agent = new TestAgent();
  let port = 0;

  before(async () => {
    port = await agent.listen();
  });
  after(async () => {
    await agent.close();
  });

  it("AgentClient.send() posts the body with the token and returns the parsed answer", async () => {
    agent.handler = (_req, res) => json(res, 200, { accepted: 2 });
    const client = new AgentClient(settings(port, { token: "s3cret" }), { print: () => {} });
    const reply = await client.send(PUSH, "push to");
    await client.close();
    assert.deepEqual(reply, { status: 200, json: { accepted: 2 } });
    const seen = agent.seen.at(-1)!;
    assert.equal(seen.method, "POST");
    assert.equal(seen.url, "/api/v1/push");
    assert.equal(seen.headers["authorization"], "Bearer s3cret");
    assert.equal(seen.headers["content-type"], "application/json");
    assert.match(seen.headers["user-agent"] ?? "", /^tally\/\d+\.\d+\.\d+$/);
    assert.equal(seen.body.toString(), '{"metrics":[]}');
  });

  it("AgentClient.send() gzips the body when asked, and sends no Authorization without a token", async () => {
    agent.handler = (_req, res) => void res.writeHead(204).end();
    const client = new AgentClient(settings(port), { print: () => {} });
    const reply = await client.send(
      { method: "POST", path: "/api/v1/statsd", body: "a:1|c\n", gzip: true },
      "push to",
    );
    await client.close();
    assert.deepEqual(reply, { status: 204, json: undefined });
    const seen = agent.seen.at(-1)!;
    assert.equal(seen.headers["content-encoding"], "gzip");
    assert.equal(seen.headers["authorization"], undefined);
    assert.equal(gunzipSync(seen.body).toString(), "a:1|c\n");
  });

  it("AgentClient.send() names the URL and the state when nothing listens", async () => {
    const closed = await closedPort();
    const client = new AgentClient(settings(closed), { print: () => {} });
    const error = await rejection(client.send(PUSH, "push to"));
    await client.close();
    assert.equal(
      error.message,
      `Cannot push to http://127.0.0.1:${closed}/api/v1/push: connection refused (is "tally run" running?)`,
    );
    assert.equal(error.status, undefined);
  });

  it("AgentClient.send() retries a refused connection until the agent listens, then sends once", async () => {
    const late = new TestAgent();
    const latePort = await closedPort();
    const pauses: number[] = [];
    const client = new AgentClient(settings(latePort, { waitMs: 60_000 }), {
      print: () => {},
      random: () => 0,
      async sleep(ms) {
        pauses.push(ms);
        // The agent comes up during the second pause.
        if (pauses.length === 2) await late.listen(latePort);
      },
    });
    late.handler = (req, res) =>
      req.url === "/readyz" ? void res.end("ready") : json(res, 200, { accepted: 0 });
    try {
      assert.deepEqual(await client.send(PUSH, "push to"), { status: 200, json: { accepted: 0 } });
    } finally {
      await client.close();
      await late.close();
    }
    assert.deepEqual(pauses, [25, 50], "backoff doubles (equal jitter at random() = 0)");
    assert.deepEqual(late.seen.map((s) => `${s.method} ${s.url}`), ["GET /readyz", "POST /api/v1/push"]);
  });

  it("AgentClient.send() waits out a 503 through /readyz and then sends again", async () => {
    let readyz = 0;
    let pushes = 0;
    agent.handler = (req, res) => {
      if (req.url === "/readyz") return void res.writeHead(++readyz < 2 ? 503 : 200).end();
      if (++pushes === 1) return json(res, 503, { error: "Tally is starting" });
      json(res, 200, { accepted: 0 });
    };
    const client = new AgentClient(settings(port, { waitMs: 60_000 }), {
      print: () => {},
      sleep: async () => {},
    });
    const reply = await client.send(PUSH, "push to");
    await client.close();
    assert.deepEqual(reply, { status: 200, json: { accepted: 0 } });
    assert.deepEqual([pushes, readyz], [2, 2]);
  });

  it("AgentClient.send() gives up on a refused connection once --wait has passed, saying so", async () => {
    const closed = await closedPort();
    let clock = 0;
    const client = new AgentClient(settings(closed, { waitMs: 5000 }), {
      print: () => {},
      now: () => clock,
      sleep: (ms) => Promise.resolve(void (clock += ms)),
    });
    const error = await rejection(client.send(PUSH, "push to"));
    await client.close();
    assert.equal(
      error.message,
      `Cannot push to http://127.0.0.1:${closed}/api/v1/push: connection refused, still after retrying for 5s ` +
        '(is "tally run" running?)',
    );
    assert.ok(clock >= 5000, `waited ${clock} ms of the 5000 allowed`);
  });

  it("AgentClient.send() reports a 400 with its issues and never retries it", async () => {
    const before = agent.seen.length;
    agent.handler = (_req, res) =>
      json(res, 400, {
        error: "Invalid push body",
        issues: [{ path: "metrics[1].value", message: 'expected a finite number, found "abc"' }],
      });
    const client = new AgentClient(settings(port, { waitMs: 60_000 }), { print: () => {} });
    const error = await rejection(client.send(PUSH, "push to"));
    await client.close();
    assert.equal(
      error.message,
      `Cannot push to http://127.0.0.1:${port}/api/v1/push: the agent answered 400 Bad Request: Invalid push body`,
    );
    assert.equal(error.status, 400);
    assert.deepEqual(error.issues, [{
      path: "metrics[1].value",
      message: 'expected a finite number, found "abc"',
    }]);
    assert.equal(agent.seen.length, before + 1);
  });

  it("AgentClient.send() names the status, the agent's error and the way out for 401, 404 and 500", async () => {
    const client = new AgentClient(settings(port), { print: () => {} });
    const base = `Cannot send event to http://127.0.0.1:${port}/api/v1/events: the agent answered`;
    agent.handler = (_req, res) => json(res, 401, { error: "Missing bearer token" });
    assert.equal(
      (await rejection(client.send(PUSH, "send event to"))).message,
      `${
        base.replace("/api/v1/events", "/api/v1/push")
      } 401 Unauthorized: Missing bearer token (set --token or TALLY_TOKEN to the agent's http.token)`,
    );
    agent.handler = (_req, res) => json(res, 404, { error: 'No route for POST "/api/v1/events"' });
    assert.equal(
      (await rejection(client.send({ ...PUSH, path: "/api/v1/events" }, "send event to"))).message,
      `${base} 404 Not Found: No route for POST "/api/v1/events" (is a tally with the HTTP push API listening at that URL?)`,
    );
    agent.handler = (_req, res) => void res.writeHead(500).end("boom\nstack");
    assert.equal(
      (await rejection(client.send({ ...PUSH, path: "/api/v1/events" }, "send event to"))).message,
      `${base} 500 Internal Server Error: boom`,
    );
    await client.close();
  });

  it("AgentClient.send() does not retry a request that timed out: the agent may have taken it", async () => {
    let pushes = 0;
    agent.handler = () => void pushes++;
    const client = new AgentClient(settings(port, { timeoutMs: 200, waitMs: 60_000 }), { print: () => {} });
    const error = await rejection(client.send(PUSH, "push to"));
    await client.close();
    assert.equal(
      error.message,
      `Cannot push to http://127.0.0.1:${port}/api/v1/push: no answer within 0.2s (--timeout); ` +
        "the data may or may not have been taken",
    );
    assert.equal(pushes, 1);
  });

  it("AgentClient.send() stops waiting for the agent when interrupted, and says so", async () => {
    const closed = await closedPort();
    const interrupt = new AbortController();
    const client = new AgentClient(settings(closed, { waitMs: 60_000 }), {
      print: () => {},
      signal: interrupt.signal,
      sleep: () => Promise.resolve(interrupt.abort()),
    });
    const error = await rejection(client.send(PUSH, "push to"));
    await client.close();
    assert.equal(error.message, `Cannot push to http://127.0.0.1:${closed}/api/v1/push: interrupted`);
    const interrupted = new AgentClient(settings(port), { print: () => {}, signal: AbortSignal.abort() });
    const aborted = await rejection(interrupted.send(PUSH, "push to"));
    await interrupted.close();
    assert.equal(aborted.message, `Cannot push to http://127.0.0.1:${port}/api/v1/push: interrupted`);
  });

  it("AgentClient.send() under --dry-run prints the request with the token masked and sends nothing", async () => {
    const closed = await closedPort();
    let printed = "";
    const client = new AgentClient(settings(closed, { token: "s3cret", dryRun: true }), {
      print: (s) => void (printed += s),
    });
    assert.equal(await client.send({ ...PUSH, gzip: true }, "push to"), undefined);
    assert.equal(
      await client.send({
        method: "POST",
        path: "/api/v1/app/default/data/",
        body: "cdata=xyz",
        headers: { httpauthorization: "t" },
        shownBody: "cdata=base64(gzip([]))",
      }, "push to"),
      undefined,
    );
    await client.close();
    assert.equal(
      printed,
      `POST http://127.0.0.1:${closed}/api/v1/push\n` +
        "Authorization: Bearer ***\nContent-Type: application/json\nContent-Encoding: gzip\n\n" +
        '{"metrics":[]}\n' +
        `\nPOST http://127.0.0.1:${closed}/api/v1/app/default/data/\n` +
        "HTTPAuthorization: t\nAuthorization: Bearer ***\n\ncdata=base64(gzip([]))\n",
    );
    assert.doesNotMatch(printed, /s3cret/);
  });
});
