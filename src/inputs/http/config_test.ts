import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { resolveConfig } from "../../config/resolve.ts";
import { INPUTS } from "../registry.ts";
import { example, schema } from "./config.ts";

describe("http config schema", () => {
  it("schema ignores db, rp and bucket by default and waits 5 s for ring room", () => {
    assert.deepEqual(v.parse(schema, {}), {
      database_tag: "",
      retention_policy_tag: "",
      bucket_tag: "",
      ack_wait: 5000,
    });
    assert.deepEqual(v.parse(schema, example), {
      database_tag: "db",
      retention_policy_tag: "",
      bucket_tag: "bucket",
      ack_wait: 5000,
    });
  });

  it("schema refuses a tag that is not a label name, and an unknown key", () => {
    assert.throws(
      () => resolveConfig({ inputs: { push: { type: "http", database_tag: "my db" } } }, { plugins: INPUTS }),
      {
        message:
          'Invalid config at inputs.push.database_tag: expected a label name like "db" (letters, digits ' +
          'and "_"), or "" for none, found "my db"',
      },
    );
    assert.throws(
      () =>
        resolveConfig({ inputs: { push: { type: "http", listen: "0.0.0.0:8127" } } }, { plugins: INPUTS }),
      /inputs\.push\.listen: expected one of .*found the unknown key "listen"/,
    );
  });

  it("the http input runs by default, next to statsd and coscale_api, and not when [inputs] lists others", () => {
    assert.deepEqual(resolveConfig({}, { plugins: INPUTS }).inputs, {
      statsd: {
        type: "statsd",
        listen: ["udp:127.0.0.1:8125"],
        read_buffer: 8 * 1024 * 1024,
        max_line_length: 64 * 1024,
        max_tcp_connections: 256,
        udp_receive: "auto",
        warm_up: false,
      },
      http: { type: "http", database_tag: "", retention_policy_tag: "", bucket_tag: "", ack_wait: 5000 },
      coscale_api: { type: "coscale_api", max_data: 10 * 1024 * 1024, ack_wait: 5000 },
    });
    const only = resolveConfig({ inputs: { s: { type: "statsd" } } }, { plugins: INPUTS });
    assert.deepEqual(Object.keys(only.inputs), ["s"]);
  });
});
