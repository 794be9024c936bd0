/**
 * What the http input relies on, under both runtimes: `DecompressionStream("gzip")` behind the HTTP app's
 * gzip handling, `node:crypto`'s `createHash` and `timingSafeEqual` behind the bearer check,
 * `setImmediate` from `node:timers` behind the inbox's group commit, and BLOB round trips in `node:sqlite`
 * behind the inbox table.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash, timingSafeEqual } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { setImmediate } from "node:timers";
import { gzipSync } from "node:zlib";
import { Hono } from "hono";
import { createHttpApp } from "../../src/internal/http_app.ts";

describe("http push builtins", () => {
  it("DecompressionStream inflates gzip made by node:zlib, and rejects bytes that are not gzip", async () => {
    const text = "cpu,host=a usage=1\n".repeat(1000);
    const inflated = await new Response(
      new Blob([gzipSync(text)]).stream().pipeThrough(new DecompressionStream("gzip")),
    ).text();
    assert.equal(inflated, text);
    await assert.rejects(
      new Response(new Blob(["not gzip"]).stream().pipeThrough(new DecompressionStream("gzip"))).text(),
    );
  });

  it("createHttpApp() takes a gzip body and checks the bearer token", async () => {
    const echo = new Hono();
    echo.post("/echo", async (c) => c.text(await c.req.text()));
    const app = createHttpApp({ routes: [{ app: echo, auth: "bearer" }], ready: () => true, token: "t0k" });
    const ok = await app.request("/echo", {
      method: "POST",
      headers: { "content-encoding": "gzip", authorization: "Bearer t0k" },
      body: gzipSync("hello"),
    });
    assert.equal(await ok.text(), "hello");
    const denied = await app.request("/echo", {
      method: "POST",
      body: "x",
      headers: { authorization: "Basic eA==" },
    });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get("www-authenticate"), 'Bearer realm="tally", error="invalid_token"');
  });

  it("node:crypto hashes and compares in constant time; node:timers runs setImmediate after the turn", async () => {
    const a = createHash("sha256").update("token").digest();
    assert.equal(timingSafeEqual(a, createHash("sha256").update("token").digest()), true);
    assert.equal(timingSafeEqual(a, createHash("sha256").update("other").digest()), false);
    const order: string[] = [];
    await new Promise<void>((resolve) => {
      setImmediate(() => {
        order.push("immediate");
        resolve();
      });
      void Promise.resolve().then(() => order.push("microtask"));
      order.push("sync");
    });
    assert.deepEqual(order, ["sync", "microtask", "immediate"]);
  });

  it("node:sqlite stores a Uint8Array as a BLOB and reads it back as one", () => {
    const dir = mkdtempSync(join(tmpdir(), "tally-blob-"));
    const db = new DatabaseSync(join(dir, "blob.db"));
    try {
      db.exec("CREATE TABLE inbox (id INTEGER PRIMARY KEY, bytes BLOB NOT NULL)");
      const bytes = new Uint8Array([0, 1, 2, 255, 10, 13]);
      db.prepare("INSERT INTO inbox (bytes) VALUES (?)").run(bytes);
      const row = db.prepare("SELECT bytes FROM inbox").get() as { bytes: Uint8Array };
      assert.ok(row.bytes instanceof Uint8Array);
      assert.deepEqual([...row.bytes], [...bytes]);
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
