import { describe, it } from "node:test";
import assert from "node:assert/strict";

import { parseCoscaleDefinitions } from "./coscale_definitions.ts";
import type { CoscaleDefinitions, Problem } from "./coscale_definitions.ts";

/** Parses text that must be usable and returns the definitions and warnings. */
function ok(text: string): { definitions: CoscaleDefinitions; warnings: readonly Problem[] } {
  const result = parseCoscaleDefinitions(text);
  assert.ok(result.ok, `must parse: ${JSON.stringify(result)}`);
  return { definitions: result.definitions, warnings: result.warnings };
}

/** Parses text that must be unusable and returns its problems. */
function problems(text: string): readonly Problem[] {
  const result = parseCoscaleDefinitions(text);
  assert.ok(!result.ok, `must be rejected: ${text}`);
  return result.problems;
}

const DOCS_EXAMPLE =
  `{"metrics":[{"id":1,"name":"Incoming traffic on interface","description":"…","groups":"Networking/Traffic",
  "unit":"b/s","datatype":"GUAGE","calctype":"Instant","dimensions":[{"id":1,"name":"interface"}]},
 {"id":2,"name":"Second metric","groups":"MyMetrics/Category2","unit":"","datatype":"DOUBLE",
  "calctype":"Difference","dimensions":[{"id":2,"name":"dimension2"},{"id":3,"name":"dimension3"}]}],
 "events":[{"id":1,"name":"My custom event","description":"…",
  "attributeDescriptions":[{"name":"Exit code","type":"integer","unit":""}]}]}`;

