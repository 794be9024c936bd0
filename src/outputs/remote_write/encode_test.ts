import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Metric } from "../../model/metric.ts";
import type { Labels } from "../../model/sample.ts";
import { seriesKey } from "../../model/series_key.ts";
import { decodeWriteRequest } from "../../../tests/harness/write_request.ts";
import type { DecodedSeries } from "../../../tests/harness/write_request.ts";
import { renderPrometheus } from "../prometheus_scrape/render.ts";
import type { OutputFlush } from "../output.ts";
import { createRemoteWriteEncoder, REMOTE_WRITE_FORMAT, REMOTE_WRITE_HEADERS } from "./encode.ts";

type RawMetric = Omit<Metric, "key" | "labels"> & { labels: Array<[string, string]> };

function testdata<T>(name: string): T {
  return JSON.parse(
    readFileSync(fileURLToPath(new URL(`./testdata/${name}`, import.meta.url).href), "utf8"),
  ) as T;
}

const FLUSH: OutputFlush = {
  windowMs: 1_700_000_000_000,
  metrics: testdata<{ metrics: RawMetric[] }>("flush.json").metrics.map((m) => ({
    ...m,
    labels: m.labels as Labels,
    key: seriesKey(m.name, m.labels as Labels),
  })),
  events: [],
};

function encoder(options: Partial<Parameters<typeof createRemoteWriteEncoder>[0]> = {}) {
  return createRemoteWriteEncoder({
    externalLabels: { site: "edge-7", env: "default" },
    maxBatchSamples: 10_000,
    maxBatchBytes: 4 << 20,
    ...options,
  });
}

function decodeAll(batches: ReadonlyArray<{ body: Uint8Array }>): DecodedSeries[] {
  return batches.flatMap((batch) => decodeWriteRequest(batch.body));
}

function gauge(name: string, value: number, labels: Labels = []): Metric {
  return {
    name,
    labels,
    key: seriesKey(name, labels),
    kind: "gauge",
    point: { kind: "gauge", value },
    timeMs: 1_700_000_000_000,
    intervalMs: 10_000,
    startMs: 1_700_000_000_000,
  };
}

