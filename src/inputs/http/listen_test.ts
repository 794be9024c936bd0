import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import * as v from "valibot";
import { collectingContext } from "../../../tests/harness/collecting_context.ts";
import { detectRuntime } from "../../runtime/detect.ts";
import type { StoredEvent } from "../../store/event_table.ts";
import { schema } from "./config.ts";
import { HttpInput } from "./listen.ts";
import { testCollector } from "./_test_collector.ts";
import type { TestCollector } from "./_test_collector.ts";

async function withCollector(
  options: Parameters<typeof testCollector>[0],
  body: (c: TestCollector) => Promise<void>,
): Promise<void> {
  const c = await testCollector(options);
  try {
    await body(c);
  } finally {
    await c.close();
  }
}

describe("POST /api/v1/events", () => {
  it("POST /api/v1/events stores events at once with their ends and answers their ids", async () => {
    await withCollector({}, async (c) => {
      const start = Date.now() - 60_000;
      const res = await c.request("/api/v1/events", {
        json: {
          events: [
            { title: "Deploy", text: "v1.2 to prod", start, end: start + 30_000, labels: { env: "prod" } },
            { title: "Restart" },
          ],
        },
      });
      assert.equal(res.status, 200);
      const { ids } = await res.json() as { ids: number[] };
      assert.deepEqual(ids, [1, 2]);
      const listed = await c.request("/api/v1/events");
      const events = (await listed.json() as { events: StoredEvent[] }).events;
      const restart = events.find((e) => e.id === 2)!;
      assert.equal(restart.end, restart.t, "an instant event ends at its start");
      assert.deepEqual(events.find((e) => e.id === 1), {
        id: 1,
        t: start,
        end: start + 30_000,
        kind: "event",
        title: "Deploy",
        text: "v1.2 to prod",
        labels: { env: "prod" },
        status: -1,
      });
      assert.equal(c.selfMetric("tally_component_received_events_total", { component_type: "http" }), 2);
    });
  });

  it("POST /api/v1/events answers 400 naming every bad field and stores none of the events", async () => {
    await withCollector({}, async (c) => {
      const start = Date.now();
      const res = await c.request("/api/v1/events", {
        json: {
          events: [
            { title: "ok" },
            { title: "", start, end: start - 1 },
            { text: "no title", labels: { a: ["x"] } },
            { title: "late", end: 1_000_000_000_000 },
          ],
        },
      });
      assert.equal(res.status, 400);
      const body = await res.json() as { error: string; issues: Array<{ path: string; message: string }> };
      assert.deepEqual(body.issues.map((i) => i.path), [
        "events[1].title",
        "events[1].end",
        "events[2].title",
        "events[2].labels.a",
      ]);
      assert.equal(c.store.events({ sinceMs: 0 }).length, 0);
      const late = await c.request("/api/v1/events", {
        json: { events: [{ title: "late", end: 1_000_000_000_000 }] },
      });
      assert.equal(late.status, 400);
      assert.match(
        JSON.stringify(await late.json()),
        /"path":"events\[0\]\.end","message":"expected an end at or after the start \(now, \d+\), found 1000000000000"/,
      );
      const backwards = await c.request("/api/v1/events", {
        json: { events: [{ title: "x", start, end: start - 1 }] },
      });
      assert.deepEqual((await backwards.json() as { issues: unknown }).issues, [
        { path: "events[0].end", message: `expected an end at or after the start, found ${start - 1}` },
      ]);
    });
  });
});

describe("http input behind the endpoint", () => {
  it("the push routes need the bearer token when one is set, and 401 a Basic header", async () => {
    await withCollector({ token: "s3cret" }, async (c) => {
      const body = JSON.stringify({ metrics: [{ name: "a", type: "counter", value: 1 }] });
      const none = await c.app.request("/api/v1/push", { method: "POST", body });
      assert.equal(none.status, 401);
      assert.equal(none.headers.get("www-authenticate"), 'Bearer realm="tally"');
      const basic = await c.app.request("/write", {
        method: "POST",
        body: "m value=1",
        headers: { authorization: "Basic dXNlcjpzM2NyZXQ=" },
      });
      assert.equal(basic.status, 401);
      assert.match(basic.headers.get("www-authenticate") ?? "", /^Bearer /);
      assert.equal((await c.request("/api/v1/push", { method: "POST", body })).status, 200);
      assert.equal(c.store.inboxRows().length, 1, "only the authenticated push was kept");
    });
  });

  it("the push routes take gzip bodies and answer 413 past http.max_body, as sent or decompressed", async () => {
    await withCollector({ maxBody: 4096 }, async (c) => {
      const lines = Array.from({ length: 600 }, (_, i) => `m${i % 3} value=${i}`).join("\n");
      assert.ok(lines.length > 4096);
      const gzipped = await c.request("/write", {
        method: "POST",
        headers: { "content-encoding": "gzip" },
        body: gzipSync(lines.slice(0, 4000)),
      });
      assert.equal(gzipped.status, 204);
      const big = await c.request("/write", {
        method: "POST",
        headers: { "content-encoding": "gzip" },
        body: gzipSync(lines),
      });
      assert.equal(big.status, 413);
      assert.deepEqual(await big.json(), {
        error: "Request body is larger than the limit of 4096 bytes once decompressed",
      });
      const plain = await c.request("/api/v1/statsd", { method: "POST", body: "a:1|c\n".repeat(1000) });
      assert.equal(plain.status, 413);
      assert.equal(c.store.inboxRows().length, 1);
      await c.flush();
      assert.deepEqual(c.store.query({ name: "m0", sinceMs: 0 }).length, 1);
    });
  });

  it("the push routes answer 503 once the input is stopping", async () => {
    await withCollector({}, async (c) => {
      await c.input.stop();
      const res = await c.request("/api/v1/push", {
        json: { metrics: [{ name: "a", type: "gauge", value: 1 }] },
      });
      assert.equal(res.status, 503);
      assert.equal(res.headers.get("retry-after"), "5");
      assert.equal((await c.request("/write", { method: "POST", body: "m value=1" })).status, 503);
    });
  });

  it("HttpInput.start() refuses a context without an HTTP endpoint, inbox and store", async () => {
    const { ctx } = collectingContext({ type: "http", id: "push" }, { runtime: detectRuntime() });
    const input = new HttpInput(v.parse(schema, {}), "push");
    await assert.rejects(
      input.start(ctx),
      /^Error: Cannot start http input "push": the collector gives it no HTTP endpoint, inbox or store$/,
    );
  });
});
