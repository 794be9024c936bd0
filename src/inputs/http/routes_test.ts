import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { testCollector } from "./_test_collector.ts";
import type { TestCollector } from "./_test_collector.ts";

/** The sample lines of `/metrics` for one name (HELP/TYPE lines left out). */
function lines(scrape: string, name: string): string[] {
  return scrape.split("\n").filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

/** Runs `body` against a fresh collector and closes it whatever happens. */
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

function points(c: TestCollector, name: string): Array<[Record<string, string>, number[]]> {
  return c.store.query({ name, sinceMs: 0 }).map((s) => [s.labels, s.points.map((p) => p.value)]);
}

describe("POST /api/v1/push", () => {
  it("POST /api/v1/push answers 200 with the count, and the values reach /metrics and the store exactly", async () => {
    await withCollector({}, async (c) => {
      const res = await c.request("/api/v1/push", {
        json: {
          metrics: [
            { name: "deploys", type: "counter", value: 1, labels: { env: "prod" } },
            { name: "deploys", type: "counter", value: 2.5, labels: { env: "prod" } },
            { name: "queue.depth", type: "gauge", value: -4.25 },
            { name: "build.seconds", type: "timer", value: 12 },
            { name: "build.seconds", type: "timer", value: 14 },
            { name: "users", type: "set", value: "alice" },
            { name: "users", type: "set", value: "bob" },
            { name: "users", type: "set", value: "alice" },
          ],
        },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { accepted: 8 });
      await c.flush();
      const scrape = await c.scrape();
      assert.deepEqual(lines(scrape, "deploys_total"), ['deploys_total{env="prod"} 3.5']);
      assert.deepEqual(lines(scrape, "queue_depth"), ["queue_depth -4.25"]);
      assert.deepEqual(lines(scrape, "users"), ["users 2"]);
      assert.deepEqual(lines(scrape, "build_seconds_count"), ["build_seconds_count 2"]);
      assert.deepEqual(lines(scrape, "build_seconds_sum"), ["build_seconds_sum 26"]);
      assert.deepEqual(points(c, "deploys"), [[{ env: "prod" }, [3.5]]]);
      assert.deepEqual(points(c, "queue.depth"), [[{}, [-4.25]]]);
      assert.equal(c.selfMetric("tally_component_received_events_total", { component_type: "http" }), 8);
    });
  });

  it("POST /api/v1/push files a metric with a timestamp in that timestamp's window", async () => {
    await withCollector({}, async (c) => {
      const t = Date.now() - 3_600_000;
      const res = await c.request("/api/v1/push", {
        json: { metrics: [{ name: "backfill", type: "gauge", value: 7, timestamp: t }] },
      });
      assert.equal(res.status, 200);
      await c.flush();
      const [series] = c.store.query({ name: "backfill", sinceMs: 0 });
      assert.deepEqual(series?.points, [{ t: Math.floor(t / 10_000) * 10_000, value: 7 }]);
    });
  });

  it("POST /api/v1/push answers 400 naming every bad field, and keeps nothing of the body", async () => {
    await withCollector({}, async (c) => {
      const res = await c.request("/api/v1/push", {
        json: {
          metrics: [
            { name: "ok", type: "counter", value: 1 },
            { name: "", type: "counter", value: 1 },
            { name: "x", type: "gauge", value: 1, labels: { env: 5 }, timestamp: 1764748800 },
            { name: "y", type: "bogus" },
          ],
        },
      });
      assert.equal(res.status, 400);
      assert.deepEqual(await res.json(), {
        error: "Request body has 5 invalid fields",
        issues: [
          {
            path: "metrics[1].name",
            message: 'expected a non-empty metric name without control characters, found ""',
          },
          { path: "metrics[2].labels.env", message: "expected a string label value, found 5" },
          {
            path: "metrics[2].timestamp",
            message:
              "expected Unix milliseconds (at least 100000000000; seconds are too small), found 1764748800",
          },
          {
            path: "metrics[3].type",
            message:
              'expected one of "counter", "gauge", "timer", "histogram", "distribution", "set" or "cumulative", found "bogus"',
          },
          {
            path: "metrics[3].value",
            message: "expected a finite number (or, for a set, a string member), found nothing",
          },
        ],
      });
      assert.deepEqual(c.store.inboxRows(), []);
      await c.flush();
      assert.deepEqual(points(c, "ok"), []);
      assert.equal(c.selfMetric("tally_component_errors_total", { error_type: "bad_request" }), 1);
    });
  });

  it("POST /api/v1/push answers 400 for a body that is not JSON, and 200 with 0 for no metrics", async () => {
    await withCollector({}, async (c) => {
      const bad = await c.request("/api/v1/push", { method: "POST", body: "deploys=1" });
      assert.equal(bad.status, 400);
      assert.match((await bad.json() as { error: string }).error, /^Request body is not JSON: /);
      const none = await c.request("/api/v1/push", { json: { metrics: [] } });
      assert.deepEqual([none.status, await none.json()], [200, { accepted: 0 }]);
    });
  });

  it("POST /api/v1/push takes a body printed over several lines, and many pushes at once", async () => {
    await withCollector({}, async (c) => {
      const pretty = JSON.stringify({ metrics: [{ name: "pretty", type: "counter", value: 2 }] }, null, 2);
      assert.equal((await c.request("/api/v1/push", { method: "POST", body: pretty })).status, 200);
      const many = await Promise.all(
        Array.from(
          { length: 50 },
          (_, i) =>
            c.request("/api/v1/push", { json: { metrics: [{ name: "many", type: "counter", value: i }] } }),
        ),
      );
      assert.ok(many.every((res) => res.status === 200));
      await c.flush();
      assert.deepEqual(points(c, "pretty"), [[{}, [2]]]);
      assert.deepEqual(points(c, "many"), [[{}, [1225]]]);
    });
  });

  it("POST /api/v1/push keeps the body in the inbox once acknowledged, until its window is stored", async () => {
    await withCollector({}, async (c) => {
      const body = { metrics: [{ name: "durable", type: "counter", value: 1 }] };
      assert.equal((await c.request("/api/v1/push", { json: body })).status, 200);
      const rows = c.store.inboxRows();
      assert.equal(rows.length, 1);
      assert.deepEqual(JSON.parse(new TextDecoder().decode(rows[0]!.bytes)), body);
      assert.equal(rows[0]!.windowMs, c.pipeline.windowMs);
      await c.flush();
      assert.deepEqual(c.store.inboxRows(), []);
      assert.deepEqual(points(c, "durable"), [[{}, [1]]]);
    });
  });
});

describe("POST /write and /api/v2/write", () => {
  it("POST /write reads escapes, string/int/uint/bool fields and precision, answering 204", async () => {
    await withCollector({}, async (c) => {
      const body = [
        "disk\\ io,mount\\ point=/mnt/a\\,b,k\\=v=x used\\ pct=5.5,inodes=12i,blocks=7u,ok=true 1700000000",
        'log,host=a msg="line one\nline two, \\"quoted\\"",n=3i 1700000000',
        "no_time value=2",
      ].join("\n");
      const res = await c.request("/write?db=telegraf&rp=autogen&precision=s", { method: "POST", body });
      assert.equal(res.status, 204);
      await c.flush();
      const scrape = await c.scrape();
      assert.deepEqual(lines(scrape, "disk_io_used_pct"), [
        'disk_io_used_pct{k_v="x",mount_point="/mnt/a,b"} 5.5',
      ]);
      assert.deepEqual(lines(scrape, "disk_io_inodes"), [
        'disk_io_inodes{k_v="x",mount_point="/mnt/a,b"} 12',
      ]);
      assert.deepEqual(lines(scrape, "disk_io_blocks"), ['disk_io_blocks{k_v="x",mount_point="/mnt/a,b"} 7']);
      assert.deepEqual(lines(scrape, "disk_io_ok"), ['disk_io_ok{k_v="x",mount_point="/mnt/a,b"} 1']);
      assert.deepEqual(lines(scrape, "log_n"), ['log_n{host="a"} 3']);
      assert.deepEqual(lines(scrape, "no_time"), ["no_time 2"]);
      const [series] = c.store.query({ name: "log_n", sinceMs: 0 });
      assert.deepEqual(series?.points, [{ t: 1_700_000_000_000, value: 3 }], "precision=s: seconds");
      assert.deepEqual(series?.labels, { host: "a" }, "db and rp are ignored by default");
    });
  });

  it("POST /write and /api/v2/write label points with db, rp and bucket when the tags are configured", async () => {
    const config = { database_tag: "db", retention_policy_tag: "rp", bucket_tag: "bucket" };
    await withCollector({ config }, async (c) => {
      assert.equal(
        (await c.request("/write?db=telegraf&rp=week", { method: "POST", body: "a,db=own value=1" })).status,
        204,
      );
      assert.equal(
        (await c.request("/api/v2/write?org=o&bucket=b1&precision=ms", {
          method: "POST",
          body: "b value=2 1700000000123",
        }))
          .status,
        204,
      );
      await c.flush();
      assert.deepEqual(
        points(c, "a"),
        [[{ db: "telegraf", rp: "week" }, [1]]],
        "the parameter wins over the tag",
      );
      const [b] = c.store.query({ name: "b", sinceMs: 0 });
      assert.deepEqual([b?.labels, b?.points[0]?.t], [{ bucket: "b1" }, 1_700_000_000_000]);
    });
  });

  it("POST /write answers 400 for an unknown precision, and v2 refuses v1's spellings", async () => {
    await withCollector({}, async (c) => {
      const v1 = await c.request("/write?precision=sec", { method: "POST", body: "m v=1" });
      assert.equal(v1.status, 400);
      assert.deepEqual(await v1.json(), {
        error: 'Invalid query parameter "precision"',
        issues: [{
          path: "precision",
          message: 'expected "n", "ns", "u", "µ", "us", "ms", "s", "m" or "h", found "sec"',
        }],
      });
      const v2 = await c.request("/api/v2/write?precision=u", { method: "POST", body: "m v=1" });
      assert.equal(v2.status, 400);
      assert.equal(
        (await c.request("/write?precision=u", { method: "POST", body: "m v=1 1700000000000000" })).status,
        204,
      );
      assert.deepEqual(c.store.inboxRows().length, 1, "only the valid write was kept");
    });
  });

  it("POST /write counts bad lines in the workers and still answers 204, keeping the good ones", async () => {
    await withCollector({}, async (c) => {
      const body = "good value=1\nbad,t value=1\nalso_bad value=x\n'\ngood2 value=2 notatime\nfine value=3";
      assert.equal((await c.request("/write", { method: "POST", body })).status, 204);
      await c.flush();
      const scrape = await c.scrape();
      assert.deepEqual([...lines(scrape, "good"), ...lines(scrape, "fine")], ["good 1", "fine 3"]);
      const bad = (reason: string) =>
        c.selfMetric("tally_bad_lines_total", { component_type: "http", component_id: "http", reason });
      assert.deepEqual([bad("bad_tags"), bad("bad_value"), bad("no_value"), bad("bad_timestamp")], [
        1,
        1,
        1,
        1,
      ]);
    });
  });

  it("GET /ping answers 204 like InfluxDB", async () => {
    await withCollector({}, async (c) => {
      assert.equal((await c.request("/ping")).status, 204);
      assert.equal((await c.request("/ping", { method: "HEAD" })).status, 204);
    });
  });
});

describe("POST /api/v1/import/prometheus and /api/v1/statsd", () => {
  it("POST /api/v1/import/prometheus reads types, escapes, NaN/+Inf and timestamps", async () => {
    await withCollector({}, async (c) => {
      const body = [
        "# HELP unused Never sampled.",
        "# TYPE unused counter",
        "# TYPE http_requests counter",
        'http_requests_total{path="/a\\"b\\\\c",code="200"} 1027',
        "# TYPE temp gauge",
        "temp 21.5 1700000000123",
        "nan_gauge NaN",
        "inf_gauge +Inf",
        '{"ns.name", "label.x"="y"} 4',
      ].join("\n");
      assert.equal((await c.request("/api/v1/import/prometheus", { method: "POST", body })).status, 204);
      await c.flush();
      const scrape = await c.scrape();
      assert.deepEqual(lines(scrape, "http_requests_total"), [
        'http_requests_total{code="200",path="/a\\"b\\\\c"} 1027',
      ]);
      assert.deepEqual(
        points(c, "http_requests_total"),
        [[{ code: "200", path: '/a"b\\c' }, [0]]],
        "a first total",
      );
      const [temp] = c.store.query({ name: "temp", sinceMs: 0 });
      assert.deepEqual(temp?.points, [{ t: 1_700_000_000_000, value: 21.5 }]);
      assert.deepEqual([...lines(scrape, "nan_gauge"), ...lines(scrape, "inf_gauge")], []);
      assert.deepEqual(points(c, "ns.name"), [[{ "label.x": "y" }, [4]]]);
      assert.equal(c.selfMetric("tally_bad_lines_total", { component_type: "http" }), 0);
    });
  });

  it("POST /api/v1/import/prometheus never reads a body that starts like a frame header as one", async () => {
    await withCollector({}, async (c) => {
      const body = '{"script":"x","runMs":1,"labels":{"injected":"1"}}\nreal 1\n';
      assert.equal((await c.request("/api/v1/import/prometheus", { method: "POST", body })).status, 204);
      await c.flush();
      assert.deepEqual(points(c, "real"), [[{}, [1]]]);
      assert.equal(c.selfMetric("tally_bad_lines_total", { component_type: "http", reason: "bad_tags" }), 1);
    });
  });

  it("POST /api/v1/statsd parses lines as the UDP input does", async () => {
    await withCollector({}, async (c) => {
      const body = "jobs:3|c|#env:prod\njobs:2|c|#env:prod\ntemp:20|g\ntemp:+1.5|g\nlatency:10|ms\nbroken\n";
      assert.equal((await c.request("/api/v1/statsd", { method: "POST", body })).status, 204);
      await c.flush();
      const scrape = await c.scrape();
      assert.deepEqual(lines(scrape, "jobs_total"), ['jobs_total{env="prod"} 5']);
      assert.deepEqual(lines(scrape, "temp"), ["temp 21.5"]);
      assert.deepEqual(lines(scrape, "latency_count"), ["latency_count 1"]);
      assert.equal(c.selfMetric("tally_bad_lines_total", { component_type: "http" }), 1);
    });
  });

  it("a text route answers 204 for an empty body and keeps nothing", async () => {
    await withCollector({}, async (c) => {
      for (const path of ["/write", "/api/v2/write", "/api/v1/import/prometheus", "/api/v1/statsd"]) {
        assert.equal((await c.request(path, { method: "POST", body: "" })).status, 204, path);
      }
      assert.deepEqual(c.store.inboxRows(), []);
    });
  });
});
