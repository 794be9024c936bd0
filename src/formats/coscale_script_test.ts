import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { parseCoscaleScript } from "./coscale_script.ts";
import { parseCoscaleDefinitions } from "./coscale_definitions.ts";
import type { CoscaleDefinitions } from "./coscale_definitions.ts";
import { encodeScriptFrame } from "./script_frame.ts";
import type { ScriptFrameHeader } from "./script_frame.ts";
import { assertGolden, goldenCases, prng, randomInput, record } from "./_recording_sink.ts";
import type { Call, Recorded } from "./_recording_sink.ts";

const RUN_MS = 1_700_000_000_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const dir = fileURLToPath(new URL("./testdata/coscale/", import.meta.url).href);

/** Parses `-c` text into definitions, failing the test when they are not usable. */
function definitionsOf(config: string): CoscaleDefinitions {
  const result = parseCoscaleDefinitions(config);
  assert.ok(result.ok, `definitions must parse: ${JSON.stringify(result)}`);
  return result.definitions;
}

/** Frames `-d` output with definitions and parses it. */
function run(
  definitions: CoscaleDefinitions,
  data: string | Uint8Array,
  extra: Partial<ScriptFrameHeader> = {},
): Recorded {
  const stdout = typeof data === "string" ? encoder.encode(data) : data;
  const frame = encodeScriptFrame(
    { script: "test", runMs: RUN_MS, exitCode: 0, definitions, ...extra },
    stdout,
  );
  return record(parseCoscaleScript, frame);
}

const BASIC = definitionsOf(JSON.stringify({
  metrics: [
    { id: 1, name: "Load", datatype: "DOUBLE", calctype: "Instant" },
    {
      id: 2,
      name: "Traffic",
      unit: "b/s",
      groups: "Net",
      datatype: "DOUBLE",
      calctype: "Instant",
      dimensions: [{ id: 1, name: "Interface" }, { id: 2, name: "Direction" }],
    },
  ],
  events: [{ id: 1, name: "Restart", attributeDescriptions: [] }],
}));

describe("parseCoscaleScript() golden files", () => {
  const cases = goldenCases(dir, ".c.txt");

  it("parseCoscaleScript() has a golden case for every quirk of CoScale's example scripts", () => {
    for (
      const name of [
        "bash_example",
        "python_example",
        "php_example",
        "node_example",
        "powershell_example",
        "docker_running_ps1",
        "lvs_check",
        "systemd",
        "web_threads",
        "dropwizard",
        "restart_sh",
        "kidk_generic",
        "events",
        "malformed",
        "empty",
        "kinds",
      ]
    ) {
      assert.ok(cases.includes(name), `missing ${name}.c.txt`);
    }
  });

  for (const name of cases) {
    it(`parseCoscaleScript() matches ${name}.expected.json`, () => {
      const config = decoder.decode(readFileSync(join(dir, `${name}.c.txt`)));
      const data = new Uint8Array(readFileSync(join(dir, `${name}.d.txt`)));
      const result = parseCoscaleDefinitions(config);
      assert.ok(result.ok, `${name}: ${JSON.stringify(result)}`);
      const frame = encodeScriptFrame({
        script: name,
        runMs: RUN_MS,
        exitCode: 0,
        definitions: result.definitions,
      }, data);
      const got = record(parseCoscaleScript, frame);
      const actual = {
        definitions: result.definitions,
        warnings: result.warnings,
        lines: got.lines,
        problems: got.problems,
        calls: got.calls,
      };
      assertGolden(dir, name, actual);
    });
  }
});

