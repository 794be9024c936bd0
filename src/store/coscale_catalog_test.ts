import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { TallyEvent } from "../model/sample.ts";
import { Store } from "./store.ts";

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const dirs: string[] = [];

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tally-coscale-"));
  dirs.push(dir);
  return dir;
}

function cronEvent(timeMs: number, endMs?: number): TallyEvent {
  return {
    kind: "event",
    title: "cron",
    text: "backup",
    timeMs,
    ...(endMs === undefined ? {} : { endMs }),
    labels: [["subject", "application"]],
    status: -1,
  };
}

describe("CoscaleCatalog definitions", () => {
  it("define() creates once and then finds the existing definition, unchanged, as a duplicate", () => {
    const store = Store.open(dataDir());
    const first = store.coscale.define("metric", "queue depth", null, { dataType: "DOUBLE", period: 60 }, T0);
    assert.equal(first.outcome, "created");
    assert.deepEqual(first.definition, {
      id: 1,
      kind: "metric",
      name: "queue depth",
      parentId: null,
      fields: { dataType: "DOUBLE", period: 60 },
      version: 1,
    });
    const again = store.coscale.define("metric", "queue depth", null, { dataType: "HISTOGRAM" }, T0);
    assert.deepEqual(again, { outcome: "duplicate", definition: first.definition });
    const other = store.coscale.define("dimension", "queue depth", null, {}, T0);
    assert.equal(other.outcome, "created", "names are unique per kind");
    assert.equal(other.definition.id, 2, "one id space across kinds");
    store.close();
  });

  it("define() lets groups of one name live under different parents, and list() selects by name", () => {
    const store = Store.open(dataDir());
    const root = store.coscale.define("metricgroup", "StatsD", null, {}, T0).definition;
    const api = store.coscale.define("metricgroup", "api", root.id, {}, T0).definition;
    const nested = store.coscale.define("metricgroup", "api", api.id, {}, T0);
    assert.equal(nested.outcome, "created");
    assert.equal(store.coscale.define("metricgroup", "api", root.id, {}, T0).outcome, "duplicate");
    assert.deepEqual(store.coscale.list("metricgroup", "api").map((g) => [g.id, g.parentId]), [
      [api.id, root.id],
      [nested.definition.id, api.id],
    ]);
    assert.deepEqual(store.coscale.list("metricgroup").map((g) => g.name), ["StatsD", "api", "api"]);
    assert.deepEqual(store.coscale.list("metricgroup", "nope"), []);
    assert.equal(store.coscale.get("metric", root.id), undefined, "get() is by kind and id");
    store.close();
  });

  it("link() links once, says duplicate after, and linked() lists the children", () => {
    const store = Store.open(dataDir());
    const metric = store.coscale.define("metric", "jobs", null, {}, T0).definition;
    const queue = store.coscale.define("dimension", "Queue", null, {}, T0).definition;
    const dc = store.coscale.define("dimension", "Data Center", null, {}, T0).definition;
    assert.equal(store.coscale.link("metric_dimension", metric.id, queue.id), "created");
    assert.equal(store.coscale.link("metric_dimension", metric.id, dc.id), "created");
    assert.equal(store.coscale.link("metric_dimension", metric.id, queue.id), "duplicate");
    assert.deepEqual(store.coscale.linked("metric_dimension", metric.id).map((d) => d.name), [
      "Queue",
      "Data Center",
    ]);
    assert.deepEqual(store.coscale.linked("metricgroup_metric", metric.id), []);
    store.close();
  });

  it("definitions and links survive closing and reopening the store", () => {
    const dir = dataDir();
    const store = Store.open(dir);
    const metric = store.coscale.define("metric", "jobs", null, { dataType: "COUNT" }, T0).definition;
    const server = store.coscale.define("server", "web-1", null, { type: "statsd" }, T0).definition;
    store.coscale.link("servergroup_server", 99, server.id);
    store.close();
    const reopened = Store.open(dir);
    assert.deepEqual(reopened.coscale.get("metric", metric.id), metric);
    assert.deepEqual(reopened.coscale.linked("servergroup_server", 99), [server]);
    assert.equal(reopened.coscale.define("metric", "jobs", null, {}, T0).outcome, "duplicate");
    assert.equal(reopened.coscale.define("metric", "other", null, {}, T0).definition.id, 3);
    reopened.close();
  });
});

describe("CoscaleCatalog event data", () => {
  it("addEventData() stores an open event with CoScale's fields; updateEventData() closes it and bumps the version", () => {
    const store = Store.open(dataDir());
    const data = store.coscale.addEventData(
      { categoryId: 5, event: cronEvent(T0), open: true, subject: "a", attribute: '{"exitCode":-1}' },
      T0 + 10,
    );
    assert.equal(data.version, 1);
    assert.equal(data.event.end, null);
    assert.deepEqual(store.events({ sinceMs: 0 }).map((e) => [e.id, e.title, e.t, e.end]), [[
      data.id,
      "cron",
      T0,
      null,
    ]]);
    assert.deepEqual(store.coscale.eventData(5, data.id), data);
    assert.equal(store.coscale.eventData(6, data.id), undefined, "another category's id is not found");
    const closed = store.coscale.updateEventData(5, data.id, {
      event: { end: T0 + 60_000, labels: { exitCode: "0", subject: "application" } },
      attribute: '{"exitCode":0}',
    }, T0 + 60_000);
    assert.equal(closed?.version, 2);
    assert.equal(closed?.subject, "a");
    assert.equal(closed?.attribute, '{"exitCode":0}');
    assert.equal(closed?.updatedMs, T0 + 60_000);
    assert.deepEqual(store.events({ sinceMs: 0 })[0]?.labels, { exitCode: "0", subject: "application" });
    assert.equal(store.events({ sinceMs: 0 })[0]?.end, T0 + 60_000);
    assert.equal(store.coscale.updateEventData(5, 999, { event: {} }, T0), undefined);
    store.close();
  });

  it("addEventData() with a stop time stores a closed event, and an event deleted by retention is gone", () => {
    const store = Store.open(dataDir(), { now: () => T0 + 8 * 86_400_000 });
    const old = store.coscale.addEventData(
      { categoryId: 1, event: cronEvent(T0, T0 + 1000), open: false, subject: "s3", attribute: "{}" },
      T0,
    );
    assert.equal(old.event.end, T0 + 1000);
    store.enforce();
    assert.equal(store.coscale.eventData(1, old.id), undefined);
    const fresh = store.coscale.addEventData(
      { categoryId: 1, event: cronEvent(T0 + 8 * 86_400_000), open: false, subject: "a", attribute: "{}" },
      T0 + 8 * 86_400_000,
    );
    assert.equal(store.coscale.eventData(1, fresh.id)?.event.end, T0 + 8 * 86_400_000, "instant");
    store.close();
  });
});
