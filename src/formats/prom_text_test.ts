import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { parsePromText } from "./prom_text.ts";
import { encodeScriptFrame } from "./script_frame.ts";
import { assertGolden, goldenCases, prng, randomInput, record } from "./_recording_sink.ts";
import type { Recorded } from "./_recording_sink.ts";

const encoder = new TextEncoder();
const dir = fileURLToPath(new URL("./testdata/prom_text/", import.meta.url).href);

function run(text: string | Uint8Array): Recorded {
  return record(parsePromText, typeof text === "string" ? encoder.encode(text) : text);
}

/** Parses one line and returns its only sample as [name, labels, kind, value, timeMs]. */
function one(text: string): [string, unknown, string, number, number] {
  const r = run(text);
  assert.deepEqual(r.bad, [], text);
  assert.equal(r.samples.length, 1, text);
  const s = r.samples[0]!;
  return [s.name, s.labels, s.kind, s.value, s.timeMs];
}

describe("parsePromText() golden files", () => {
  const cases = goldenCases(dir, ".txt");

  for (const name of cases) {
    it(`parsePromText() matches ${name}.expected.json`, () => {
      const got = run(new Uint8Array(readFileSync(join(dir, `${name}.txt`))));
      const actual = { lines: got.lines, problems: got.problems, calls: got.calls };
      assertGolden(dir, name, actual);
    });
  }
});

describe("parsePromText()", () => {
  it("parsePromText() maps family types to kinds", () => {
    const r = run(
      [
        "# TYPE c counter",
        "c 1",
        "# TYPE om counter",
        "om_total 2",
        "om_created 3",
        "# TYPE g gauge",
        "g 4",
        "u 5",
        "# TYPE h histogram",
        'h_bucket{le="1"} 6',
        "h_sum 7",
        "h_count 8",
        "# TYPE s summary",
        's{quantile="0.5"} 9',
        "s_sum 10",
        "s_count 11",
        "# TYPE x untyped",
        "x 12",
      ].join("\n"),
    );
    assert.deepEqual(r.samples.map((s) => [s.name, s.kind]), [
      ["c", "cumulative"],
      ["om_total", "cumulative"],
      ["om_created", "gauge"],
      ["g", "gauge"],
      ["u", "gauge"],
      ["h_bucket", "cumulative"],
      ["h_sum", "cumulative"],
      ["h_count", "cumulative"],
      ["s", "gauge"],
      ["s_sum", "cumulative"],
      ["s_count", "cumulative"],
      ["x", "gauge"],
    ]);
  });

  it("parsePromText() reads labels with escapes, trailing commas and blanks, and drops empty values", () => {
    assert.deepEqual(one('m{ b = "x\\\\y" , a="q\\"\\n", e="", } 1'), [
      "m",
      [["a", 'q"\n'], ["b", "x\\y"]],
      "gauge",
      1,
      0,
    ]);
  });

  it("parsePromText() lets a # TYPE without samples declare nothing for the families after it", () => {
    const r = run(
      "# HELP idle Never sampled.\n# TYPE idle counter\n# TYPE busy gauge\nbusy 3\nidle_total 4\n",
    );
    assert.equal(r.lines, 2);
    assert.deepEqual(r.bad, []);
    assert.deepEqual(r.samples.map((s) => [s.name, s.kind, s.value]), [["busy", "gauge", 3], [
      "idle_total",
      "cumulative",
      4,
    ]]);
    assert.deepEqual(run("# TYPE only counter\n").calls, []);
  });

  it("parsePromText() reads timestamps in ms, negative ones too", () => {
    assert.equal(one("m 1 1700000000123")[4], 1700000000123);
    assert.equal(one("m 1 -5")[4], -5);
  });

  it("parsePromText() reads Prometheus 3 quoted names", () => {
    assert.deepEqual(one('{"a.b", "c.d"="e"} 2'), ["a.b", [["c.d", "e"]], "gauge", 2, 0]);
    assert.deepEqual(one('{"a.b"} 2').slice(0, 2), ["a.b", []]);
  });

  it("parsePromText() skips NaN and infinite values without counting them as bad", () => {
    const r = run("a NaN\nb +Inf\nc -Inf\nd 1");
    assert.equal(r.lines, 4);
    assert.deepEqual(r.bad, []);
    assert.deepEqual(r.samples.map((s) => s.name), ["d"]);
  });

  it("parsePromText() rejects bad lines with their reasons and keeps the neighbours", () => {
    const cases: Array<[string, string]> = [
      ["-x 1", "stray_line"],
      ["x-y 1", "stray_line"],
      ["[ERROR] scrape failed", "stray_line"],
      ["x", "no_value"],
      ['x{a="b"}', "no_value"],
      ["x abc", "bad_value"],
      ['x{a="b" 1', "bad_tags"],
      ["x{a=b} 1", "bad_tags"],
      ['x{"a"="b","n"} 1', "bad_tags"],
      ["x 1 1.5", "bad_timestamp"],
      ["x 1 2 3", "bad_timestamp"],
      ["{} 1", "empty_name"],
    ];
    for (const [line, reason] of cases) {
      const r = run(`ok 1\n${line}\nok 2`);
      assert.deepEqual(r.bad, [reason], line);
      assert.deepEqual(r.samples.map((s) => s.value), [1, 2], line);
      assert.equal(r.problems[0]!.line, 2);
    }
  });

  it("parsePromText() adds a script frame's labels and run time, overriding printed labels", () => {
    const frame = encodeScriptFrame(
      { script: "exporter", runMs: 1_700_000_000_000, labels: { env: "prod" } },
      encoder.encode('m{script="mine",x="1"} 5\nn 6 42\n'),
    );
    const r = record(parsePromText, frame);
    assert.deepEqual(r.samples.map((s) => [s.name, s.labels, s.timeMs]), [
      ["m", [["env", "prod"], ["script", "exporter"], ["x", "1"]], 1_700_000_000_000],
      ["n", [["env", "prod"], ["script", "exporter"]], 42],
    ]);
  });

  it("parsePromText() counts one bad line for a frame whose header is invalid", () => {
    const r = run('{"script":"x","runMs":"later"}\nm 1\n');
    assert.equal(r.lines, 1);
    assert.deepEqual(r.bad, ["bad_frame"]);
  });

  it("parsePromText() never throws on random input and keeps the line contract", () => {
    const next = prng(3);
    const atoms = [
      "m",
      "_total",
      "{",
      "}",
      '"',
      "a",
      "=",
      ",",
      " ",
      "1",
      "-2.5e3",
      "NaN",
      "+Inf",
      "# TYPE m counter\n",
      "# HELP m x\n",
      "\\",
      "\\n",
      "\n",
      "\r\n",
      "é",
      ":",
      "le",
      "0.5",
      "1700000000000",
    ];
    for (let iteration = 0; iteration < 1500; iteration++) {
      const bytes = randomInput(next, atoms);
      const r = run(bytes);
      assert.ok(r.samples.length + r.bad.length <= r.lines);
    }
  });
});