describe("parseCoscaleScript() metric lines", () => {
  it("parseCoscaleScript() reads the three metric forms", () => {
    const r = run(BASIC, 'M1 0.5\nM2 "1:eth0,2:in" 1200\nM1 "" 7\n');
    assert.equal(r.lines, 3);
    assert.deepEqual(r.bad, []);
    assert.deepEqual(r.samples.map((s) => [s.name, s.labels, s.kind, s.value, s.timeMs]), [
      ["load", [["script", "test"]], "gauge", 0.5, RUN_MS],
      [
        "traffic_bytes_per_second",
        [["direction", "in"], ["group", "Net"], ["interface", "eth0"], ["script", "test"]],
        "gauge",
        1200,
        RUN_MS,
      ],
      ["load", [["script", "test"]], "gauge", 7, RUN_MS],
    ]);
    assert.equal(r.samples[0]!.key, r.samples[2]!.key, 'M1 and M1 "" are the same series');
  });

  it("parseCoscaleScript() splits each pair on the first ':' and keeps spaces inside the quotes", () => {
    const r = run(BASIC, 'M2 "1:a:b:c,2:data center 1" 1\n');
    assert.deepEqual(r.samples[0]!.labels.filter(([n]) => n !== "script" && n !== "group"), [
      ["direction", "data center 1"],
      ["interface", "a:b:c"],
    ]);
  });

  it("parseCoscaleScript() accepts the value shapes scripts print", () => {
    const values = [
      "-1",
      "09",
      "107374182400",
      "12.45",
      "1.2e-7",
      "5.551115123125783e-17",
      "+3",
      ".5",
      "5.",
      "-0",
    ];
    const r = run(BASIC, values.map((v) => `M1 ${v}`).join("\n"));
    assert.deepEqual(r.bad, []);
    // "-0" reads as 0: negative zero would survive nowhere else (JSON, the store) anyway.
    assert.deepEqual(r.samples.map((s) => s.value), values.map((v) => Number(v) + 0));
  });

  it("parseCoscaleScript() rejects empty and non-numeric values, one line each", () => {
    const cases: Array<[string, string]> = [
      ["M1 ", "no_value"],
      ["M1", "no_value"],
      ['M2 "1:eth0"', "no_value"],
      ["M1 abc", "bad_value"],
      ["M1 NaN", "bad_value"],
      ["M1 Infinity", "bad_value"],
      ["M1 1e999", "bad_value"],
      ["M1 1,5", "bad_value"],
      ["M1 5 6", "bad_value"],
      ["M1 0x10", "bad_value"],
    ];
    for (const [line, reason] of cases) {
      const r = run(BASIC, `${line}\nM1 1`);
      assert.deepEqual(r.bad, [reason], line);
      assert.equal(r.samples.length, 1, `${line}: the neighbour is kept`);
      assert.equal(r.problems[0]!.line, 1);
    }
  });

  it("parseCoscaleScript() rejects unknown ids, stray lines and bad dimensions with their reasons", () => {
    const cases: Array<[string, string]> = [
      // A garbage line and an undefined id no longer share a reason (issue 12).
      ["M3 1", "unknown_id"],
      ["Mail server ready", "stray_line"],
      ["SSH-2.0-OpenSSH_8.9", "stray_line"],
      ["M 1", "stray_line"],
      ['M2 "3:x" 1', "unknown_id"],
      ['M2 "eth0" 1', "bad_tags"],
      ['M2 "1:eth0 1', "bad_tags"],
      ['M1 "1:x" 1', "unknown_id"],
    ];
    for (const [line, reason] of cases) {
      const r = run(BASIC, `M1 1\n${line}\nM1 2`);
      assert.deepEqual(r.bad, [reason], line);
      assert.deepEqual(r.samples.map((s) => s.value), [1, 2], `${line}: neighbours kept`);
      assert.equal(r.problems[0]!.line, 2);
    }
  });

  it("parseCoscaleScript() says which ids exist when one is unknown", () => {
    const r = run(BASIC, "M7 1");
    assert.equal(r.problems[0]!.message, "Metric id 7 is not defined (defined: 1, 2)");
  });

  it("parseCoscaleScript() handles CRLF, a BOM, blank lines and surrounding blanks", () => {
    const bytes = new Uint8Array([
      0xef,
      0xbb,
      0xbf,
      ...encoder.encode("M1 1\r\n\r\n   \r\n\t M1 2 \t\r\nM1 3"),
    ]);
    const r = run(BASIC, bytes);
    assert.equal(r.lines, 3);
    assert.deepEqual(r.samples.map((s) => s.value), [1, 2, 3]);
  });

  it("parseCoscaleScript() maps calctype and datatype to kinds", () => {
    const defs = definitionsOf(JSON.stringify({
      metrics: [
        { id: 1, name: "a", datatype: "DOUBLE", calctype: "Instant" },
        { id: 2, name: "b", datatype: "DOUBLE", calctype: "Difference" },
        { id: 3, name: "c", datatype: "COUNTER", calctype: "Instant" },
        { id: 4, name: "d", datatype: "COUNT", calctype: "Instant" },
        { id: 5, name: "e", datatype: "COUNT", calctype: "Difference" },
        { id: 6, name: "f", datatype: "LONG", calctype: "Average" },
      ],
    }));
    const r = run(defs, "M1 1\nM2 1\nM3 1\nM4 1\nM5 1\nM6 1");
    assert.deepEqual(r.samples.map((s) => s.kind), [
      "gauge",
      "cumulative",
      "cumulative",
      "counter",
      "cumulative",
      "gauge",
    ]);
  });

  it("parseCoscaleScript() gives repeated names a coscale_id label and keeps distinct units apart", () => {
    const defs = definitionsOf(JSON.stringify({
      metrics: [
        { id: 1, name: "Server time", unit: "hours" },
        { id: 2, name: "Server time", unit: "minutes" },
        { id: 3, name: "Uptime", unit: "%" },
        { id: 4, name: "Uptime", unit: "%" },
      ],
    }));
    const r = run(defs, "M1 1\nM2 2\nM3 3\nM4 4");
    assert.deepEqual(r.samples.map((s) => [s.name, s.labels]), [
      ["server_time_hours", [["script", "test"]]],
      ["server_time_minutes", [["script", "test"]]],
      ["uptime_percent", [["coscale_id", "3"], ["script", "test"]]],
      ["uptime_percent", [["coscale_id", "4"], ["script", "test"]]],
    ]);
    assert.equal(new Set(r.samples.map((s) => s.key)).size, 4);
  });

  it("parseCoscaleScript() adds the configured labels, which override the script's", () => {
    const r = run(BASIC, 'M2 "1:eth0" 1', { labels: { env: "prod", interface: "forced" } });
    assert.deepEqual(r.samples[0]!.labels, [
      ["dimension_interface", "eth0"],
      ["env", "prod"],
      ["group", "Net"],
      ["interface", "forced"],
      ["script", "test"],
    ]);
  });

  it("parseCoscaleScript() keeps the lines of a run that exited non-zero or was killed", () => {
    for (const extra of [{ exitCode: 1 }, { timedOut: true }]) {
      const r = run(BASIC, "M1 1\nM1 2\nTraceback (most recent call last):", extra);
      assert.deepEqual(r.samples.map((s) => s.value), [1, 2]);
      assert.deepEqual(r.bad, ["stray_line"]);
    }
  });

  it("parseCoscaleScript() counts one bad line for a frame without a usable header", () => {
    for (
      const bytes of [
        encoder.encode("M1 1\nM1 2"),
        encoder.encode('{"script":"x"\nM1 1'),
        encoder.encode('{"script":"x","runMs":"soon"}\nM1 1'),
        encodeScriptFrame({ script: "x", runMs: RUN_MS }, encoder.encode("M1 1")),
        new Uint8Array(0),
      ]
    ) {
      const r = record(parseCoscaleScript, bytes);
      assert.equal(r.lines, 1);
      assert.deepEqual(r.bad, ["bad_frame"]);
      assert.equal(r.samples.length, 0);
    }
  });
});

