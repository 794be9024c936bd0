import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { resolveConfig } from "../../config/resolve.ts";
import { INPUTS } from "../../inputs/registry.ts";
import { OUTPUTS } from "../registry.ts";
import { influx, influxTarget } from "./mod.ts";

function target(config: Record<string, unknown>) {
  return influxTarget(v.parse(influx.schema, config));
}

describe("influx output config", () => {
  it("v1: /write with db, rp and precision (microseconds spelt u), the user as Basic authentication", () => {
    assert.deepEqual(
      target({ url: "http://127.0.0.1:8086", database: "tally", retention_policy: "week", precision: "us" }),
      { url: "http://127.0.0.1:8086/write?db=tally&rp=week&precision=u", headers: {} },
    );
    assert.deepEqual(
      target({ url: "http://db:8086/", database: "tally", username: "jörg", password: "p:w" }),
      {
        url: "http://db:8086/write?db=tally&precision=ms",
        headers: {
          authorization: `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode("jörg:p:w")))}`,
        },
      },
    );
  });

  it("v2: /api/v2/write with org, bucket and precision, the token as Authorization: Token", () => {
    assert.deepEqual(
      target({
        url: "https://eu.influx.example",
        api: "v2",
        organization: "acme",
        bucket: "edge",
        token: "t0k",
        precision: "us",
      }),
      {
        url: "https://eu.influx.example/api/v2/write?org=acme&bucket=edge&precision=us",
        headers: { authorization: "Token t0k" },
      },
    );
  });

  it('defaults to api v1, precision ms, delta counters, gzip and events in "events"', () => {
    const config = v.parse(influx.schema, { url: "http://127.0.0.1:8086", database: "tally" });
    assert.deepEqual(
      [config.api, config.precision, config.temporality, config.compression, config.events_measurement],
      ["v1", "ms", "delta", "gzip", "events"],
    );
  });

  it("names the key the chosen API needs when it is missing", () => {
    const check = (table: Record<string, unknown>) =>
      resolveConfig({ outputs: { db: { type: "influx", url: "http://127.0.0.1:8086", ...table } } }, {
        plugins: INPUTS,
        outputs: OUTPUTS,
        file: "tally.toml",
      });
    assert.throws(() => check({}), {
      message: 'Invalid config "tally.toml" at outputs.db.database: expected a database name (api = "v1" ' +
        "writes into one), found nothing",
    });
    assert.throws(() => check({ api: "v2", organization: "acme" }), {
      message: /at outputs\.db\.bucket: expected a bucket \(api = "v2" writes into one\), found nothing/,
    });
    assert.throws(() => check({ database: "x", precision: "minutes" }), {
      message: /at outputs\.db\.precision: expected "ns", "us", "ms" or "s", found "minutes"/,
    });
  });
});