describe("parseCoscaleDefinitions()", () => {
  it("parseCoscaleDefinitions() normalises the docs example", () => {
    const { definitions, warnings } = ok(DOCS_EXAMPLE);
    assert.deepEqual(definitions, {
      metrics: [
        {
          id: 1,
          name: "Incoming traffic on interface",
          description: "…",
          groups: ["Networking/Traffic"],
          unit: "b/s",
          datatype: "DOUBLE",
          calctype: "Instant",
          dimensions: [{ id: 1, name: "interface" }],
        },
        {
          id: 2,
          name: "Second metric",
          description: "",
          groups: ["MyMetrics/Category2"],
          unit: "",
          datatype: "DOUBLE",
          calctype: "Difference",
          dimensions: [{ id: 2, name: "dimension2" }, { id: 3, name: "dimension3" }],
        },
      ],
      events: [
        {
          id: 1,
          name: "My custom event",
          description: "…",
          attributeDescriptions: [{ name: "Exit code", type: "integer", unit: "" }],
        },
      ],
    });
    assert.deepEqual(warnings, [{
      path: "$.metrics[0].datatype",
      reason: 'Datatype alias "GUAGE" read as DOUBLE',
    }]);
  });

  it("parseCoscaleDefinitions() reads one-line, pretty-printed, CRLF and BOM-prefixed JSON alike", () => {
    const doc = {
      maxruntime: 1000,
      period: 60,
      metrics: [{ id: 0, name: "A", datatype: "DOUBLE", calctype: "Instant" }],
    };
    const forms = [
      JSON.stringify(doc) + "\n",
      JSON.stringify(doc, null, 4),
      JSON.stringify(doc, null, 2).replaceAll("\n", "\r\n") + "\r\n",
      "\uFEFF" + JSON.stringify(doc),
      "  \n" + JSON.stringify(doc) + "\n\n",
    ];
    const first = ok(forms[0]!);
    assert.deepEqual(first.definitions.maxRuntimeMs, 1000);
    assert.deepEqual(first.definitions.periodS, 60);
    for (const form of forms) assert.deepEqual(ok(form), first);
  });

  it("parseCoscaleDefinitions() accepts events only, metrics only, and neither", () => {
    assert.equal(
      ok('{"events":[{"id":1,"name":"Restarts","attributeDescriptions":[]}]}').definitions.metrics.length,
      0,
    );
    assert.equal(ok('{"metrics":[{"id":1,"name":"x"}]}').definitions.events.length, 0);
    assert.deepEqual(ok('{"maxruntime":1000,"period":60}').definitions, {
      metrics: [],
      events: [],
      maxRuntimeMs: 1000,
      periodS: 60,
    });
    assert.deepEqual(ok('{"metrics":null,"events":null}').definitions, { metrics: [], events: [] });
  });

  it("parseCoscaleDefinitions() resolves datatype aliases case-insensitively", () => {
    const aliases: Array<[string, string]> = [
      ["DOUBLE", "DOUBLE"],
      ["double", "DOUBLE"],
      ["GAUGE", "DOUBLE"],
      ["Gauge", "DOUBLE"],
      ["GUAGE", "DOUBLE"],
      ["COUNT", "COUNT"],
      ["count", "COUNT"],
      ["COUNTER", "COUNTER"],
      ["Counter", "COUNTER"],
      ["LONG", "LONG"],
      [" long ", "LONG"],
    ];
    for (const [given, canonical] of aliases) {
      const { definitions } = ok(JSON.stringify({ metrics: [{ id: 1, name: "x", datatype: given }] }));
      assert.equal(definitions.metrics[0]!.datatype, canonical, given);
    }
  });

  it("parseCoscaleDefinitions() reads calctypes and warns about Average and missing values", () => {
    const { definitions, warnings } = ok(JSON.stringify({
      metrics: [
        { id: 1, name: "a", datatype: "DOUBLE", calctype: "difference" },
        { id: 2, name: "b", datatype: "DOUBLE", calctype: "Average" },
        { id: 3, name: "c" },
      ],
    }));
    assert.deepEqual(definitions.metrics.map((m) => [m.datatype, m.calctype]), [
      ["DOUBLE", "Difference"],
      ["DOUBLE", "Average"],
      ["DOUBLE", "Instant"],
    ]);
    assert.deepEqual(warnings.map((w) => w.path), [
      "$.metrics[1].calctype",
      "$.metrics[2].datatype",
      "$.metrics[2].calctype",
    ]);
  });

  it("parseCoscaleDefinitions() scopes dimension ids per metric", () => {
    const { definitions } = ok(JSON.stringify({
      metrics: [
        { id: 3, name: "Healthcheck uptime", dimensions: [{ id: 1, name: "Healthcheck" }] },
        { id: 4, name: "Circuitbreaker uptime", dimensions: [{ id: 1, name: "Key" }] },
      ],
    }));
    assert.deepEqual(definitions.metrics.map((m) => m.dimensions), [[{ id: 1, name: "Healthcheck" }], [{
      id: 1,
      name: "Key",
    }]]);
  });

  it("parseCoscaleDefinitions() warns about deprecated and unknown keys and ignores them", () => {
    const { warnings } = ok('{"tags":"","colour":"red","metrics":[{"id":1,"name":"x","tags":"NETWORK"}]}');
    assert.deepEqual(warnings.filter((w) => !w.path.endsWith("type")), [
      { path: "$.tags", reason: "Deprecated key ignored" },
      { path: "$.colour", reason: "Unknown key ignored" },
      { path: "$.metrics[0].tags", reason: "Deprecated key ignored" },
    ]);
  });

  it("parseCoscaleDefinitions() takes digit-string ids and numbers as text, and splits groups", () => {
    const { definitions } = ok('{"metrics":[{"id":"7","name":404,"unit":null,"groups":"A/B, C ,,"}]}');
    assert.deepEqual(definitions.metrics[0]!.id, 7);
    assert.deepEqual(definitions.metrics[0]!.name, "404");
    assert.deepEqual(definitions.metrics[0]!.unit, "");
    assert.deepEqual(definitions.metrics[0]!.groups, ["A/B", "C"]);
  });

  it("parseCoscaleDefinitions() ignores unusable maxruntime and period with a warning", () => {
    const { definitions, warnings } = ok('{"maxruntime":"soon","period":-5,"metrics":[]}');
    assert.equal(definitions.maxRuntimeMs, undefined);
    assert.equal(definitions.periodS, undefined);
    assert.deepEqual(warnings.map((w) => w.path), ["$.maxruntime", "$.period"]);
    assert.equal(ok('{"maxruntime":"5000"}').definitions.maxRuntimeMs, 5000);
  });

  it("parseCoscaleDefinitions() tolerates # and // comments and trailing commas with a warning", () => {
    const text =
      '{\r\n  "maxruntime": 10000, # limit\r\n  "metrics": [{"id": 1, "name": "a #1", // x\r\n  },],\r\n}';
    const { definitions, warnings } = ok(text);
    assert.equal(definitions.metrics[0]!.name, "a #1", "comment markers inside strings are kept");
    assert.equal(definitions.maxRuntimeMs, 10000);
    assert.deepEqual(warnings[0], {
      path: "$",
      reason: "Not strict JSON: comments and trailing commas were ignored",
    });
  });

  it("parseCoscaleDefinitions() rejects output that is not one JSON object", () => {
    for (
      const text of ["", "  \r\n", "not json", '{"metrics":[', "[1,2]", "42", '"x"', "null", '{"a":1}{"b":2}']
    ) {
      const found = problems(text);
      assert.equal(found.length, 1, text);
      assert.equal(found[0]!.path, "$");
      assert.match(found[0]!.reason, /^Expected /);
    }
  });

  it("parseCoscaleDefinitions() lists every problem with its JSON path", () => {
    const found = problems(JSON.stringify({
      metrics: [
        { id: 1, name: "a", datatype: "HISTOGRAM" },
        { id: -1, name: "b" },
        { name: "c", calctype: "Sum" },
        { id: 4, name: "d", dimensions: [{ id: "x", name: "n" }] },
        "metric",
      ],
      events: { id: 1 },
    }));
    assert.deepEqual(found.map((p) => p.path), [
      "$.metrics[0].datatype",
      "$.metrics[1].id",
      "$.metrics[2].id",
      "$.metrics[2].calctype",
      "$.metrics[3].dimensions[0].id",
      "$.metrics[4]",
      "$.events",
    ]);
    assert.match(found[0]!.reason, /HISTOGRAM/);
  });

  it("parseCoscaleDefinitions() rejects repeated metric, event and per-metric dimension ids", () => {
    const found = problems(JSON.stringify({
      metrics: [
        { id: 1, name: "a", dimensions: [{ id: 1, name: "x" }, { id: 1, name: "y" }] },
        { id: 1, name: "b" },
      ],
      events: [{ id: 2, name: "e" }, { id: 2, name: "f" }],
    }));
    assert.deepEqual(found, [
      { path: "$.metrics[0].dimensions[1].id", reason: "Duplicate dimension id 1 on metric 1" },
      { path: "$.metrics[1].id", reason: "Duplicate metric id 1" },
      { path: "$.events[1].id", reason: "Duplicate event id 2" },
    ]);
  });

  it("parseCoscaleDefinitions() normalises attribute types", () => {
    const { definitions, warnings } = ok(
      '{"events":[{"id":1,"name":"e","attributeDescriptions":[{"name":"a","type":"Integer"},{"name":"b","type":"float","unit":"s"},{"name":"c"}]}]}',
    );
    assert.deepEqual(definitions.events[0]!.attributeDescriptions, [
      { name: "a", type: "integer", unit: "" },
      { name: "b", type: "string", unit: "s" },
      { name: "c", type: "string", unit: "" },
    ]);
    assert.deepEqual(warnings.map((w) => w.path), ["$.events[0].attributeDescriptions[1].type"]);
  });
});