describe("createRemoteWriteEncoder()", () => {
  it("golden: encodes every kind of metric as testdata/expected.json says", () => {
    const { batches, dropped } = encoder().encode(FLUSH);
    assert.equal(batches.length, 1);
    assert.equal(batches[0]!.events, 11);
    assert.deepEqual(decodeAll(batches), testdata("expected.json"));
    assert.deepEqual(dropped, { name_conflict: 0 });
  });

  it("sends what /metrics shows for the same metrics: same names, labels and values", () => {
    const text = renderPrometheus(FLUSH.metrics, []);
    const scraped = new Map<string, number>();
    for (const line of text.split("\n")) {
      if (line === "" || line.startsWith("#") || line.startsWith("tally_")) continue;
      const at = line.lastIndexOf(" ");
      const series = line.slice(0, at);
      const brace = series.indexOf("{");
      const name = brace < 0 ? series : series.slice(0, brace);
      // The text format may list a summary's quantile last; compare label sets, sorted.
      const labels = [...series.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => `${m[1]}="${m[2]}"`)
        .sort();
      scraped.set(labels.length === 0 ? name : `${name}{${labels.join(",")}}`, Number(line.slice(at + 1)));
    }
    const sent = new Map<string, number>();
    for (const series of decodeAll(encoder({ externalLabels: {} }).encode(FLUSH).batches)) {
      const name = series.labels.find(([n]) => n === "__name__")![1];
      const labels = series.labels.filter(([n]) => n !== "__name__").map(([n, v]) => `${n}="${v}"`).join(",");
      sent.set(labels === "" ? name : `${name}{${labels}}`, series.samples[0]!.value);
    }
    assert.deepEqual(sent, scraped);
  });

  it("sorts labels by name, __name__ among them, as the spec requires", () => {
    const metric = gauge("m", 1, [["Zone", "a"], ["app", "b"]]);
    const [series] = decodeAll(
      encoder({ externalLabels: { B: "x" } }).encode({ windowMs: 0, metrics: [metric], events: [] }).batches,
    );
    assert.deepEqual(series!.labels.map(([n]) => n), ["B", "Zone", "__name__", "app"]);
  });

  it("splits a flush into batches by samples and by bytes, keeping the order", () => {
    const metrics = Array.from(
      { length: 25 },
      (_, i) => gauge(`g${String(i).padStart(2, "0")}`, i, [["path", "/".repeat(400)]]),
    );
    const flush = { windowMs: 0, metrics, events: [] };
    const bySamples = encoder({ maxBatchSamples: 10 }).encode(flush).batches;
    assert.deepEqual(bySamples.map((b) => b.events), [10, 10, 5]);
    const bySize = encoder({ maxBatchBytes: 4096 }).encode(flush).batches;
    assert.ok(bySize.length > 1);
    for (const batch of bySize) assert.ok(batch.events >= 1);
    const names = decodeAll(bySize).map((s) => s.labels.find(([n]) => n === "__name__")![1]);
    assert.deepEqual(names, metrics.map((m) => m.name));
    assert.equal(bySize.reduce((sum, b) => sum + b.events, 0), 25);
  });

  it("keeps the first of two series that sanitise alike, flush after flush, and counts the other", () => {
    const e = encoder({ externalLabels: {} });
    const flush = { windowMs: 0, metrics: [gauge("a.b", 1), gauge("a_b", 2)], events: [] };
    for (let round = 0; round < 2; round++) {
      const { batches, dropped } = e.encode(flush);
      assert.deepEqual(decodeAll(batches).map((s) => s.samples[0]!.value), [1]);
      assert.deepEqual(dropped, { name_conflict: 1 });
    }
    const swapped = e.encode({ windowMs: 0, metrics: [gauge("a_b", 3), gauge("a.b", 4)], events: [] });
    assert.deepEqual(decodeAll(swapped.batches).map((s) => s.samples[0]!.value), [4]);
  });

  it("sends a counter's running total, never the window's delta", () => {
    const counter: Metric = {
      ...FLUSH.metrics[0]!,
      point: { kind: "counter", delta: 5, total: 1005, rate: 0.5 },
    };
    const [series] = decodeAll(encoder().encode({ windowMs: 0, metrics: [counter], events: [] }).batches);
    assert.equal(series!.samples[0]!.value, 1005);
  });

  it("stays correct when its label cache is emptied again and again", () => {
    const tiny = encoder({ cacheBytes: 1 });
    for (let round = 0; round < 3; round++) {
      assert.deepEqual(decodeAll(tiny.encode(FLUSH).batches), testdata("expected.json"));
    }
  });

  it("encodes timestamps of any varint length, not only this century's", () => {
    const times = [0, 1000, 1_700_000_000_000, 8_000_000_000_000_000];
    const metrics = times.map((timeMs) => ({ ...gauge("t", timeMs), timeMs }));
    const e = encoder({ externalLabels: {} });
    for (let round = 0; round < 2; round++) {
      const decoded = decodeAll(e.encode({ windowMs: 0, metrics, events: [] }).batches);
      assert.deepEqual(decoded.map((s) => s.samples[0]), times.map((t) => ({ value: t, timestampMs: t })));
    }
  });

  it("names its format and the remote-write 1.0 headers", () => {
    const e = encoder();
    assert.equal(e.format, REMOTE_WRITE_FORMAT);
    assert.deepEqual(e.headers, REMOTE_WRITE_HEADERS);
    assert.deepEqual(REMOTE_WRITE_HEADERS, {
      "content-encoding": "snappy",
      "content-type": "application/x-protobuf",
      "x-prometheus-remote-write-version": "0.1.0",
    });
    assert.deepEqual(e.encode({ windowMs: 0, metrics: [], events: [] }).batches, []);
  });
});
