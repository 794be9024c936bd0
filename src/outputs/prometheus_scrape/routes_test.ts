import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Metric } from "../../model/metric.ts";
import type { SelfFamily } from "../../internal/self_stats.ts";
import { renderPrometheus } from "./render.ts";
import { PROMETHEUS_CONTENT_TYPE, prometheusRoutes } from "./routes.ts";

function gauge(name: string, value: number): Metric {
  return {
    name,
    labels: [],
    key: name,
    kind: "gauge",
    point: { kind: "gauge", value },
    timeMs: 0,
    intervalMs: 10_000,
    startMs: 0,
  };
}

const SELF: readonly SelfFamily[] = [{
  name: "tally_up",
  help: "Always 1",
  type: "gauge",
  series: [{ labels: [], value: 1 }],
}];

describe("prometheusRoutes()", () => {
  it("prometheusRoutes() serves GET /metrics in text format 0.0.4", async () => {
    const app = prometheusRoutes({ metrics: () => [gauge("room.temp", 21.5)], self: () => SELF });
    const res = await app.request("/metrics");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), PROMETHEUS_CONTENT_TYPE);
    const body = await res.text();
    assert.match(body, /^room_temp 21\.5$/m);
    assert.match(body, /^tally_up 1$/m);
  });

  it("prometheusRoutes() renders fresh values on every scrape", async () => {
    let value = 1;
    const app = prometheusRoutes({ metrics: () => [gauge("n", value)], self: () => [] });
    assert.match(await (await app.request("/metrics")).text(), /^n 1$/m);
    value = 2;
    assert.match(await (await app.request("/metrics")).text(), /^n 2$/m);
  });

  it("prometheusRoutes() gzips a large body when the scraper accepts gzip", async () => {
    const metrics = Array.from({ length: 200 }, (_, i) => gauge(`series.${i}`, i));
    const app = prometheusRoutes({ metrics: () => metrics, self: () => [] });
    const res = await app.request("/metrics", { headers: { "accept-encoding": "gzip" } });
    assert.equal(res.headers.get("content-encoding"), "gzip");
    const plain = new Response(res.body!.pipeThrough(new DecompressionStream("gzip")));
    assert.match(await plain.text(), /^series_199 199$/m);
  });

  it("prometheusRoutes() streams a large body in chunks that join to the whole render", async () => {
    const metrics = Array.from({ length: 20_000 }, (_, i) => gauge(`series.${i}`, i));
    const app = prometheusRoutes({ metrics: () => metrics, self: () => SELF });
    const res = await app.request("/metrics");
    const reader = res.body!.getReader();
    const parts: Uint8Array[] = [];
    for (let next = await reader.read(); !next.done; next = await reader.read()) parts.push(next.value);
    assert.ok(parts.length > 1, `${parts.length} chunk(s)`);
    const text = new TextDecoder().decode(Buffer.concat(parts));
    assert.equal(text, renderPrometheus(metrics, SELF));
  });

  it("prometheusRoutes() answers only /metrics", async () => {
    const app = prometheusRoutes({ metrics: () => [], self: () => [] });
    assert.equal((await app.request("/metrics", { method: "POST" })).status, 404);
    assert.equal((await app.request("/other")).status, 404);
  });
});
