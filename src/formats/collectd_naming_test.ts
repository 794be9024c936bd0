import { describe, it } from "node:test";
import assert from "node:assert/strict";

import { collectdLabels, collectdMetricName } from "./collectd_naming.ts";
import type { CollectdIdentifier } from "./collectd_naming.ts";

function id(
  host: string,
  plugin: string,
  pluginInstance: string,
  type: string,
  typeInstance: string,
): CollectdIdentifier {
  return { host, plugin, pluginInstance, type, typeInstance };
}

describe("collectdMetricName()", () => {
  // The cases of collectd_exporter's TestNewName, minus the `_total` its Prometheus output appends.
  it("collectdMetricName() follows collectd_exporter's newName", () => {
    assert.equal(collectdMetricName({ plugin: "cpu", type: "cpu" }, "value"), "collectd_cpu");
    assert.equal(collectdMetricName({ plugin: "dns", type: "dns_qtype" }, "value"), "collectd_dns_dns_qtype");
    assert.equal(collectdMetricName({ plugin: "df", type: "df" }, "used"), "collectd_df_used");
    assert.equal(collectdMetricName({ plugin: "df", type: "df" }, "free"), "collectd_df_free");
    assert.equal(collectdMetricName({ plugin: "cpu", type: "percent" }, "value"), "collectd_cpu_percent");
    assert.equal(
      collectdMetricName({ plugin: "interface", type: "if_octets" }, "rx"),
      "collectd_interface_if_octets_rx",
    );
    assert.equal(
      collectdMetricName({ plugin: "interface", type: "if_octets" }, "tx"),
      "collectd_interface_if_octets_tx",
    );
    assert.equal(
      collectdMetricName({ plugin: "load", type: "load" }, "shortterm"),
      "collectd_load_shortterm",
    );
  });

  it("collectdMetricName() keeps names as collectd sends them (outputs sanitise)", () => {
    assert.equal(
      collectdMetricName({ plugin: "python.foo", type: "gauge" }, "value"),
      "collectd_python.foo_gauge",
    );
  });
});

describe("collectdLabels()", () => {
  it("collectdLabels() puts the plugin instance in a label named after the plugin and the type instance in type", () => {
    assert.deepEqual(collectdLabels(id("example.com", "cpu", "0", "cpu", "user")), [
      ["cpu", "0"],
      ["instance", "example.com"],
      ["type", "user"],
    ]);
  });

  it("collectdLabels() puts the type instance in the plugin label when there is no plugin instance", () => {
    assert.deepEqual(collectdLabels(id("example.com", "df", "", "df_complex", "used")), [
      ["df", "used"],
      ["instance", "example.com"],
    ]);
    assert.deepEqual(collectdLabels(id("example.com", "memory", "", "memory", "free")), [
      ["instance", "example.com"],
      ["memory", "free"],
    ]);
  });

  it("collectdLabels() gives no label for empty parts", () => {
    assert.deepEqual(collectdLabels(id("example.com", "load", "", "load", "")), [[
      "instance",
      "example.com",
    ]]);
    assert.deepEqual(collectdLabels(id("", "load", "", "load", "")), []);
    assert.deepEqual(collectdLabels(id("h", "interface", "eth0", "if_octets", "")), [["instance", "h"], [
      "interface",
      "eth0",
    ]]);
  });

  it("collectdLabels() makes the plugin label name a valid label name that cannot collide", () => {
    assert.deepEqual(collectdLabels(id("h", "python.my-plugin", "x", "gauge", "")), [["instance", "h"], [
      "python_my_plugin",
      "x",
    ]]);
    assert.deepEqual(collectdLabels(id("h", "9p", "x", "gauge", "")), [["_9p", "x"], ["instance", "h"]]);
    assert.deepEqual(collectdLabels(id("h", "type", "a", "gauge", "b")), [["instance", "h"], [
      "plugin_type",
      "a",
    ], ["type", "b"]]);
    assert.deepEqual(collectdLabels(id("h", "instance", "a", "gauge", "")), [["instance", "h"], [
      "plugin_instance",
      "a",
    ]]);
    assert.deepEqual(collectdLabels(id("h", "", "a", "gauge", "")), [["instance", "h"], ["plugin", "a"]]);
  });

  it("collectdLabels() sorts labels by name", () => {
    const labels = collectdLabels(id("h", "zzz", "1", "gauge", "t"));
    assert.deepEqual(labels.map((l) => l[0]), ["instance", "type", "zzz"]);
  });
});
