import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { BadReason, Sample, SampleSink } from "../model/sample.ts";
import { seriesKey } from "../model/series_key.ts";
import { parseCollectdUnixsock } from "./collectd_unixsock.ts";
import { prng, randomInput } from "./_recording_sink.ts";

const encoder = new TextEncoder();

function parse(text: string | Uint8Array) {
  const samples: Array<Omit<Sample, "key">> = [];
  const bad: BadReason[] = [];
  const sink: SampleSink = {
    sample(sample) {
      assert.equal(sample.key, seriesKey(sample.name, sample.labels));
      const { key: _key, ...rest } = sample;
      samples.push(rest);
    },
    event() {
      assert.fail("no events in this format");
    },
    bad(reason) {
      bad.push(reason);
    },
  };
  const lines = parseCollectdUnixsock(typeof text === "string" ? encoder.encode(text) : text, sink);
  return { lines, samples, bad };
}

function gauge(
  name: string,
  labels: Array<[string, string]>,
  value: number,
  timeMs: number,
): Omit<Sample, "key"> {
  return { name, labels, kind: "gauge", value, member: "", rate: 1, gaugeDelta: false, timeMs };
}

describe("parseCollectdUnixsock()", () => {
  it("parseCollectdUnixsock() names values the collectd_exporter way, as gauges at collectd's time", () => {
    const r = parse(
      "1700000000.250\ttallytest/cpu-0/cpu-user\tvalue=9.803103e+01\n" +
        "1700000001.000\ttallytest/load/load\tshortterm=1.023438e+00\tmidterm=1.076660e+00\tlongterm=1.040527e+00\n" +
        "1700000002.000\ttallytest/memory/memory-used\tvalue=1.234567e+08\n" +
        "1700000003.000\ttallytest/interface-lo/if_octets\trx=0.000000e+00\ttx=2.500000e+01\n",
    );
    assert.equal(r.lines, 4);
    assert.deepEqual(r.bad, []);
    const host: [string, string] = ["instance", "tallytest"];
    assert.deepEqual(r.samples, [
      gauge("collectd_cpu", [["cpu", "0"], host, ["type", "user"]], 98.03103, 1_700_000_000_250),
      gauge("collectd_load_shortterm", [host], 1.023438, 1_700_000_001_000),
      gauge("collectd_load_midterm", [host], 1.07666, 1_700_000_001_000),
      gauge("collectd_load_longterm", [host], 1.040527, 1_700_000_001_000),
      gauge("collectd_memory", [host, ["memory", "used"]], 123456700, 1_700_000_002_000),
      gauge("collectd_interface_if_octets_rx", [host, ["interface", "lo"]], 0, 1_700_000_003_000),
      gauge("collectd_interface_if_octets_tx", [host, ["interface", "lo"]], 25, 1_700_000_003_000),
    ]);
  });

  it("parseCollectdUnixsock() splits identifiers as collectd does: first dash of each part, slashes kept in the type instance", () => {
    const r = parse(
      "1700000000\tweb-01.example/df-root-fs/df_complex-free\tvalue=1\n" +
        "1700000000\th/exec-a/gauge-x/y\tvalue=2\n",
    );
    assert.deepEqual(r.bad, []);
    assert.deepEqual(r.samples.map((s) => [s.name, s.labels]), [
      ["collectd_df_df_complex", [["df", "root-fs"], ["instance", "web-01.example"], ["type", "free"]]],
      ["collectd_exec_gauge", [["exec", "a"], ["instance", "h"], ["type", "x/y"]]],
    ]);
  });

  it("parseCollectdUnixsock() rejects a bad line as a whole and keeps its neighbours", () => {
    const r = parse(
      [
        "1700000000\th/load/load\tshortterm=1\tmidterm=NaN",
        "1700000000\th/load\tvalue=1",
        "1700000000\th//load\tvalue=1",
        "soon\th/load/load\tvalue=1",
        "1700000000\th/load/load",
        "1700000000\th/load/load\t=1",
        "1700000000\th/load/load\tvalue=",
        "no tabs at all",
        "1700000000\th/ok/gauge\tvalue=-2.5e-3\r",
        "",
        "1700000000\th/inf/gauge\tvalue=         inf",
      ].join("\n"),
    );
    assert.equal(r.lines, 10);
    assert.deepEqual(r.bad, [
      "bad_value",
      "empty_name",
      "empty_name",
      "bad_timestamp",
      "no_value",
      "malformed_part",
      "bad_value",
      "stray_line",
      "bad_value",
    ]);
    assert.deepEqual(r.samples, [
      gauge("collectd_ok_gauge", [["instance", "h"]], -0.0025, 1_700_000_000_000),
    ]);
  });

  it("parseCollectdUnixsock() counts invalid UTF-8 and takes padded values", () => {
    const bytes = encoder.encode("1700000000\th/x\xff/y\tvalue=1\n1700000000\th/p/t\tvalue= 1.5e+00\n");
    bytes[15] = 0xff;
    const r = parse(bytes);
    assert.deepEqual(r.bad, ["invalid_utf8"]);
    assert.deepEqual(r.samples.map((s) => s.value), [1.5]);
  });

  it("parseCollectdUnixsock() never throws, and accounts for every non-empty line, on random input", () => {
    const next = prng(3);
    const atoms = [
      "1700000000.5",
      "\t",
      "h/cpu-0/cpu-user",
      "value=",
      "1.5e+00",
      "NaN",
      "=",
      "/",
      "-",
      "\n",
      "x",
    ];
    for (let i = 0; i < 3000; i++) {
      const bytes = randomInput(next, atoms);
      const r = parse(bytes);
      const text = new TextDecoder().decode(bytes);
      const nonEmpty = text.split("\n").filter((l) => l !== "" && l !== "\r").length;
      assert.equal(r.lines, nonEmpty);
      assert.ok(r.bad.length <= r.lines);
      for (const s of r.samples) assert.ok(Number.isFinite(s.value));
    }
  });
});
