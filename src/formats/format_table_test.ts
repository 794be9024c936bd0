import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeValueLists } from "../inputs/collectd/_test_packets.ts";
import { FORMAT_IDS } from "../model/frame.ts";
import type { BadReason, Sample, SampleSink, TallyEvent } from "../model/sample.ts";
import { createFormatTable } from "./format_table.ts";
import { parseStatsd } from "./statsd.ts";

function recordingSink(): { sink: SampleSink; samples: Sample[]; bad: BadReason[] } {
  const samples: Sample[] = [];
  const bad: BadReason[] = [];
  const sink: SampleSink = {
    sample: (s: Sample) => samples.push({ ...s }),
    event: (_e: TallyEvent) => {},
    bad: (r: BadReason) => bad.push(r),
  };
  return { sink, samples, bad };
}

/** One collectd value list of `type` with one COUNTER value, no time (arrival time). */
function collectdPacket(type: string, value: number): Uint8Array {
  return encodeValueLists([{ host: "h", plugin: "p", type, time: 0, values: [{ type: "counter", value }] }]);
}

describe("createFormatTable()", () => {
  it("createFormatTable() maps every id in FORMAT_IDS to its parser", () => {
    const formatById = createFormatTable({});
    assert.equal(formatById(FORMAT_IDS.statsd), parseStatsd);
    for (const [name, id] of Object.entries(FORMAT_IDS)) {
      assert.equal(typeof formatById(id), "function", `no parser for "${name}"`);
    }
  });

  it("createFormatTable() returns a lookup that answers undefined for an unknown id", () => {
    const formatById = createFormatTable({});
    assert.equal(formatById(0), undefined);
    assert.equal(formatById(255), undefined);
  });

  it("createFormatTable() returns parsers that feed the sink", () => {
    const { sink, samples } = recordingSink();
    const formatById = createFormatTable({});
    const lines = formatById(FORMAT_IDS.statsd)!(new TextEncoder().encode("a:1|c\nb:2|g"), sink);
    assert.equal(lines, 2);
    assert.deepEqual(samples.map((s) => [s.name, s.kind, s.value]), [["a", "counter", 1], ["b", "gauge", 2]]);
  });

  it("createFormatTable() builds the collectd format with the configured types.db", () => {
    const formatById = createFormatTable({ collectd: { typesDb: "tally_test value:COUNTER:0:U\n" } });
    const { sink, samples, bad } = recordingSink();
    assert.equal(formatById(FORMAT_IDS.collectd)!(collectdPacket("tally_test", 42), sink), 1);
    assert.deepEqual(bad, []);
    assert.deepEqual(samples.map((s) => [s.name, s.kind, s.value]), [[
      "collectd_p_tally_test",
      "cumulative",
      42,
    ]]);
  });

  it("createFormatTable() falls back to the built-in types.db without collectd options", () => {
    const formatById = createFormatTable({});
    const { sink, samples, bad } = recordingSink();
    formatById(FORMAT_IDS.collectd)!(collectdPacket("tally_test", 42), sink);
    assert.deepEqual(bad, ["unknown_type"]);
    formatById(FORMAT_IDS.collectd)!(collectdPacket("counter", 7), sink);
    assert.deepEqual(samples.map((s) => [s.kind, s.value]), [["cumulative", 7]]);
  });
});
