import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { PUSH_BODY_SCHEMA } from "../formats/json.ts";
import { bodyIssues, describeFound, renderBodyPath } from "./body_issues.ts";

function issuesOf(body: unknown) {
  const parsed = v.safeParse(PUSH_BODY_SCHEMA, body);
  assert.equal(parsed.success, false);
  return bodyIssues(parsed.issues ?? [], PUSH_BODY_SCHEMA);
}

describe("bodyIssues()", () => {
  it("bodyIssues() names every bad field by path with what was expected and found", () => {
    const issues = issuesOf({
      metrics: [
        { name: "ok", type: "counter", value: 1 },
        { name: "", type: "meter", value: 1 },
        { name: "a", value: 1 },
        { name: "a", type: "gauge", value: "abc", labels: { "a.b": 1 }, extra: true },
      ],
    });
    assert.deepEqual(issues, [
      {
        path: "metrics[1].name",
        message: 'expected a non-empty metric name without control characters, found ""',
      },
      {
        path: "metrics[1].type",
        message:
          'expected one of "counter", "gauge", "timer", "histogram", "distribution", "set" or "cumulative", found "meter"',
      },
      {
        path: "metrics[2].type",
        message:
          'expected one of "counter", "gauge", "timer", "histogram", "distribution", "set" or "cumulative", found nothing',
      },
      { path: 'metrics[3].labels["a.b"]', message: "expected a string label value, found 1" },
      { path: "metrics[3].extra", message: 'expected no such field, found the unknown field "extra"' },
    ]);
  });

  it("bodyIssues() checks a value against its type once the rest of the metric is valid", () => {
    assert.deepEqual(issuesOf({ metrics: [{ name: "a", type: "gauge", value: "abc" }] }), [
      { path: "metrics[0].value", message: 'expected a finite number, found "abc"' },
    ]);
  });

  it("bodyIssues() describes a body that is not an object at the root", () => {
    assert.deepEqual(issuesOf("text"), [
      { path: "", message: 'expected an object like {"metrics": [...]}, found "text"' },
    ]);
    assert.deepEqual(issuesOf({}), [{
      path: "metrics",
      message: "expected an array of metrics, found nothing",
    }]);
  });

  it("renderBodyPath() quotes keys that are not identifiers", () => {
    assert.equal(renderBodyPath(["metrics", 3, "labels", "a b"]), 'metrics[3].labels["a b"]');
    assert.equal(renderBodyPath([]), "");
  });

  it("describeFound() shortens long strings and names containers", () => {
    assert.equal(describeFound("x".repeat(100)).length, 60);
    assert.equal(describeFound([1]), "an array");
    assert.equal(describeFound({}), "an object");
    assert.equal(describeFound(null), "null");
  });
});
