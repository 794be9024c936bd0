import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Metric, Point } from "../model/metric.ts";
import type { Labels } from "../model/sample.ts";
import { seriesKey } from "../model/series_key.ts";
import { storeRoutes } from "./routes.ts";
import { Store } from "./store.ts";
import type { StoredEvent } from "./event_table.ts";
import type { SeriesResult } from "./point_table.ts";

const NOW = Date.UTC(2024, 4, 1, 12, 0, 0);
const MINUTE = 60_000;

function gauge(name: string, labels: Labels, value: number, timeMs: number): Metric {
  const point: Point = { kind: "gauge", value };
  return {
    name,
    labels,
    key: seriesKey(name, labels),
    kind: "gauge",
    point,
    timeMs,
    intervalMs: 10_000,
    startMs: 0,
  };
}

describe("storeRoutes", () => {
  let dir = "";
  let store: Store;
  let app: ReturnType<typeof storeRoutes>;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tally-routes-"));
    store = Store.open(dir);
    store.append([
      gauge("cpu", [["host", "a"]], 1, NOW - 120 * MINUTE),
      gauge("cpu", [["host", "a"]], 2, NOW - 30 * MINUTE),
      gauge("cpu", [["host", "a"]], 3, NOW - 5 * MINUTE),
      gauge("cpu", [["host", "b"]], 4, NOW - 5 * MINUTE),
    ]);
    store.appendEvents([
      {
        kind: "event",
        title: "old",
        text: "",
        timeMs: NOW - 2 * 60 * MINUTE,
        endMs: NOW - 60 * MINUTE,
        labels: [],
        status: -1,
      },
      { kind: "event", title: "deploy", text: "v2", timeMs: 0, labels: [["env", "prod"]], status: -1 },
    ], NOW - MINUTE);
    app = storeRoutes(store, { now: () => NOW });
  });

  after(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function getJson(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await app.request(path);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    return { status: res.status, body: await res.json() as Record<string, unknown> };
  }

  function values(body: Record<string, unknown>): number[][] {
    return (body["series"] as SeriesResult[]).map((s) => s.points.map((p) => p.value));
  }

  it("GET /api/v1/query returns series since 1h by default", async () => {
    const { status, body } = await getJson("/api/v1/query?name=cpu");
    assert.equal(status, 200);
    assert.deepEqual(values(body), [[2, 3], [4]]);
    assert.deepEqual((body["series"] as SeriesResult[])[0], {
      name: "cpu",
      labels: { host: "a" },
      kind: "gauge",
      points: [{ t: NOW - 30 * MINUTE, value: 2 }, { t: NOW - 5 * MINUTE, value: 3 }],
    });
  });

  it("GET /api/v1/query takes relative, epoch and RFC 3339 ranges", async () => {
    assert.deepEqual(values((await getJson("/api/v1/query?name=cpu&since=3h")).body), [[1, 2, 3], [4]]);
    assert.deepEqual(values((await getJson("/api/v1/query?name=cpu&since=3h&until=10m")).body), [[1, 2]]);
    const sinceS = Math.floor((NOW - 40 * MINUTE) / 1000);
    assert.deepEqual(
      values((await getJson(`/api/v1/query?name=cpu&since=${sinceS}&until=${NOW - 10 * MINUTE}`)).body),
      [[2]],
    );
    const rfc = new Date(NOW - 10 * MINUTE).toISOString();
    assert.deepEqual(
      values((await getJson(`/api/v1/query?name=cpu&since=${encodeURIComponent(rfc)}`)).body),
      [[3], [4]],
    );
  });

  it("GET /api/v1/query filters by label.NAME and limits points per series", async () => {
    assert.deepEqual(values((await getJson("/api/v1/query?name=cpu&label.host=b")).body), [[4]]);
    assert.deepEqual(values((await getJson("/api/v1/query?name=cpu&label.host=c")).body), []);
    assert.deepEqual(values((await getJson("/api/v1/query?name=cpu&label.__proto__=a")).body), []);
    assert.deepEqual(values((await getJson("/api/v1/query?name=cpu&since=3h&limit=1")).body), [[3], [4]]);
  });

  it("GET /api/v1/query returns an empty list for an unknown name", async () => {
    const { status, body } = await getJson("/api/v1/query?name=nope");
    assert.equal(status, 200);
    assert.deepEqual(body, { series: [] });
  });

  it("GET /api/v1/query answers 400 naming the bad parameter", async () => {
    const cases: Array<[string, string]> = [
      ["/api/v1/query", 'Missing query parameter "name"'],
      ["/api/v1/query?name=", 'Invalid query parameter "name": expected a metric name, got ""'],
      [
        "/api/v1/query?name=cpu&since=yesterday",
        'Invalid query parameter "since": expected a duration like "1h", epoch seconds or ms, or an RFC 3339 time, got "yesterday"',
      ],
      [
        "/api/v1/query?name=cpu&until=x",
        'Invalid query parameter "until": expected a duration like "1h", epoch seconds or ms, or an RFC 3339 time, got "x"',
      ],
      ["/api/v1/query?name=cpu&limit=0", 'Invalid query parameter "limit": expected at least 1, got 0'],
      [
        "/api/v1/query?name=cpu&limit=ten",
        'Invalid query parameter "limit": expected a positive integer, got "ten"',
      ],
      ["/api/v1/query?name=cpu&label.=x", 'Invalid query parameter "label.": expected label.NAME=VALUE'],
      [
        "/api/v1/query?name=cpu&since=10m&until=1h",
        'Invalid query parameter "until": "1h" is before since "10m"',
      ],
    ];
    for (const [path, error] of cases) {
      const { status, body } = await getJson(path);
      assert.equal(status, 400, path);
      assert.deepEqual(body, { error }, path);
    }
  });

  it("GET /api/v1/events returns events newest first, arrival-stamped when they had no time", async () => {
    const { status, body } = await getJson("/api/v1/events");
    assert.equal(status, 200);
    const events = body["events"] as StoredEvent[];
    assert.deepEqual(events.map((e) => [e.title, e.t, e.labels]), [["deploy", NOW - MINUTE, {
      env: "prod",
    }]]);
    const all = (await getJson("/api/v1/events?since=1d")).body["events"] as StoredEvent[];
    assert.deepEqual(all.map((e) => [e.title, e.t, e.end]), [
      ["deploy", NOW - MINUTE, NOW - MINUTE],
      ["old", NOW - 120 * MINUTE, NOW - 60 * MINUTE],
    ]);
    assert.deepEqual(Object.keys(all[0]!), ["id", "t", "end", "kind", "title", "text", "labels", "status"]);
    const one = (await getJson("/api/v1/events?since=1d&limit=1")).body["events"] as StoredEvent[];
    assert.deepEqual(one.map((e) => e.title), ["deploy"]);
  });

  it("GET /api/v1/events answers 400 naming the bad parameter", async () => {
    const { status, body } = await getJson("/api/v1/events?limit=-1");
    assert.equal(status, 400);
    assert.deepEqual(body, {
      error: 'Invalid query parameter "limit": expected a positive integer, got "-1"',
    });
    const since = await getJson("/api/v1/events?since=soon");
    assert.equal(since.status, 400);
    assert.match(String(since.body["error"]), /^Invalid query parameter "since": /);
  });

  it("GET /api/v1/query answers 500 with the error when the store fails", async () => {
    const closedDir = mkdtempSync(join(tmpdir(), "tally-routes-closed-"));
    const closed = Store.open(closedDir);
    closed.close();
    try {
      const res = await storeRoutes(closed).request("/api/v1/query?name=cpu");
      assert.equal(res.status, 500);
      const body = await res.json() as { error: string };
      assert.match(body.error, /^Cannot query series "cpu" in store "/);
    } finally {
      rmSync(closedDir, { recursive: true, force: true });
    }
  });
});
