import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { detectRuntime } from "../../src/runtime/detect.ts";
import { createHttpApp } from "../../src/internal/http_app.ts";
import { prometheusRoutes } from "../../src/outputs/prometheus_scrape/routes.ts";

const runtime = detectRuntime();

describe(`Runtime.serve() on ${runtime.name}`, () => {
  it("serve() binds port 0 and answers fetch", async () => {
    const server = await runtime.serve((req) => new Response(`hello ${new URL(req.url).pathname}`), {
      hostname: "127.0.0.1",
      port: 0,
    });
    try {
      assert.equal(server.hostname, "127.0.0.1");
      assert.ok(server.port > 0);
      const res = await fetch(`http://127.0.0.1:${server.port}/there`);
      assert.equal(await res.text(), "hello /there");
    } finally {
      await server.close();
    }
  });

  it("serve() stops accepting after close()", async () => {
    const server = await runtime.serve(() => new Response("x"), { hostname: "127.0.0.1", port: 0 });
    const url = `http://127.0.0.1:${server.port}/`;
    assert.equal(await (await fetch(url)).text(), "x");
    await server.close();
    await assert.rejects(fetch(url, { headers: { connection: "close" } }));
  });

  it("serve() reports a taken port as a bind error with a cause", async () => {
    const first = await runtime.serve(() => new Response("x"), { hostname: "127.0.0.1", port: 0 });
    try {
      await assert.rejects(
        runtime.serve(() => new Response("y"), { hostname: "127.0.0.1", port: first.port }),
        (error) => {
          assert.ok(error instanceof Error);
          assert.equal(
            error.message,
            `Cannot bind HTTP listener "127.0.0.1:${first.port}": address already in use`,
          );
          assert.notEqual(error.cause, undefined);
          return true;
        },
      );
    } finally {
      await first.close();
    }
  });

  it("serve() runs the HTTP app with /metrics, /healthz and /readyz", async () => {
    const app = createHttpApp({
      routes: [{
        app: prometheusRoutes({
          metrics: () => [{
            name: "smoke.hits",
            labels: [["runtime", runtime.name]],
            key: "smoke.hits",
            kind: "counter",
            point: { kind: "counter", delta: 2, total: 7, rate: 0.2 },
            timeMs: 0,
            intervalMs: 10_000,
            startMs: 0,
          }],
          self: () => [],
        }),
        auth: "bearer",
      }],
      ready: () => true,
    });
    const server = await runtime.serve(app.fetch, { hostname: "127.0.0.1", port: 0 });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const metrics = await fetch(`${base}/metrics`);
      assert.equal(metrics.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
      assert.match(
        await metrics.text(),
        new RegExp(`^smoke_hits_total\\{runtime="${runtime.name}"\\} 7$`, "m"),
      );
      assert.equal(await (await fetch(`${base}/healthz`)).text(), "ok");
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
      const missing = await fetch(`${base}/missing`);
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
    } finally {
      await server.close();
    }
  });
});
