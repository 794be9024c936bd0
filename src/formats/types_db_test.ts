import { describe, it } from "node:test";
import assert from "node:assert/strict";

import { parseTypesDb } from "./types_db.ts";

describe("parseTypesDb()", () => {
  it("parseTypesDb() reads single- and multi-source types with bounds", () => {
    const { types, problems } = parseTypesDb(
      "cpu\t\tvalue:DERIVE:0:U\n" +
        "load   shortterm:GAUGE:0:5000, midterm:GAUGE:0:5000, longterm:GAUGE:0:5000\n" +
        "temperature value:GAUGE:-273.15:U\n",
    );
    assert.deepEqual(problems, []);
    assert.deepEqual(types.get("cpu"), [{ name: "value", type: "DERIVE", min: 0, max: null }]);
    assert.deepEqual(types.get("load")?.map((ds) => [ds.name, ds.type, ds.min, ds.max]), [
      ["shortterm", "GAUGE", 0, 5000],
      ["midterm", "GAUGE", 0, 5000],
      ["longterm", "GAUGE", 0, 5000],
    ]);
    assert.equal(types.get("temperature")?.[0]?.min, -273.15);
  });

  it("parseTypesDb() skips comments and blank lines, accepts CRLF, commas without blanks and any case", () => {
    const { types, problems } = parseTypesDb(
      "# a comment\r\n\r\n   \t\n  # indented comment\nif_octets rx:derive:0:U,tx:Derive:0:u\r\ncounter value:COUNTER:U:U\n",
    );
    assert.deepEqual(problems, []);
    assert.deepEqual([...types.keys()], ["if_octets", "counter"]);
    assert.deepEqual(types.get("if_octets")?.map((ds) => [ds.name, ds.type, ds.max]), [
      ["rx", "DERIVE", null],
      [
        "tx",
        "DERIVE",
        null,
      ],
    ]);
  });

  it("parseTypesDb() skips malformed lines and reports them with line numbers", () => {
    const { types, problems } = parseTypesDb(
      [
        "good value:GAUGE:0:U",
        "lonely",
        "badtype value:FLOAT:0:U",
        "badmin value:GAUGE:zero:U",
        "badmax value:GAUGE:0:1e",
        "short value:GAUGE:0",
        "emptyname :GAUGE:0:U",
        "dup a:GAUGE:0:U, a:GAUGE:0:U",
        "also_good x:ABSOLUTE:0:U y:GAUGE:-1.5e3:+2",
      ].join("\n"),
    );
    assert.deepEqual([...types.keys()], ["good", "also_good"]);
    assert.deepEqual(problems.map((p) => p.line), [2, 3, 4, 5, 6, 7, 8]);
    assert.match(problems[0]!.reason, /type "lonely" has no data sources/);
    assert.match(problems[1]!.reason, /has type "FLOAT", expected GAUGE, COUNTER, DERIVE or ABSOLUTE/);
    assert.match(problems[2]!.reason, /minimum "zero"/);
    assert.match(problems[3]!.reason, /maximum "1e"/);
    assert.match(problems[4]!.reason, /is not "name:TYPE:min:max"/);
    assert.match(problems[5]!.reason, /empty name/);
    assert.match(problems[6]!.reason, /"a" is repeated/);
    assert.equal(problems[1]!.text, "badtype value:FLOAT:0:U");
    assert.deepEqual(types.get("also_good")?.map((ds) => [ds.min, ds.max]), [[0, null], [-1500, 2]]);
  });

  it("parseTypesDb() lets a later definition of a type win", () => {
    const { types } = parseTypesDb("gauge value:GAUGE:U:U\ngauge first:GAUGE:U:U, second:GAUGE:U:U\n");
    assert.deepEqual(types.get("gauge")?.map((ds) => ds.name), ["first", "second"]);
  });

  it("parseTypesDb() returns frozen data sources", () => {
    const sources = parseTypesDb("x value:GAUGE:U:U").types.get("x")!;
    assert.ok(Object.isFrozen(sources));
    assert.ok(Object.isFrozen(sources[0]));
  });
});
