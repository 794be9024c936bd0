import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { gzipSync } from "node:zlib";
import { FRAME_BYTES, pushFrames } from "./_data_route.ts";
import type { PushedMetric } from "./_payload.ts";
import { withCoscaleCollector } from "./_test_collector.ts";
import type { CoscaleCollector } from "./_test_collector.ts";

const APP = "/api/v1/app/my-app";

/** The sample lines of `/metrics` for one name (HELP/TYPE lines left out). */
function lines(scrape: string, name: string): string[] {
  return scrape.split("\n").filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

/** Creates a metric and returns its id. */
async function metric(c: CoscaleCollector, name: string, dataType: string): Promise<number> {
  const res = await c.form(`${APP}/metrics/`, { name, dataType, subject: "SERVER" });
  return (await res.json() as { id: number }).id;
}

function cdata(payload: unknown): string {
  return Buffer.from(gzipSync(JSON.stringify(payload))).toString("base64");
}

async function msg(res: Response): Promise<string> {
  return (await res.json() as { msg: string }).msg;
}

describe("POST data/", () => {
  it("POST data/ with form data: values reach /metrics and the store exactly, by data type, subject and dimension", async () => {
    await withCoscaleCollector({}, async (c) => {
      const depth = await metric(c, "queue depth", "DOUBLE");
      const jobs = await metric(c, "jobs", "COUNT");
      const sent = await metric(c, "bytes sent", "COUNTER");
      const latency = await metric(c, "latency", "HISTOGRAM");
      const server = (await (await c.form(`${APP}/servers/`, { name: "web-1" })).json() as { id: number }).id;
      const t = Math.floor(Date.now() / 1000) - 3600;
      const payload = [
        { m: depth, s: `s${server}`, d: [[t, 4], [0, 7.25]], dv: { Queue: "q1" } },
        { m: depth, s: "A", d: [[0, -2.5e-3]] },
        { m: jobs, s: "a", d: [[0, 2], [0, 3]] },
        { m: sent, s: "a", d: [[0, 1e9]] },
        { m: latency, s: `S${server}`, d: [[0, [40, 25, [1, 2.5, 4, 8, 16]]]] },
      ];
      const res = await c.form(`${APP}/data/`, { data: JSON.stringify(payload) });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { msg: "Inserted 7 data points" });
      await c.flush();
      const scrape = await c.scrape();
      assert.deepEqual(lines(scrape, "queue_depth"), [
        'queue_depth{Queue="q1",subject="web-1"} 7.25',
        'queue_depth{subject="application"} -0.0025',
      ]);
      assert.deepEqual(lines(scrape, "jobs_total"), ['jobs_total{subject="application"} 5']);
      assert.deepEqual(lines(scrape, "bytes_sent_total"), [
        'bytes_sent_total{subject="application"} 1000000000',
      ]);
      assert.deepEqual(
        lines(scrape, "latency"),
        [0, 25, 50, 75, 100].map((p, i) =>
          `latency{percentile="${p}",subject="web-1"} ${[1, 2.5, 4, 8, 16][i]}`
        ),
      );
      assert.deepEqual(lines(scrape, "latency_count_total"), ['latency_count_total{subject="web-1"} 40']);
      const [series] = c.store.query({ name: "queue depth", sinceMs: 0, labels: { Queue: "q1" } });
      assert.deepEqual(series?.points.map((p) => p.value), [4, 7.25]);
      assert.equal(
        series?.points[0]?.t,
        Math.floor(t / 10) * 10_000,
        "a Unix time files the point in its own window",
      );
      // What the pipeline received: one metric per number, six per histogram (five percentiles and the count).
      assert.equal(
        c.selfMetric("tally_component_received_events_total", { component_type: "coscale_api" }),
        12,
      );
    });
  });

  it("POST data/ with cdata (base64 of gzip, as the CoScale CLI sends since 2018) gives the same values", async () => {
    await withCoscaleCollector({}, async (c) => {
      const depth = await metric(c, "queue depth", "DOUBLE");
      const res = await c.form(`${APP}/data/`, {
        cdata: cdata([{
          m: depth,
          s: "A",
          d: [[-60, 1.5], [0, 2.5]],
          dv: { Queue: "q;1", "Data Center": "dc 1" },
        }]),
      });
      assert.deepEqual([res.status, await msg(res)], [200, "Inserted 2 data points"]);
      await c.flush();
      assert.deepEqual(lines(await c.scrape(), "queue_depth"), [
        'queue_depth{Data_Center="dc 1",Queue="q;1",subject="application"} 2.5',
      ]);
      const [series] = c.store.query({ name: "queue depth", sinceMs: 0 });
      assert.deepEqual(series?.labels, { "Data Center": "dc 1", Queue: "q;1", subject: "application" });
      assert.deepEqual(series?.points.map((p) => p.value), [1.5, 2.5]);
    });
  });

  it("POST data/ takes a JSON body carrying data as an array or text, or cdata", async () => {
    await withCoscaleCollector({}, async (c) => {
      const id = await metric(c, "temp", "DOUBLE");
      const post = (body: unknown) =>
        c.request(`${APP}/data`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      assert.equal((await post({ data: [{ m: id, s: "a", d: [[0, 1]] }] })).status, 200);
      assert.equal(
        (await post({ data: JSON.stringify([{ m: id, s: "a", d: [[0, 2]] }]), source: "sdk" })).status,
        200,
      );
      assert.equal((await post({ cdata: cdata([{ m: id, s: "a", d: [[0, 3]] }]) })).status, 200);
      await c.flush();
      assert.deepEqual(lines(await c.scrape(), "temp"), ['temp{subject="application"} 3']);
    });
  });

  it("POST data/ keeps an undefined metric id as coscale_metric_<id>, says so and counts it", async () => {
    await withCoscaleCollector({}, async (c) => {
      const res = await c.form(`${APP}/data/`, { data: '[{"m":675,"s":"A","d":[[0,1.23],[-60,4.2]]}]' });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), {
        msg: "Inserted 2 data points; no metric has the id 675: 2 of them are kept as coscale_metric_675 " +
          "(create the metric with POST metrics/ and send its id)",
        undefinedMetricIds: [675],
      });
      assert.equal(c.selfMetric("tally_coscale_undefined_metric_points_total"), 2);
      await c.flush();
      assert.deepEqual(lines(await c.scrape(), "coscale_metric_675"), [
        'coscale_metric_675{subject="application"} 1.23',
      ]);
    });
  });

  it("POST data/ answers 400 {msg, issues} for a bad payload and keeps nothing of it", async () => {
    await withCoscaleCollector({}, async (c) => {
      const id = await metric(c, "temp", "DOUBLE");
      const bad = await c.form(`${APP}/data/`, {
        data: JSON.stringify([{ m: id, s: "a", d: [[0, 1]] }, { m: id, s: "b2", d: [[0, "1"]] }]),
      });
      assert.equal(bad.status, 400);
      assert.deepEqual(await bad.json(), {
        msg: "Invalid metric data: 2 invalid fields (data[1].s, data[1].d[0][1])",
        issues: [
          {
            path: "data[1].s",
            message: 'expected a subject: a, s<server id> or g<server group id>, found "b2"',
          },
          {
            path: "data[1].d[0][1]",
            message: 'expected a number or a histogram [samples, percentileWidth, [values…]], found "1"',
          },
        ],
      });
      const refusals: Array<[Record<string, string>, RegExp]> = [
        [{ data: "[{" }, /^Metric data is not JSON: /],
        [{}, /^Send the metric data in the form field data or cdata$/],
        [{ data: "[]", cdata: cdata([]) }, /^Send the metric data as data or as cdata, not both$/],
        [{ cdata: "!!not base64!!" }, /^Invalid cdata: expected base64 of gzipped JSON$/],
        [{ cdata: Buffer.from("[]").toString("base64") }, /^Invalid cdata: not gzip /],
        [
          { data: JSON.stringify([{ m: id, s: "a", d: [[0, 1]], dv: { subject: "x" } }]) },
          /^Invalid metric data: 1 invalid field \(data\[0\]\.dv\.subject\)$/,
        ],
      ];
      for (const [fields, expected] of refusals) {
        const res = await c.form(`${APP}/data/`, fields);
        assert.equal(res.status, 400, JSON.stringify(fields));
        assert.match(await msg(res), expected);
      }
      await c.flush();
      assert.deepEqual(c.store.query({ name: "temp", sinceMs: 0 }), []);
      assert.equal(c.selfMetric("tally_component_errors_total", { error_type: "bad_request" }), 7);
    });
  });

  it("POST data/ answers 413 {msg} past max_data, for data and for cdata once unzipped", async () => {
    await withCoscaleCollector({ config: { max_data: "2KiB" } }, async (c) => {
      const id = await metric(c, "temp", "DOUBLE");
      const points = (n: number) =>
        JSON.stringify([{ m: id, s: "a", d: Array.from({ length: n }, () => [0, 1]) }]);
      assert.ok(points(400).length > 2048 && points(300).length < 2048);
      assert.equal((await c.form(`${APP}/data/`, { data: points(300) })).status, 200);
      const data = await c.form(`${APP}/data/`, { data: points(400) });
      assert.deepEqual([data.status, await msg(data)], [
        413,
        "Metric data is larger than the limit of 2048 bytes (max_data); send smaller batches",
      ]);
      const bomb = await c.form(`${APP}/data/`, {
        cdata: Buffer.from(gzipSync(" ".repeat(8 << 20))).toString("base64"),
      });
      assert.equal(bomb.status, 413);
      const wire = await c.form(`${APP}/data/`, { data: "x".repeat(3 * 2048 + 64 * 1024 + 1) });
      assert.equal(wire.status, 413, "the body as sent is bounded too");
      assert.equal(c.selfMetric("tally_component_errors_total", { error_type: "too_large" }), 2);
    });
  });
});

describe("pushFrames()", () => {
  it("pushFrames() cuts many metrics into one-line push bodies near FRAME_BYTES that hold them all", () => {
    const metrics: PushedMetric[] = Array.from({ length: 20_000 }, (_, i) => ({
      name: "queue depth",
      type: "gauge",
      value: i,
      labels: { Queue: `q${i}`, subject: "application" },
      timestamp: 1_767_614_400_000,
    }));
    const frames = pushFrames(metrics);
    assert.ok(frames.length > 1);
    const decoded = frames.map((frame) => new TextDecoder().decode(frame));
    assert.ok(decoded.every((text) => !text.includes("\n") && text.length <= FRAME_BYTES + 200));
    const back = decoded.flatMap((text) => (JSON.parse(text) as { metrics: PushedMetric[] }).metrics);
    assert.deepEqual(back, metrics);
    assert.deepEqual(pushFrames([]), []);
  });
});
