import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { parseInfluxLine } from "./influx_line.ts";
import type { InfluxLineOptions } from "./influx_line.ts";
import { encodeScriptFrame } from "./script_frame.ts";
import { assertGolden, goldenCases, prng, randomInput, record } from "./_recording_sink.ts";
import type { Recorded } from "./_recording_sink.ts";
import type { SampleSink } from "../model/sample.ts";

const encoder = new TextEncoder();
const dir = fileURLToPath(new URL("./testdata/influx_line/", import.meta.url).href);

function run(text: string | Uint8Array, options: Omit<InfluxLineOptions, "onBad"> = {}): Recorded {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  return record(function parseWith(b: Uint8Array, sink: SampleSink, o?: InfluxLineOptions): number {
    return parseInfluxLine(b, sink, { ...o, ...options });
  }, bytes);
}

describe("parseInfluxLine() golden files", () => {
  const cases = goldenCases(dir, ".txt");

  for (const name of cases) {
    it(`parseInfluxLine() matches ${name}.expected.json`, () => {
      const got = run(new Uint8Array(readFileSync(join(dir, `${name}.txt`))));
      const actual = { lines: got.lines, problems: got.problems, calls: got.calls };
      assertGolden(dir, name, actual);
    });
  }
});

describe("parseInfluxLine()", () => {
  it("parseInfluxLine() names samples <measurement>_<field>, and <measurement> for a field called value", () => {
    const r = run("cpu,host=a idle=90,user=5i\ntemp,room=b value=21.5");
    assert.deepEqual(r.samples.map((s) => [s.name, s.labels, s.kind, s.value]), [
      ["cpu_idle", [["host", "a"]], "gauge", 90],
      ["cpu_user", [["host", "a"]], "gauge", 5],
      ["temp", [["room", "b"]], "gauge", 21.5],
    ]);
  });

  it("parseInfluxLine() reads integers, unsigned integers, floats and booleans", () => {
    const r = run("m a=1i,b=2u,c=-3.5e2,d=t,e=FALSE,f=True,g=-9223372036854775808i,h=.5");
    assert.deepEqual(r.samples.map((s) => s.value), [1, 2, -350, 1, 0, 1, -9223372036854775808, 0.5]);
  });

  it("parseInfluxLine() converts timestamps by precision", () => {
    const cases: Array<[InfluxLineOptions["precision"], string, number]> = [
      [undefined, "1700000000123456789", 1700000000123],
      ["ns", "1700000000123456789", 1700000000123],
      ["us", "1700000000123456", 1700000000123],
      ["ms", "1700000000123", 1700000000123],
      ["s", "1700000000", 1700000000000],
      ["m", "28333333", 1699999980000],
      ["h", "472222", 1699999200000],
    ];
    for (const [precision, ts, ms] of cases) {
      const r = run(`m v=1 ${ts}`, precision === undefined ? {} : { precision });
      assert.equal(r.samples[0]!.timeMs, ms, `${precision}: ${ts}`);
    }
    assert.equal(run("m v=1 -1000000").samples[0]!.timeMs, -1);
  });

  it("parseInfluxLine() takes the precision and labels of a script frame header", () => {
    const frame = encodeScriptFrame(
      { script: "sensors", runMs: 1_700_000_000_000, precision: "s", labels: { site: "x" } },
      encoder.encode("t,site=y,room=a v=1 1600000000\nt v=2\n"),
    );
    const r = record(parseInfluxLine, frame);
    assert.deepEqual(r.samples.map((s) => [s.labels, s.timeMs]), [
      [[["room", "a"], ["script", "sensors"], ["site", "x"]], 1_600_000_000_000],
      [[["script", "sensors"], ["site", "x"]], 1_700_000_000_000],
    ]);
  });

  it("parseInfluxLine() rejects a line as a whole and keeps its neighbours", () => {
    const cases: Array<[string, string]> = [
      ["m", "no_value"],
      ["m,t=1", "no_value"],
      ["m,t value=1", "bad_tags"],
      ["m,t= value=1", "bad_tags"],
      ["m a=1,b=x", "bad_value"],
      ["m a=1i5", "bad_value"],
      ["m a=-1u", "bad_value"],
      ['m a="open', "bad_value"],
      ['m s="only"', "no_value"],
      ["m a=1 x", "bad_timestamp"],
      [",t=1 a=1", "empty_name"],
    ];
    for (const [line, reason] of cases) {
      const r = run(`ok v=1\n${line}\nok v=2`);
      assert.deepEqual(r.bad, [reason], line);
      assert.deepEqual(r.samples.map((s) => s.value), [1, 2], line);
      assert.equal(r.problems[0]!.line, 2);
    }
  });

  it("parseInfluxLine() reads a quoted string field that spans lines as part of its line", () => {
    const r = run('log,host=a msg="first\nsecond, \\"quoted\\" =x",n=3i 1700000000000000000\nnext v=4\n');
    assert.deepEqual(r.bad, []);
    assert.equal(r.lines, 2);
    assert.deepEqual(r.samples.map((s) => [s.name, s.labels, s.value, s.timeMs]), [
      ["log_n", [["host", "a"]], 3, 1_700_000_000_000],
      ["next_v", [], 4, 0],
    ]);
    const crlf = run('m s="a\r\nb",v=1\r\nn v=2\r\n');
    assert.deepEqual(crlf.samples.map((s) => [s.name, s.value]), [["m_v", 1], ["n_v", 2]]);
  });

  it("parseInfluxLine() unescapes commas, spaces and equals signs where the protocol allows them", () => {
    const r = run("disk\\ io\\,x,mount\\ point=/mnt/a\\ b,k\\=v=1\\=2,weird\\,tag=x used\\ pct=5,a\\=b=6");
    assert.deepEqual(r.bad, []);
    assert.deepEqual(r.samples.map((s) => [s.name, s.labels]), [
      ["disk io,x_used pct", [["k=v", "1=2"], ["mount point", "/mnt/a b"], ["weird,tag", "x"]]],
      ["disk io,x_a=b", [["k=v", "1=2"], ["mount point", "/mnt/a b"], ["weird,tag", "x"]]],
    ]);
  });

  it("parseInfluxLine() reads i and u suffixes exactly up to 2^53 and rejects a negative unsigned value", () => {
    const r = run("m a=9007199254740991i,b=18446744073709551615u,c=0u,d=-0i\nm e=-5u");
    assert.deepEqual(r.samples.map((s) => s.value), [9007199254740991, 18446744073709551615, 0, 0]);
    assert.deepEqual(r.bad, ["bad_value"]);
  });

  it("parseInfluxLine() leaves a line without timestamp at arrival time (0)", () => {
    assert.deepEqual(run("m v=1\nm v=2   \n").samples.map((s) => s.timeMs), [0, 0]);
  });

  it("parseInfluxLine() skips comments and blank lines without counting them", () => {
    const r = run("# comment\n\n   \nm v=1\r\n");
    assert.equal(r.lines, 1);
    assert.equal(r.samples.length, 1);
  });

  it("parseInfluxLine() reads every series right while its cache grows, and once it is full", () => {
    // 140 000 series sections, twice: the series cache doubles four times (re-inserting what it holds)
    // and is emptied at its bound of 131 072 entries on the way.
    const series = 140_000;
    let text = "";
    for (let i = 0; i < series; i++) text += `m,host=h${i},zone=z${i % 7} v=${i}\n`;
    for (let pass = 0; pass < 2; pass++) {
      const r = run(text);
      assert.equal(r.samples.length, series);
      assert.deepEqual(r.bad, []);
      for (let i = 0; i < series; i += 997) {
        const sample = r.samples[i]!;
        assert.equal(sample.name, "m_v");
        assert.deepEqual(sample.labels, [["host", `h${i}`], ["zone", `z${i % 7}`]]);
        assert.equal(sample.value, i);
      }
      const keys = new Set(r.samples.map((s) => s.key));
      assert.equal(keys.size, series);
    }
  });

  it("parseInfluxLine() never throws on random input and yields all or nothing per line", () => {
    const next = prng(11);
    const atoms = [
      "m",
      ",",
      "t=1",
      " ",
      "v=",
      "1",
      "2i",
      "3u",
      "t",
      '"s"',
      "\\",
      "\\ ",
      "=",
      "\n",
      "\r\n",
      "#",
      "é",
      "1700000000000000000",
      "-",
    ];
    for (let iteration = 0; iteration < 1500; iteration++) {
      const r = run(randomInput(next, atoms));
      assert.ok(r.bad.length <= r.lines);
    }
  });
});
