import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FORMAT_IDS } from "../model/frame.ts";
import type { BadReason, Sample, SampleSink, TallyEvent } from "../model/sample.ts";
import { formatById } from "./format_table.ts";
import { parseStatsd } from "./statsd.ts";

describe("formatById()", () => {
  it("formatById() maps every id in FORMAT_IDS to its parser", () => {
    assert.equal(formatById(FORMAT_IDS.statsd), parseStatsd);
    for (const id of Object.values(FORMAT_IDS)) assert.equal(typeof formatById(id), "function");
  });

  it("formatById() returns undefined for an unknown id", () => {
    assert.equal(formatById(0), undefined);
    assert.equal(formatById(255), undefined);
  });

  it("formatById() returns a parser that feeds the sink", () => {
    const samples: Sample[] = [];
    const sink: SampleSink = {
      sample: (s: Sample) => samples.push(s),
      event: (_e: TallyEvent) => {},
      bad: (_r: BadReason) => {},
    };
    const lines = formatById(FORMAT_IDS.statsd)!(new TextEncoder().encode("a:1|c\nb:2|g"), sink);
    assert.equal(lines, 2);
    assert.deepEqual(samples.map((s) => [s.name, s.kind, s.value]), [["a", "counter", 1], ["b", "gauge", 2]]);
  });
});
