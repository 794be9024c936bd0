import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { withCoscaleCollector } from "./_test_collector.ts";
import type { CoscaleCollector } from "./_test_collector.ts";

const APP = "/api/v1/app/0b8f3c9e-1111-4c4c-9a9a-123456789abc";

/** Logs in with the access token and returns the session header. */
async function login(c: CoscaleCollector, accessToken = "s3cret"): Promise<Record<string, string>> {
  const res = await c.form(`${APP}/login/`, { accessToken });
  assert.equal(res.status, 200);
  const { token } = await res.json() as { token: string };
  return { httpauthorization: token };
}

async function json(res: Response): Promise<unknown> {
  return await res.json();
}

describe("coscale_api authentication", () => {
  it("login/ hands out a token for the configured accessToken and 401 {msg} for another or none", async () => {
    await withCoscaleCollector({ token: "s3cret" }, async (c) => {
      const ok = await c.form(`${APP}/login/`, { accessToken: "s3cret" });
      assert.equal(ok.status, 200);
      assert.deepEqual(Object.keys(await json(ok) as object), ["token"]);
      for (const fields of [{ accessToken: "wrong" }, {}]) {
        const refused = await c.form(`${APP}/login/`, fields);
        assert.equal(refused.status, 401);
        assert.deepEqual(await json(refused), {
          msg: "Authentication failed: the accessToken is not this tally's http.token",
        });
      }
      const viaJson = await c.request(`${APP}/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ accessToken: "s3cret" }),
      });
      assert.equal(viaJson.status, 200, "JSON bodies and no trailing slash work too");
      assert.equal(c.selfMetric("tally_component_errors_total", { error_type: "unauthorized" }), 2);
    });
  });

  it("every other route answers 401 {msg} without a valid HTTPAuthorization, and takes the bearer token", async () => {
    await withCoscaleCollector({ token: "s3cret" }, async (c) => {
      const missing = await c.request(`${APP}/metrics/`);
      assert.equal(missing.status, 401);
      assert.match((await json(missing) as { msg: string }).msg, /^Authentication required/);
      const stale = await c.form(`${APP}/data/`, { data: "[]" }, { httpauthorization: "not-a-session" });
      assert.equal(stale.status, 401);
      assert.match((await json(stale) as { msg: string }).msg, /^Invalid or expired token: log in again/);
      const session = await login(c);
      assert.equal((await c.request(`${APP}/metrics/`, { headers: session })).status, 200);
      const bearer = await c.request(`${APP}/metrics/`, { headers: { authorization: "Bearer s3cret" } });
      assert.equal(bearer.status, 200);
      assert.equal(
        (await c.request(`${APP}/metrics/`, { headers: { authorization: "Bearer nope" } })).status,
        401,
      );
    });
  });

  it("a restart forgets the sessions (401, so clients log in again) but keeps every definition", async () => {
    await withCoscaleCollector({ token: "s3cret" }, async (c) => {
      const before = await login(c);
      const created = await json(
        await c.form(
          `${APP}/metrics/`,
          { name: "queue depth", dataType: "DOUBLE", subject: "SERVER" },
          before,
        ),
      );
      await c.restart();
      assert.equal((await c.request(`${APP}/metrics/`, { headers: before })).status, 401);
      const after = await login(c);
      const again = await c.form(`${APP}/metrics/`, {
        name: "queue depth",
        dataType: "DOUBLE",
        subject: "SERVER",
      }, after);
      assert.equal(again.status, 409);
      assert.deepEqual(await json(again), {
        msg: 'Metric "queue depth" exists already',
        type: "DUPLICATE",
        id: 1,
      });
      assert.deepEqual(await json(await c.request(`${APP}/metrics/1/`, { headers: after })), created);
    });
  });

  it("without a token, anything logs in and no header is needed, as on tally's other routes", async () => {
    await withCoscaleCollector({}, async (c) => {
      assert.equal((await c.form(`${APP}/login/`, { accessToken: "anything" })).status, 200);
      assert.equal((await c.form(`${APP}/login/`, {})).status, 200);
      assert.equal((await c.request(`${APP}/metrics/`)).status, 200);
      assert.equal(
        (await c.request(`${APP}/metrics/`, { headers: { httpauthorization: "stale" } })).status,
        200,
      );
    });
  });

  it("an unknown CoScale path answers 404 {msg}", async () => {
    await withCoscaleCollector({}, async (c) => {
      const res = await c.request(`${APP}/alerts/`);
      assert.equal(res.status, 404);
      assert.deepEqual(await json(res), {
        msg: `No CoScale route for GET ${APP}/alerts/ in tally (see src/inputs/coscale_api/README.md)`,
      });
      assert.equal((await c.request(`${APP}/metrics/abc/`)).status, 404);
    });
  });
});

describe("coscale_api definitions", () => {
  it("POST metrics/ creates a metric with CoScale's fields, then answers 409 DUPLICATE with its id", async () => {
    await withCoscaleCollector({}, async (c) => {
      const res = await c.form(`${APP}/metrics/`, {
        dataType: "double",
        description: "messages waiting",
        name: "queue depth",
        period: "60",
        source: "cli",
        subject: "SERVER",
        unit: "msgs",
      });
      assert.equal(res.status, 200);
      const metric = {
        id: 1,
        version: 1,
        state: "ENABLED",
        name: "queue depth",
        description: "messages waiting",
        dataType: "DOUBLE",
        subject: "SERVER",
        unit: "msgs",
        period: 60,
        source: "cli",
      };
      assert.deepEqual(await json(res), metric);
      const duplicate = await c.form(`${APP}/metrics/`, { name: "queue depth", dataType: "HISTOGRAM" });
      assert.equal(duplicate.status, 409);
      assert.deepEqual(await json(duplicate), {
        msg: 'Metric "queue depth" exists already',
        type: "DUPLICATE",
        id: 1,
      });
      assert.deepEqual(await json(await c.request(`${APP}/metrics/1/`)), metric);
      assert.deepEqual(await json(await c.request(`${APP}/metrics/1`)), metric);
      assert.deepEqual(await json(await c.request(`${APP}/metrics/?selectByName=queue%20depth`)), [metric]);
      assert.deepEqual(await json(await c.request(`${APP}/metrics/?selectByName=queue+depth`)), [metric]);
      assert.deepEqual(await json(await c.request(`${APP}/metrics/?selectByName=nope`)), []);
      assert.deepEqual(await json(await c.request(`${APP}/metrics/`)), [metric]);
      const missing = await c.request(`${APP}/metrics/2/`);
      assert.equal(missing.status, 404);
      assert.deepEqual(await json(missing), { msg: "Metric 2 does not exist" });
    });
  });

  it("POST metrics/ takes a JSON body with the same field names, and defaults what CoScale defaulted", async () => {
    await withCoscaleCollector({}, async (c) => {
      const res = await c.request(`${APP}/metrics/`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "jobs", dataType: "COUNT", period: 300, attachTo: "SERVER" }),
      });
      assert.deepEqual(await json(res), {
        id: 1,
        version: 1,
        state: "ENABLED",
        name: "jobs",
        description: "",
        dataType: "COUNT",
        subject: "APPLICATION",
        unit: "",
        period: 300,
        source: "",
      });
    });
  });

  it("POST metrics/ answers 400 {msg, issues} naming every bad field, and creates nothing", async () => {
    await withCoscaleCollector({}, async (c) => {
      const res = await c.form(`${APP}/metrics/`, {
        name: " ",
        dataType: "FLOAT",
        period: "1m",
        subject: "HOST",
      });
      assert.equal(res.status, 400);
      assert.deepEqual(await json(res), {
        msg: "Invalid metric: 4 invalid fields (name, dataType, subject, period)",
        issues: [
          { path: "name", message: 'expected a metric name: text on one line, not blank, found " "' },
          {
            path: "dataType",
            message: 'expected one of LONG, DOUBLE, HISTOGRAM, COUNT, COUNTER or BINARY, found "FLOAT"',
          },
          {
            path: "subject",
            message: 'expected one of SERVER, GROUP, SERVERGROUP or APPLICATION, found "HOST"',
          },
          { path: "period", message: 'expected a period in whole seconds, found "1m"' },
        ],
      });
      const empty = await c.form(`${APP}/metrics/`, {});
      assert.deepEqual((await json(empty) as { issues: { path: string; message: string }[] }).issues, [
        { path: "name", message: "expected a metric name: text on one line, not blank, found nothing" },
        {
          path: "dataType",
          message: "expected one of LONG, DOUBLE, HISTOGRAM, COUNT, COUNTER or BINARY, found nothing",
        },
      ]);
      const notJson = await c.request(`${APP}/metrics/`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{name",
      });
      assert.equal(notJson.status, 400);
      assert.match((await json(notJson) as { msg: string }).msg, /^Request body is not JSON: /);
      assert.deepEqual(await json(await c.request(`${APP}/metrics/`)), []);
      assert.equal(c.selfMetric("tally_component_errors_total", { error_type: "bad_request" }), 3);
    });
  });

  it("dimensions, servers, server groups and event categories are create-or-get alike", async () => {
    await withCoscaleCollector({}, async (c) => {
      const cases: Array<[string, Record<string, string>, Record<string, unknown>]> = [
        ["dimensions", { name: "Queue" }, { state: "ENABLED", name: "Queue" }],
        ["servers", { name: "web-1", description: "Server web-1", type: "type", source: "statsd" }, {
          state: "ENABLED",
          name: "web-1",
          description: "Server web-1",
          type: "type",
          source: "statsd",
          attributes: [],
        }],
        ["servergroups", { name: "StatsD", description: "d", type: "type", source: "statsd" }, {
          state: "ENABLED",
          name: "StatsD",
          description: "d",
          type: "type",
          source: "statsd",
          parentId: null,
        }],
        ["events", {
          name: "cron",
          attributeDescriptions: '[{"name":"exitCode","type":"integer"}]',
          source: "cli",
        }, {
          state: "ENABLED",
          name: "cron",
          description: "",
          attributeDescriptions: '[{"name":"exitCode","type":"integer"}]',
          type: "",
          icon: "",
          source: "cli",
        }],
      ];
      for (const [path, fields, expected] of cases) {
        const created = await json(await c.form(`${APP}/${path}/`, fields)) as { id: number };
        assert.deepEqual(created, { id: created.id, version: 1, ...expected }, path);
        const again = await c.form(`${APP}/${path}/`, fields);
        assert.equal(again.status, 409, path);
        assert.equal((await json(again) as { type: string; id: number }).id, created.id, path);
        assert.deepEqual(await json(await c.request(`${APP}/${path}/${created.id}/`)), created, path);
        const byName = `${APP}/${path}/?selectByName=${encodeURIComponent(fields["name"]!)}`;
        assert.deepEqual(await json(await c.request(byName)), [created], path);
      }
      const badJson = await c.form(`${APP}/events/`, { name: "x", attributeDescriptions: "[{" });
      assert.equal(badJson.status, 400);
      assert.deepEqual((await json(badJson) as { issues: unknown }).issues, [
        { path: "attributeDescriptions", message: 'expected JSON text, found "[{"' },
      ]);
    });
  });

  it("metric groups nest with parentId: one name per parent, and an unknown parent is a 400", async () => {
    await withCoscaleCollector({}, async (c) => {
      const root = await json(
        await c.form(`${APP}/metricgroups/`, { name: "StatsD", subject: "SERVER" }),
      ) as {
        id: number;
      };
      const api = await json(
        await c.form(`${APP}/metricgroups/`, { name: "api", parentId: String(root.id) }),
      ) as {
        id: number;
        parentId: number;
      };
      assert.equal(api.parentId, root.id);
      const nested = await c.form(`${APP}/metricgroups/`, { name: "api", parentId: String(api.id) });
      assert.equal(nested.status, 200, "the same name under another parent is another group");
      const again = await c.form(`${APP}/metricgroups/`, { name: "api", parentId: String(root.id) });
      assert.deepEqual(await json(again), {
        msg: 'Metric group "api" exists already',
        type: "DUPLICATE",
        id: api.id,
      });
      const orphan = await c.form(`${APP}/metricgroups/`, { name: "x", parentId: "99" });
      assert.equal(orphan.status, 400);
      assert.deepEqual((await json(orphan) as { issues: unknown }).issues, [
        { path: "parentId", message: "expected the id of an existing metric group, found 99" },
      ]);
      const roots = await json(await c.request(`${APP}/metricgroups/?selectByRoot=true`)) as { id: number }[];
      assert.deepEqual(roots.map((g) => g.id), [root.id]);
      const children = await json(await c.request(`${APP}/metricgroups/?selectByParent_id=${root.id}`)) as {
        id: number;
      }[];
      assert.deepEqual(children.map((g) => g.id), [api.id]);
    });
  });

  it("links: a dimension to a metric is create-or-get (409 DUPLICATE), group membership a plain 409", async () => {
    await withCoscaleCollector({}, async (c) => {
      const metric = await json(await c.form(`${APP}/metrics/`, { name: "jobs", dataType: "COUNT" })) as {
        id: number;
      };
      const dimension = await json(await c.form(`${APP}/dimensions/`, { name: "Queue" })) as { id: number };
      const group = await json(await c.form(`${APP}/metricgroups/`, { name: "StatsD" })) as { id: number };
      const link = await c.form(`${APP}/metrics/${metric.id}/dimensions/${dimension.id}/`, {});
      assert.equal(link.status, 200);
      const linked = await json(link);
      assert.deepEqual(linked, { id: dimension.id, version: 1, state: "ENABLED", name: "Queue" });
      const relink = await c.form(`${APP}/metrics/${metric.id}/dimensions/${dimension.id}/`, {});
      assert.equal(relink.status, 409);
      assert.deepEqual(await json(relink), {
        msg: `Dimension ${dimension.id} is linked to metric ${metric.id} already`,
        type: "DUPLICATE",
        id: dimension.id,
      });
      assert.deepEqual(await json(await c.request(`${APP}/metrics/${metric.id}/dimensions/`)), [linked]);
      assert.equal((await c.form(`${APP}/metricgroups/${group.id}/metrics/${metric.id}/`, {})).status, 200);
      const member = await c.form(`${APP}/metricgroups/${group.id}/metrics/${metric.id}/`, {});
      assert.equal(member.status, 409);
      assert.equal(
        (await json(member) as { type?: string }).type,
        undefined,
        "the CLI ignores a 409 that is no DUPLICATE",
      );
      const members = await json(await c.request(`${APP}/metricgroups/${group.id}/metrics/`)) as {
        id: number;
      }[];
      assert.deepEqual(members.map((m) => m.id), [metric.id]);
      const noMetric = await c.form(`${APP}/metrics/99/dimensions/${dimension.id}/`, {});
      assert.deepEqual([noMetric.status, await json(noMetric)], [404, { msg: "Metric 99 does not exist" }]);
      const noDimension = await c.form(`${APP}/metrics/${metric.id}/dimensions/${metric.id}/`, {});
      assert.deepEqual([noDimension.status, await json(noDimension)], [404, {
        msg: `Dimension ${metric.id} does not exist`,
      }]);
      const server = await json(await c.form(`${APP}/servers/`, { name: "web-1" })) as { id: number };
      const servers = await json(await c.form(`${APP}/servergroups/`, { name: "StatsD" })) as { id: number };
      assert.equal((await c.form(`${APP}/servergroups/${servers.id}/servers/${server.id}/`, {})).status, 200);
      assert.equal((await c.form(`${APP}/servergroups/${servers.id}/servers/${server.id}/`, {})).status, 409);
    });
  });
});
