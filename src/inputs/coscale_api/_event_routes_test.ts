import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { withCoscaleCollector } from "./_test_collector.ts";
import type { CoscaleCollector } from "./_test_collector.ts";

const APP = "/api/v1/app/my-app";

async function category(c: CoscaleCollector, name: string): Promise<number> {
  return (await (await c.form(`${APP}/events/`, { name, attributeDescriptions: "[]" })).json() as {
    id: number;
  }).id;
}

interface EventData {
  readonly id: number;
  readonly eventId: number;
  readonly applicationId: string;
  readonly timestamp: number;
  readonly stopTime: number | null;
  readonly updateTime: number;
  readonly message: string;
  readonly subject: string;
  readonly attribute: string;
  readonly version: number;
}

describe("CoScale event data", () => {
  it("POST events/{id}/data/ without stopTime stores an open event, shown by GET /api/v1/events", async () => {
    await withCoscaleCollector({}, async (c) => {
      const cron = await category(c, "cron backup");
      const server = (await (await c.form(`${APP}/servers/`, { name: "db-1" })).json() as { id: number }).id;
      const before = Math.floor(Date.now() / 1000);
      const res = await c.form(`${APP}/events/${cron}/data/`, {
        attribute: '{"exitCode":-1,"executionTime":-1,"message":"running"}',
        message: "nightly backup",
        subject: `s${server}`,
        timestamp: "-300",
      });
      assert.equal(res.status, 200);
      const data = await res.json() as EventData;
      assert.deepEqual({ ...data, timestamp: 0, updateTime: 0 }, {
        id: data.id,
        eventId: cron,
        applicationId: "my-app",
        timestamp: 0,
        stopTime: null,
        updateTime: 0,
        message: "nightly backup",
        subject: `s${server}`,
        attribute: '{"exitCode":-1,"executionTime":-1,"message":"running"}',
        version: 1,
      });
      assert.ok(Math.abs(data.timestamp - (before - 300)) <= 1, `${data.timestamp} is 300 s ago`);
      const listed = await (await c.request("/api/v1/events?since=1h")).json() as {
        events: {
          id: number;
          title: string;
          text: string;
          end: number | null;
          labels: Record<string, string>;
        }[];
      };
      assert.deepEqual(listed.events.map((e) => [e.id, e.title, e.text, e.end, e.labels]), [[
        data.id,
        "cron backup",
        "nightly backup",
        null,
        { exitCode: "-1", executionTime: "-1", message: "running", subject: "db-1" },
      ]]);
      const fetched = await c.request(`${APP}/events/${cron}/data/get/${data.id}/`);
      assert.deepEqual(await fetched.json(), data);
    });
  });

  it("PUT events/{id}/data/{dataId}/ as the CLI's updatedata sends it closes the event and bumps the version", async () => {
    await withCoscaleCollector({}, async (c) => {
      const cron = await category(c, "cron");
      const data = await (await c.form(`${APP}/events/${cron}/data/`, {
        attribute: "{}",
        message: "job",
        subject: "a",
        timestamp: "0",
      })).json() as EventData;
      const start = c.store.events({ sinceMs: 0 })[0]!.t;
      // The CLI reads the event data back, then sends every field again with its changes and the version.
      const fetched = await (await c.request(`${APP}/events/${cron}/data/get/${data.id}/`))
        .json() as EventData;
      const put = await c.request(`${APP}/events/${cron}/data/${data.id}/`, {
        method: "PUT",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          attribute: '{"exitCode":0,"executionTime":12}',
          message: fetched.message,
          stopTime: String(fetched.timestamp + 12),
          subject: fetched.subject,
          timestamp: String(fetched.timestamp),
          version: String(fetched.version),
        }).toString(),
      });
      assert.equal(put.status, 200);
      const closed = await put.json() as EventData;
      assert.equal(closed.version, 2);
      assert.equal(closed.stopTime, fetched.timestamp + 12);
      assert.equal(closed.attribute, '{"exitCode":0,"executionTime":12}');
      const [stored] = c.store.events({ sinceMs: 0 });
      assert.equal(stored?.t, start, "the start sent back as shown keeps its milliseconds");
      assert.equal(stored?.end, (fetched.timestamp + 12) * 1000);
      assert.deepEqual(stored?.labels, { exitCode: "0", executionTime: "12", subject: "application" });
      // Without stopTime (updatedata without --stopTime) the stop time stays.
      const again = await c.request(`${APP}/events/${cron}/data/${data.id}/`, {
        method: "PUT",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ message: "job done", version: "2" }).toString(),
      });
      const kept = await again.json() as EventData;
      assert.deepEqual([kept.version, kept.stopTime, kept.message], [3, fetched.timestamp + 12, "job done"]);
      assert.equal(c.store.events({ sinceMs: 0 })[0]?.text, "job done");
    });
  });

  it("POST events/{id}/data/ with a stop time stores a closed event; JSON bodies work alike", async () => {
    await withCoscaleCollector({}, async (c) => {
      const deploy = await category(c, "deploy");
      const t = 1_767_614_400;
      const res = await c.request(`${APP}/events/${deploy}/data`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          message: "v1.2",
          timestamp: t,
          stopTime: t + 60,
          subject: "g7",
          attribute: '{"env":"prod"}',
        }),
      });
      const data = await res.json() as EventData;
      assert.deepEqual([data.timestamp, data.stopTime, data.subject], [t, t + 60, "g7"]);
      const [stored] = c.store.events({ sinceMs: 0 });
      assert.deepEqual([stored?.t, stored?.end, stored?.labels], [t * 1000, (t + 60) * 1000, {
        env: "prod",
        subject: "g7",
      }]);
    });
  });

  it("event data routes answer 404 {msg} for an unknown event or data, and 400 naming bad fields", async () => {
    await withCoscaleCollector({}, async (c) => {
      const cron = await category(c, "cron");
      const other = await category(c, "other");
      const missing = await c.form(`${APP}/events/99/data/`, { message: "x" });
      assert.deepEqual([missing.status, await missing.json()], [404, { msg: "Event 99 does not exist" }]);
      const data = await (await c.form(`${APP}/events/${cron}/data/`, { message: "x" })).json() as EventData;
      const wrongEvent = await c.request(`${APP}/events/${other}/data/get/${data.id}/`);
      assert.deepEqual([wrongEvent.status, await wrongEvent.json()], [404, {
        msg: `Event data ${data.id} of event ${other} does not exist`,
      }]);
      const bad = await c.form(`${APP}/events/${cron}/data/`, {
        attribute: "[1]",
        subject: "server1",
        timestamp: "yesterday",
      });
      assert.equal(bad.status, 400);
      assert.deepEqual((await bad.json() as { issues: { path: string }[] }).issues.map((i) => i.path), [
        "message",
        "timestamp",
        "subject",
        "attribute",
      ]);
      const backwards = await c.form(`${APP}/events/${cron}/data/`, {
        message: "x",
        timestamp: "-10",
        stopTime: "-20",
      });
      assert.deepEqual((await backwards.json() as { issues: { path: string }[] }).issues.map((i) => i.path), [
        "stopTime",
      ]);
      const reserved = await c.form(`${APP}/events/${cron}/data/`, {
        message: "x",
        attribute: '{"subject":"x"}',
      });
      assert.equal(reserved.status, 400);
      const put = await c.request(`${APP}/events/${cron}/data/${data.id}/`, {
        method: "PUT",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "stopTime=1",
      });
      assert.equal(put.status, 400, "a stop time before the start");
      assert.equal(c.store.events({ sinceMs: 0 }).length, 1, "nothing refused was stored");
    });
  });
});
