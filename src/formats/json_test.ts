import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { prng, randomInput, record } from "./_recording_sink.ts";
import type { Recorded } from "./_recording_sink.ts";
import { parseJson } from "./json.ts";

const encoder = new TextEncoder();

function run(body: unknown): Recorded {
  const bytes = body instanceof Uint8Array
    ? body
    : encoder.encode(typeof body === "string" ? body : JSON.stringify(body));
  return record(parseJson, bytes);
}

describe("parseJson()", () => {
  it("parseJson() turns each metric into a sample of its type, labels sorted", () => {
    const r = run({
      metrics: [
        {
          name: "deploys",
          type: "counter",
          value: 1,
          labels: { env: "prod", app: "api" },
          timestamp: 1764748800000,
        },
        { name: "queue.depth", type: "gauge", value: -4.5 },
        { name: "build.seconds", type: "timer", value: 12.25 },
        { name: "payload", type: "histogram", value: 300 },
        { name: "latency", type: "distribution", value: 0.5 },
        { name: "users", type: "set", value: "alice" },
        { name: "users", type: "set", value: 42 },
        { name: "bytes.sent", type: "cumulative", value: 1e9 },
      ],
    });
    assert.equal(r.lines, 8);
    assert.deepEqual(r.bad, []);
    assert.deepEqual(r.samples.map((s) => [s.name, s.kind, s.value, s.member, s.labels, s.timeMs]), [
      ["deploys", "counter", 1, "", [["app", "api"], ["env", "prod"]], 1764748800000],
      ["queue.depth", "gauge", -4.5, "", [], 0],
      ["build.seconds", "timer", 12.25, "", [], 0],
      ["payload", "histogram", 300, "", [], 0],
      ["latency", "distribution", 0.5, "", [], 0],
      ["users", "set", 0, "alice", [], 0],
      ["users", "set", 0, "42", [], 0],
      ["bytes.sent", "cumulative", 1e9, "", [], 0],
    ]);
    assert.ok(r.samples.every((s) => s.rate === 1 && !s.gaugeDelta));
  });

  it("parseJson() counts each bad metric by its first problem and keeps its neighbours", () => {
    const r = run({
      metrics: [
        { name: "", type: "counter", value: 1 },
        { name: "a", type: "meter", value: 1 },
        { name: "a", type: "gauge", value: "abc" },
        { name: "a", type: "gauge", value: 1, labels: { env: 1 } },
        { name: "a", type: "gauge", value: 1, timestamp: 1764748800 },
        { name: "ok", type: "gauge", value: 2 },
        "not an object",
      ],
    });
    assert.equal(r.lines, 7);
    assert.deepEqual(r.bad, [
      "empty_name",
      "unknown_type",
      "bad_value",
      "bad_tags",
      "bad_timestamp",
      "bad_value",
    ]);
    assert.deepEqual(r.samples.map((s) => [s.name, s.value]), [["ok", 2]]);
    assert.deepEqual(r.problems[2], {
      line: 3,
      reason: "bad_value",
      message: 'Metric 2: value: expected a finite number, found "abc"',
    });
  });

  it("parseJson() counts a body that is not a push body as one bad line", () => {
    for (const body of ["{", "[]", '{"metrics": 3}', "null", new Uint8Array([0xff, 0xfe])]) {
      const r = run(body);
      assert.equal(r.lines, 1);
      assert.deepEqual(r.bad, ["bad_value"]);
    }
  });

  it("parseJson() reads one-line bodies joined by newlines, and one body printed over several lines", () => {
    const one = (name: string, value: number) =>
      JSON.stringify({ metrics: [{ name, type: "counter", value }] });
    const joined = run(`${one("a", 1)}\n${one("b", 2)}\nnot json\n\n${one("c", 3)}`);
    assert.deepEqual(joined.samples.map((s) => [s.name, s.value]), [["a", 1], ["b", 2], ["c", 3]]);
    assert.deepEqual(joined.bad, ["bad_value"]);
    assert.equal(joined.lines, 4);
    assert.equal(joined.problems[0]?.message, "Body on line 3 is not JSON");
    const pretty = run(JSON.stringify({ metrics: [{ name: "p", type: "gauge", value: 4 }] }, null, 2) + "\n");
    assert.deepEqual(pretty.samples.map((s) => [s.name, s.value]), [["p", 4]]);
  });

  it("parseJson() reads an empty metrics array as nothing at all", () => {
    const r = run({ metrics: [] });
    assert.equal(r.lines, 0);
    assert.equal(r.calls.length, 0);
  });

  it("parseJson() never throws and keeps the line contract on random input", () => {
    const next = prng(7);
    const atoms = ['{"metrics":[', '{"name":"a",', '"type":"counter",', '"value":1', "}", "]", ",", "}"];
    for (let i = 0; i < 500; i++) run(randomInput(next, atoms));
  });
});
