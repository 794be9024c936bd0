import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { resolveConfig } from "../../config/resolve.ts";
import { INPUTS } from "../../inputs/registry.ts";
import { OUTPUTS } from "../registry.ts";
import { otlp, signalUrl } from "./mod.ts";
import { resourceAttributes } from "./resource.ts";

describe("otlp output config", () => {
  it("signalUrl() appends v1/<signal> to the base URL's path, as OTEL_EXPORTER_OTLP_ENDPOINT does", () => {
    assert.equal(signalUrl("http://127.0.0.1:4318/", "metrics"), "http://127.0.0.1:4318/v1/metrics");
    assert.equal(signalUrl("http://collector:4318", "logs"), "http://collector:4318/v1/logs");
    assert.equal(signalUrl("https://gw.example/otlp/", "metrics"), "https://gw.example/otlp/v1/metrics");
    assert.equal(
      signalUrl("https://gw.example/otlp?tenant=a", "logs"),
      "https://gw.example/otlp/v1/logs?tenant=a",
    );
  });

  it("resourceAttributes() puts host.name and service.name first and lets the user's attributes win", () => {
    assert.deepEqual(
      resourceAttributes({ serviceName: "tally", hostName: "edge-1", attributes: { zone: "b", az: "a" } }),
      [["host.name", "edge-1"], ["service.name", "tally"], ["az", "a"], ["zone", "b"]],
    );
    assert.deepEqual(
      resourceAttributes({ serviceName: "tally", hostName: "edge-1", attributes: { "host.name": "gw-7" } }),
      [["host.name", "gw-7"], ["service.name", "tally"]],
    );
  });

  it("defaults to protobuf, gzip, cumulative, service tally, events as logs", () => {
    const config = v.parse(otlp.schema, { url: "http://127.0.0.1:4318" });
    assert.deepEqual(
      [config.encoding, config.compression, config.temporality, config.service_name, config.send_events],
      ["protobuf", "gzip", "cumulative", "tally", true],
    );
    assert.equal(config.metrics_url, undefined);
  });

  it("names the key path of a bad value", () => {
    const document = {
      outputs: { col: { type: "otlp", url: "http://127.0.0.1:4318", temporality: "sometimes" } },
    };
    assert.throws(() => resolveConfig(document, { plugins: INPUTS, outputs: OUTPUTS, file: "tally.toml" }), {
      message: 'Invalid config "tally.toml" at outputs.col.temporality: expected "cumulative" or "delta", ' +
        'found "sometimes"',
    });
  });
});