describe("parseCoscaleScript() event lines", () => {
  it("parseCoscaleScript() resolves relative and absolute times against the run start", () => {
    const r = run(
      BASIC,
      'E1 -300 0 "Restarted" "{}" S\nE1 1458345600 1458349200 "Old" "{}" S\nE1 0 0 "Now" "{ }"',
    );
    assert.deepEqual(r.bad, []);
    assert.deepEqual(r.events.map((e) => [e.text, e.timeMs, e.endMs, e.labels]), [
      ["Restarted", RUN_MS - 300_000, RUN_MS, [["scope", "server"], ["script", "test"]]],
      ["Old", 1458345600_000, 1458349200_000, [["scope", "server"], ["script", "test"]]],
      ["Now", RUN_MS, undefined, [["scope", "server"], ["script", "test"]]],
    ]);
    assert.ok(r.events.every((e) => e.kind === "event" && e.title === "Restart" && e.status === -1));
  });

  it("parseCoscaleScript() reads unescaped JSON attributes and the scope suffix", () => {
    const r = run(BASIC, 'E1 0 0 "Job "nightly" failed" "{"Exit code":137,"host":"db 1"}" A');
    assert.deepEqual(r.bad, []);
    assert.equal(r.events[0]!.text, 'Job "nightly" failed');
    assert.deepEqual(r.events[0]!.labels, [
      ["Exit code", "137"],
      ["host", "db 1"],
      ["scope", "application"],
      ["script", "test"],
    ]);
  });

  it("parseCoscaleScript() prefixes attributes that clash with its own labels", () => {
    const r = run(BASIC, 'E1 0 0 "x" "{"scope":"mine","script":"other"}" S');
    assert.deepEqual(r.events[0]!.labels, [
      ["attribute_scope", "mine"],
      ["attribute_script", "other"],
      ["scope", "server"],
      ["script", "test"],
    ]);
  });

  it("parseCoscaleScript() rejects malformed event lines with bad_event and unknown ids with unknown_id", () => {
    const cases: Array<[string, string]> = [
      ['E1 0 0 "x" "{"a":}" S', "bad_event"],
      ['E1 0 0 "x" "{1}" S', "bad_event"],
      ['E1 now 0 "x" "{}" S', "bad_event"],
      ["E1 0 0 x", "bad_event"],
      ["E1 0 0", "bad_event"],
      ["E1", "bad_event"],
      ['E1 0 0 "x" "{}" Q', "bad_event"],
      ['E9 0 0 "x" "{}" S', "unknown_id"],
    ];
    for (const [line, reason] of cases) {
      const r = run(BASIC, `${line}\nE1 0 0 "ok" "{}" S`);
      assert.deepEqual(r.bad, [reason], line);
      assert.deepEqual(r.events.map((e) => e.text), ["ok"], `${line}: the neighbour is kept`);
    }
  });
});

