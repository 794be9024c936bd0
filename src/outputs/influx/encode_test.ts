import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import type { Metric, Point } from "../../model/metric.ts";
import type { Labels, TallyEvent } from "../../model/sample.ts";
import { seriesKey } from "../../model/series_key.ts";
import type { OutputFlush } from "../output.ts";
import {
  createInfluxEncoder,
  type InfluxEncoderOptions,
  influxFormat,
  partialWriteDropped,
  timestampText,
} from "./encode.ts";
import { escapeKey, escapeMeasurement, quoteString, trimTrailingBackslashes } from "./line_protocol.ts";

type RawMetric = Omit<Metric, "key" | "labels" | "point"> & {
  labels: Array<[string, string]>;
  point: Point | { kind: "gauge"; value: null };
};
type RawEvent = Omit<TallyEvent, "labels"> & { labels: Array<[string, string]> };

function testdata(name: string): string {
  return readFileSync(fileURLToPath(new URL(`./testdata/${name}`, import.meta.url).href), "utf8");
}

const RAW = JSON.parse(testdata("flush.json")) as { metrics: RawMetric[]; events: RawEvent[] };
const FLUSH: OutputFlush = {
  windowMs: 1_700_000_000_000,
  metrics: RAW.metrics.map((m) => ({
    ...m,
    labels: m.labels as Labels,
    key: seriesKey(m.name, m.labels),
    // JSON has no NaN: the gauge written null stands for one.
    point: m.point.kind === "gauge" && m.point.value === null
      ? { kind: "gauge", value: NaN }
      : m.point as Point,
  })),
  events: RAW.events.map((e) => ({ ...e, labels: e.labels as Labels })),
};

function encoder(options: Partial<InfluxEncoderOptions> = {}) {
  return createInfluxEncoder({
    precision: "ms",
    temporality: "delta",
    compression: "none",
    eventsMeasurement: "events",
    maxBatchLines: 5000,
    maxBatchBytes: 4 << 20,
    now: () => 1_700_000_012_345,
    ...options,
  });
}

