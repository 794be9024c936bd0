/**
 * The builtins `tally push`, `event` and `wrap` rely on, under both runtimes: undici through its file path
 * (Bun swaps a bare `undici` for a stub), gzip, the HTTP status texts, signal listeners beyond SIGINT and
 * SIGTERM, signal numbers, `isatty`, and a child on inherited stdio reporting the signal that ended it.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import { createServer } from "node:http";
import { STATUS_CODES } from "node:http";
import type { AddressInfo } from "node:net";
import { constants } from "node:os";
import process from "node:process";
import { isatty } from "node:tty";
import { gunzipSync, gzipSync } from "node:zlib";
// The file path, not the bare "undici": Bun swaps a bare `undici` import for its own stub.
import { Agent, request } from "undici/index.js";

describe("builtins of the push CLI", () => {
  it("undici/index.js posts a gzipped body and reads the answer, and reports a refused connection", async () => {
    let seen = "";
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        seen = `${req.headers["content-encoding"]} ${gunzipSync(Buffer.concat(chunks)).toString()}`;
        res.writeHead(200, { "content-type": "application/json" }).end('{"accepted":1}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const agent = new Agent({ connectTimeout: 5000, headersTimeout: 5000, bodyTimeout: 5000 });
    try {
      const response = await request(`http://127.0.0.1:${port}/api/v1/push`, {
        method: "POST",
        headers: { "content-encoding": "gzip" },
        body: gzipSync("a:1|c\n"),
        dispatcher: agent,
      });
      assert.equal(response.statusCode, 200);
      assert.deepEqual(await response.body.json(), { accepted: 1 });
      assert.equal(seen, "gzip a:1|c\n");
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await agent.close();
    // A fresh pool: a kept-alive socket to the closed server fails differently (UND_ERR_SOCKET under Deno).
    const fresh = new Agent({ connectTimeout: 5000 });
    const refused = await request(`http://127.0.0.1:${port}/`, { dispatcher: fresh }).then(
      () => undefined,
      (error: { code?: string }) => error.code,
    );
    await fresh.close();
    assert.equal(refused, "ECONNREFUSED");
  });

  it("node:http has the status texts and node:os the signal numbers", () => {
    assert.equal(STATUS_CODES[503], "Service Unavailable");
    assert.deepEqual(
      [
        constants.signals.SIGHUP,
        constants.signals.SIGINT,
        constants.signals.SIGTERM,
        constants.signals.SIGUSR1,
      ],
      [1, 2, 15, 10],
    );
    assert.equal(typeof isatty(2), "boolean");
  });

  it("process.on() receives SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2, and process.off() lets go", async () => {
    const got: string[] = [];
    const signals = ["SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"] as const;
    const listener = (signal: NodeJS.Signals) => void got.push(signal);
    for (const signal of signals) process.on(signal, listener);
    try {
      for (const signal of signals) {
        process.kill(process.pid, signal);
        for (let i = 0; i < 200 && !got.includes(signal); i++) await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      for (const signal of signals) process.off(signal, listener);
    }
    assert.deepEqual(got, [...signals]);
    assert.equal(process.listenerCount("SIGUSR1"), 0);
  });

  it("a child on inherited stdio reports the signal that ended it", async () => {
    const child = spawn("sh", ["-c", "kill -USR1 $$"], { stdio: "inherit" });
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
      child.once("exit", (c, s) => resolve([c, s]))
    );
    assert.deepEqual([code, signal], [null, "SIGUSR1"]);
  });
});
