import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { resolveConfig } from "../../config/resolve.ts";
import { example, schema } from "./config.ts";
import { collectdUnixsock } from "./mod.ts";

function messages(input: unknown): string[] {
  const result = v.safeParse(schema, input);
  assert.equal(result.success, false);
  return (result.issues ?? []).map((issue) => issue.message);
}

describe("collectd_unixsock config schema", () => {
  it("schema needs the path and fills a 10 s interval and a 2 s timeout", () => {
    assert.deepEqual(v.parse(schema, { path: "/run/collectd.sock" }), {
      path: "/run/collectd.sock",
      interval: 10_000,
      timeout: 2_000,
    });
    assert.deepEqual(v.parse(schema, example), {
      path: "/var/run/csplugin-unixsock",
      interval: 10_000,
      timeout: 2_000,
    });
  });

  it("schema refuses a missing or empty path and out-of-range durations", () => {
    assert.throws(
      () =>
        resolveConfig({ inputs: { u: { type: "collectd_unixsock" } } }, {
          plugins: { collectd_unixsock: collectdUnixsock },
        }),
      {
        message: "Invalid config at inputs.u.path: expected the path of collectd's unixsock socket, like " +
          '"/var/run/collectd-unixsock", found nothing',
      },
    );
    assert.deepEqual(messages({ path: "" }), [
      'the path of collectd\'s unixsock socket, like "/var/run/collectd-unixsock"',
    ]);
    assert.deepEqual(messages({ path: "/s", interval: "10ms" }), ['a duration from "100ms" to "1d"']);
    assert.deepEqual(messages({ path: "/s", timeout: "soon" }), [
      'a duration like "500ms", "10s", "5m", "1h" or "7d"',
    ]);
  });
});