function text(batches: ReadonlyArray<{ body: Uint8Array }>): string {
  return batches.map((b) => new TextDecoder().decode(b.body)).join("");
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

describe("createInfluxEncoder()", () => {
  it("golden (delta, ms): every kind, Telegraf's field names, escaping, events, as testdata/expected_delta.txt", () => {
    const { batches, dropped } = encoder().encode(FLUSH);
    assert.equal(text(batches), testdata("expected_delta.txt"));
    assert.deepEqual(batches.map((b) => b.events), [12]);
    assert.deepEqual(dropped, { not_finite: 1 }, "a NaN gauge has no line protocol value");
  });

  it("golden (cumulative, ns): running totals and the source's own totals, as testdata/expected_cumulative.txt", () => {
    const { batches } = encoder({ temporality: "cumulative", precision: "ns" }).encode(FLUSH);
    assert.equal(text(batches), testdata("expected_cumulative.txt"));
  });

  it("escapes measurements: comma and space; newline as \\n; backslashes doubled only where they would escape", () => {
    assert.equal(escapeMeasurement("cpu.load"), "cpu.load");
    assert.equal(escapeMeasurement("a,b c=d"), "a\\,b\\ c=d");
    assert.equal(escapeMeasurement("C:\\Temp"), "C:\\Temp");
    assert.equal(escapeMeasurement("end\\"), "end\\\\");
    assert.equal(escapeMeasurement("a\\,b"), "a\\\\\\,b");
    assert.equal(escapeMeasurement("two\\\\x"), "two\\\\\\x");
    assert.equal(escapeMeasurement("l1\nl2"), "l1\\nl2");
  });

  it("escapes tag keys, tag values and field keys: comma, equals sign, space, newline, backslash", () => {
    assert.equal(escapeKey("plain"), "plain");
    assert.equal(escapeKey("k=v, w"), "k\\=v\\,\\ w");
    assert.equal(escapeKey('say "hi"'), 'say\\ "hi"');
    assert.equal(escapeKey("x\\=y"), "x\\\\\\=y");
    assert.equal(escapeKey("dir\\"), "dir\\\\");
    assert.equal(escapeKey("a\\b"), "a\\b");
    assert.equal(escapeKey("a\nb"), "a\\nb");
  });

  it("api v1: drops the backslashes that end a name or tag, which InfluxDB 1.x cannot parse; v2 doubles them", () => {
    assert.equal(trimTrailingBackslashes("C:\\Temp\\"), "C:\\Temp");
    assert.equal(trimTrailingBackslashes("a\\\\"), "a");
    assert.equal(trimTrailingBackslashes("\\"), "\\", "nothing would be left");
    assert.equal(trimTrailingBackslashes("a\\b"), "a\\b");
    const metric = gauge("m\\", 1, [["dir\\", "C:\\Temp\\"]]);
    const flush = { windowMs: 0, metrics: [metric], events: [] };
    assert.equal(
      text(encoder({ api: "v1" }).encode(flush).batches),
      "m,dir=C:\\Temp,metric_type=gauge value=1 1700000000000\n",
    );
    assert.equal(
      text(encoder({ api: "v2" }).encode(flush).batches),
      "m\\\\,dir\\\\=C:\\Temp\\\\,metric_type=gauge value=1 1700000000000\n",
    );
  });

  it("quotes string fields: double quote and backslash escaped, newline and carriage return as \\n and \\r", () => {
    assert.equal(quoteString("plain text, with = and spaces"), '"plain text, with = and spaces"');
    assert.equal(quoteString('say "hi"'), '"say \\"hi\\""');
    assert.equal(quoteString("C:\\app\\"), '"C:\\\\app\\\\"');
    assert.equal(quoteString("l1\r\nl2"), '"l1\\r\\nl2"');
    assert.equal(quoteString(""), '""');
  });

  it("writes timestamps in every precision exactly, past 2^53 nanoseconds", () => {
    assert.deepEqual(
      (["ns", "us", "ms", "s"] as const).map((p) => timestampText(1_700_000_000_123, p)),
      ["1700000000123000000", "1700000000123000", "1700000000123", "1700000000"],
    );
    assert.equal(timestampText(0, "ns"), "0");
  });

  it("splits a flush into batches by lines and by bytes, keeping the order and every line once", () => {
    const metrics = Array.from(
      { length: 25 },
      (_, i) => gauge(`g${String(i).padStart(2, "0")}`, i, [["p", "/".repeat(300)]]),
    );
    const flush = { windowMs: 0, metrics, events: [] };
    assert.deepEqual(encoder({ maxBatchLines: 10 }).encode(flush).batches.map((b) => b.events), [10, 10, 5]);
    const bySize = encoder({ maxBatchBytes: 4096 }).encode(flush).batches;
    assert.ok(bySize.length > 2);
    for (const batch of bySize) assert.ok(batch.body.length <= 4096, `${batch.body.length} bytes`);
    const names = text(bySize).split("\n").filter((l) => l !== "").map((l) => l.split(",")[0]);
    assert.deepEqual(names, metrics.map((m) => m.name));
  });

  it("counts the bytes of non-ASCII names exactly when it splits by size", () => {
    const metrics = Array.from(
      { length: 40 },
      (_, i) => gauge(`température.${i}`, i, [["lieu", "é".repeat(100)]]),
    );
    for (
      const batch of encoder({ maxBatchBytes: 4096 }).encode({ windowMs: 0, metrics, events: [] }).batches
    ) {
      assert.ok(batch.body.length <= 4096, `${batch.body.length} bytes`);
    }
  });

  it("gzips each body when asked and says so", () => {
    const e = encoder({ compression: "gzip" });
    assert.equal(e.headers["content-encoding"], "gzip");
    assert.equal(
      new TextDecoder().decode(gunzipSync(e.encode(FLUSH).batches[0]!.body)),
      testdata("expected_delta.txt"),
    );
    assert.deepEqual(encoder().headers, { "content-type": "text/plain; charset=utf-8" });
  });

  it("sends no events when events_measurement is empty", () => {
    const lines = text(encoder({ eventsMeasurement: "" }).encode(FLUSH).batches).split("\n");
    assert.ok(!lines.some((l) => l.startsWith("events")));
    assert.equal(lines.filter((l) => l !== "").length, 9);
  });

  it("names a format that changes with the precision and the compression", () => {
    assert.equal(encoder().format, influxFormat("ms", "none"));
    assert.notEqual(influxFormat("ms", "none"), influxFormat("s", "none"));
    assert.notEqual(influxFormat("ms", "none"), influxFormat("ms", "gzip"));
  });

  it("stays correct when its prefix cache is emptied flush after flush", () => {
    const tiny = encoder({ cacheBytes: 1 });
    for (let round = 0; round < 3; round++) {
      assert.equal(text(tiny.encode(FLUSH).batches), testdata("expected_delta.txt"));
    }
  });
});

describe("partialWriteDropped()", () => {
  it("reads how many lines InfluxDB 1.x and 2.x dropped from a partial write, and nothing else", () => {
    assert.equal(
      partialWriteDropped(
        400,
        '{"error":"partial write: field type conflict: input field \\"value\\" on measurement \\"m\\" is type ' +
          'float, already exists as type string dropped=3"}',
      ),
      3,
    );
    assert.equal(
      partialWriteDropped(
        422,
        '{"code":"unprocessable entity","message":"failure writing points to database: partial write: ' +
          'points beyond retention policy dropped=12"}',
      ),
      12,
    );
    assert.equal(
      partialWriteDropped(400, '{"error":"unable to parse \'m value=\': missing field value"}'),
      undefined,
    );
    assert.equal(partialWriteDropped(404, '{"error":"database not found: \\"nope\\""}'), undefined);
  });
});