describe("parseCoscaleScript() robustness", () => {
  const atoms = [
    "M",
    "E",
    "1",
    "2",
    "3",
    " ",
    "  ",
    '"',
    "1:",
    "2:",
    ",",
    ":",
    "-",
    "0",
    ".5",
    "e3",
    "-300",
    "{",
    "}",
    '"{"a":1}"',
    '"{ }"',
    " S",
    " A",
    "\n",
    "\r\n",
    "\t",
    "é",
    "x",
    "NaN",
    "\u{1F600}",
  ];

  it("parseCoscaleScript() never throws on random input and keeps the line contract", () => {
    const next = prng(7);
    for (let iteration = 0; iteration < 1500; iteration++) {
      const bytes = randomInput(next, atoms);
      const whole = run(BASIC, bytes);
      // Parsing line by line gives the same calls: a line never affects its neighbours.
      const separate: Call[] = [];
      let lines = 0;
      let start = 0;
      for (let i = 0; i <= bytes.length; i++) {
        if (i === bytes.length || bytes[i] === 0x0a) {
          const line = bytes.subarray(start, i);
          const r = run(BASIC, new Uint8Array([0x0a, ...line]));
          lines += r.lines;
          assert.ok(r.lines <= 1);
          if (r.lines === 1) {
            assert.equal(r.bad.length + r.samples.length + r.events.length, 1, "one outcome per line");
          }
          separate.push(...r.calls);
          start = i + 1;
        }
      }
      assert.equal(whole.lines, lines);
      assert.deepEqual(whole.calls, separate);
    }
  });

  it("parseCoscaleScript() survives every truncation of valid lines", () => {
    const samples = ['M2 "1:eth0,2:in" 1200', "M1 -1.5e3", 'E1 -300 0 "msg "q"" "{"Exit code":1}" S'];
    for (const line of samples) {
      for (let cut = 0; cut <= line.length; cut++) {
        const r = run(BASIC, `${line.slice(0, cut)}\nM1 42`);
        assert.equal(r.samples.at(-1)?.value, 42, `neighbour kept after cut ${cut} of "${line}"`);
      }
    }
  });
});
