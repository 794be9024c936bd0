import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCoscaleData } from "./coscale_data.ts";
import { assertGolden, goldenCases } from "./_recording_sink.ts";

const dir = fileURLToPath(new URL("./testdata/coscale_data/", import.meta.url).href);

describe("parseCoscaleData() golden files", () => {
  it("parseCoscaleData() has the help-text examples, the tally extensions and the malformed cases", () => {
    assert.deepEqual(goldenCases(dir, ".txt"), [
      "dimensions",
      "help_examples",
      "malformed",
      "negative_exponent",
    ]);
  });

  for (const name of goldenCases(dir, ".txt")) {
    it(`parseCoscaleData() reads ${name}.txt as ${name}.expected.json`, () => {
      assertGolden(dir, name, parseCoscaleData(readFileSync(join(dir, `${name}.txt`), "utf8")));
    });
  }
});

describe("parseCoscaleData()", () => {
  it("parseCoscaleData() reads every example of the CoScale CLI's help text (coscale.md §2.2)", () => {
    const { entries, errors } = parseCoscaleData(
      "M1:S100:1454580954:1.2;M1:S100:-60:1.2;M2:S100:0:2;M1:S100:[-60:1.2,0:1.1];" +
        'M1:S1:-60:[100,50,[1,2,3,4,5,6]];M1:S1:-60:1.3:{"Queue":"q1","Data Center":"data center 1"};M2:S1:-60:1.2',
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(entries.map((e) => [e.metricId, e.subject, e.points, e.dimensions]), [
      [1, "S100", [[1454580954, 1.2]], []],
      [1, "S100", [[-60, 1.2]], []],
      [2, "S100", [[0, 2]], []],
      [1, "S100", [[-60, 1.2], [0, 1.1]], []],
      [1, "S1", [[-60, [100, 50, [1, 2, 3, 4, 5, 6]]]], []],
      [1, "S1", [[-60, 1.3]], [["Queue", "q1"], ["Data Center", "data center 1"]]],
      [2, "S1", [[-60, 1.2]], []],
    ]);
  });

  it("parseCoscaleData() accepts the negative and exponent values the original refused", () => {
    const { entries, errors } = parseCoscaleData(
      "M1:A:0:-1.5;M2:A:-60:2.5e-3;M3:A:0:1E6;M4:S1:0:[3,25,[-2,1e1,4]]",
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(entries.map((e) => e.points[0]![1]), [-1.5, 0.0025, 1_000_000, [3, 25, [-2, 10, 4]]]);
  });

  it("parseCoscaleData() keeps the neighbours of a malformed entry and names its line", () => {
    const { entries, errors } = parseCoscaleData("M1:A:0:1\nM2:A:0:x;M3:A:0:3\n\nM4:Q:0:4", 41);
    assert.deepEqual(entries.map((e) => [e.metricId, e.line]), [[1, 41], [3, 42]]);
    assert.deepEqual(errors, [
      { line: 42, entry: "M2:A:0:x", message: 'Value "x" is not a number' },
      { line: 44, entry: "M4:Q:0:4", message: 'Subject "Q" is not A (the application) or S<server id>' },
    ]);
  });

  it("parseCoscaleData() does not split at a ; or } inside a quoted dimension value", () => {
    const { entries, errors } = parseCoscaleData('M1:A:0:1:{"Q":"a;b}c","R":"\\";"};M2:A:0:2');
    assert.deepEqual(errors, []);
    assert.deepEqual(entries.map((e) => e.dimensions), [[["Q", "a;b}c"], ["R", '";']], []]);
  });

  it("parseCoscaleData() lets a newline end an entry whose dimensions are never closed", () => {
    const { entries, errors } = parseCoscaleData('M1:A:0:1:{"Q":"open\nM2:A:0:2');
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.line, 1);
    assert.equal(errors[0]!.message, 'Dimensions {"Q":"open are not valid JSON');
    assert.deepEqual(entries.map((e) => [e.metricId, e.line]), [[2, 2]]);
  });

  it("parseCoscaleData() finds nothing in blank input and between empty separators", () => {
    assert.deepEqual(parseCoscaleData(""), { entries: [], errors: [] });
    assert.deepEqual(parseCoscaleData(" ;; \r\n;\n"), { entries: [], errors: [] });
  });
});
