import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { parseNagios } from "./nagios.ts";
import { encodeScriptFrame } from "./script_frame.ts";
import type { ScriptFrameHeader } from "./script_frame.ts";
import { assertGolden, goldenCases, prng, randomInput, record } from "./_recording_sink.ts";
import type { Recorded } from "./_recording_sink.ts";

const RUN_MS = 1_700_000_000_000;
const encoder = new TextEncoder();
const dir = fileURLToPath(new URL("./testdata/nagios/", import.meta.url).href);

/** How each golden case ran: its exit code, or a kill. */
const RUNS: Readonly<Record<string, Partial<ScriptFrameHeader>>> = {
  check_ping: { exitCode: 0 },
  check_disk: { exitCode: 0 },
  check_load: { exitCode: 0 },
  check_http: { exitCode: 0 },
  long_output: { exitCode: 1 },
  check_procs: { exitCode: 2 },
  malformed: { exitCode: 3 },
  not_found: { exitCode: 127 },
  timed_out: { timedOut: true },
  units_crlf: { exitCode: 0 },
};

function run(stdout: string | Uint8Array, extra: Partial<ScriptFrameHeader> = { exitCode: 0 }): Recorded {
  const bytes = typeof stdout === "string" ? encoder.encode(stdout) : stdout;
  return record(parseNagios, encodeScriptFrame({ script: "check", runMs: RUN_MS, ...extra }, bytes));
}

/** The perfdata samples as [name, label, value] (script label left out). */
function perf(r: Recorded): Array<[string, string, number]> {
  return r.samples.filter((s) => s.name !== "nagios_status").map((s) => [
    s.name,
    s.labels.find(([n]) => n === "label")?.[1] ?? "",
    s.value,
  ]);
}

describe("parseNagios() golden files", () => {
  const cases = goldenCases(dir, ".txt");

  it("parseNagios() has a run description for every golden case", () => {
    assert.deepEqual(cases, Object.keys(RUNS).sort());
  });

  for (const name of cases) {
    it(`parseNagios() matches ${name}.expected.json`, () => {
      const stdout = new Uint8Array(readFileSync(join(dir, `${name}.txt`)));
      const got = run(stdout, RUNS[name]!);
      const actual = { lines: got.lines, problems: got.problems, calls: got.calls };
      assertGolden(dir, name, actual);
    });
  }
});

describe("parseNagios()", () => {
  it("parseNagios() turns the exit code into the status and the service-check event", () => {
    const cases: Array<[Partial<ScriptFrameHeader>, number]> = [
      [{ exitCode: 0 }, 0],
      [{ exitCode: 1 }, 1],
      [{ exitCode: 2 }, 2],
      [{ exitCode: 3 }, 3],
      [{ exitCode: 4 }, 3],
      [{ exitCode: 127 }, 3],
      [{ exitCode: -1 }, 3],
      [{}, 3],
      [{ exitCode: 0, timedOut: true }, 3],
    ];
    for (const [extra, state] of cases) {
      const r = run("CHECK - text", extra);
      assert.equal(r.samples[0]!.name, "nagios_status");
      assert.equal(r.samples[0]!.value, state, JSON.stringify(extra));
      assert.deepEqual(r.samples[0]!.labels, [["script", "check"]]);
      assert.equal(r.events[0]!.kind, "service_check");
      assert.equal(r.events[0]!.status, state);
      assert.equal(r.events[0]!.title, "check");
      assert.equal(r.events[0]!.timeMs, RUN_MS);
    }
  });

  it("parseNagios() converts times to seconds and sizes to bytes", () => {
    const r = run("OK | a=1500ms b=2s c=250us d=1KB e=2MB f=1GB g=5B h=1TB i=3ns");
    assert.deepEqual(perf(r), [
      ["nagios_perfdata_seconds", "a", 1.5],
      ["nagios_perfdata_seconds", "b", 2],
      ["nagios_perfdata_seconds", "c", 0.00025],
      ["nagios_perfdata_bytes", "d", 1024],
      ["nagios_perfdata_bytes", "e", 2 * 1024 * 1024],
      ["nagios_perfdata_bytes", "f", 1024 ** 3],
      ["nagios_perfdata_bytes", "g", 5],
      ["nagios_perfdata_bytes", "h", 1024 ** 4],
      ["nagios_perfdata_seconds", "i", 3e-9],
    ]);
  });

  it("parseNagios() keeps percentages and plain numbers, and makes c a cumulative counter", () => {
    const r = run("OK | p=42.5% n=7 c=1234c x=3dBm");
    assert.deepEqual(perf(r), [
      ["nagios_perfdata_percent", "p", 42.5],
      ["nagios_perfdata", "n", 7],
      ["nagios_perfdata", "c", 1234],
      ["nagios_perfdata_dbm", "x", 3],
    ]);
    assert.deepEqual(r.samples.slice(1).map((s) => s.kind), ["gauge", "gauge", "cumulative", "gauge"]);
  });

  it("parseNagios() exports plain-number thresholds, min and max, converted like the value", () => {
    const r = run("OK | rta=0.8ms;100;500;0;1000");
    assert.deepEqual(perf(r), [
      ["nagios_perfdata_seconds", "rta", 0.0008],
      ["nagios_perfdata_warning_seconds", "rta", 0.1],
      ["nagios_perfdata_critical_seconds", "rta", 0.5],
      ["nagios_perfdata_min_seconds", "rta", 0],
      ["nagios_perfdata_max_seconds", "rta", 1],
    ]);
    const ranges = run("OK | procs=3;1:;~:10;;");
    assert.deepEqual(perf(ranges), [["nagios_perfdata", "procs", 3]]);
  });

  it("parseNagios() reads quoted labels with blanks, '=' and doubled quotes", () => {
    const r = run("OK | 'disk C:\\ used'=5GB 'a=b'=1 'it''s'=2");
    assert.deepEqual(perf(r).map(([, label]) => label), ["disk C:\\ used", "a=b", "it's"]);
  });

  it("parseNagios() reads perfdata after a '|' in long output and on every following line", () => {
    const r = run("OK - first | a=1\nlong 1\nlong 2 | b=2\nc=3 d=4\n");
    assert.deepEqual(perf(r).map(([, label, value]) => [label, value]), [["a", 1], ["b", 2], ["c", 3], [
      "d",
      4,
    ]]);
    assert.equal(r.events[0]!.text, "OK - first\nlong 1\nlong 2");
    assert.equal(r.lines, 5);
  });

  it("parseNagios() rejects bad perfdata items one by one and keeps the rest", () => {
    const r = run("OK | a=U b= c=abc =5 ok=1 g 'x'y=2");
    assert.deepEqual(r.bad, [
      "no_value",
      "no_value",
      "bad_value",
      "empty_name",
      "malformed_part",
      "malformed_part",
    ]);
    assert.deepEqual(perf(r), [["nagios_perfdata", "ok", 1]]);
    assert.equal(r.lines, 8);
    assert.ok(r.problems.every((p) => p.line === 1));
  });

  it("parseNagios() still reports the status for empty output and for a frame without perfdata", () => {
    const empty = run("", { exitCode: 2 });
    assert.equal(empty.lines, 1);
    assert.deepEqual(empty.samples.map((s) => [s.name, s.value]), [["nagios_status", 2]]);
    assert.equal(empty.events[0]!.text, "");
  });

  it("parseNagios() adds the configured labels to every sample", () => {
    const r = run("OK | a=1", { exitCode: 0, labels: { env: "prod" } });
    assert.deepEqual(r.samples.map((s) => s.labels), [
      [["env", "prod"], ["script", "check"]],
      [["env", "prod"], ["label", "a"], ["script", "check"]],
    ]);
  });

  it("parseNagios() counts one bad record for a frame without a valid header", () => {
    const r = record(parseNagios, encoder.encode("OK | a=1"));
    assert.equal(r.lines, 1);
    assert.deepEqual(r.bad, ["bad_frame"]);
    assert.equal(r.samples.length + r.events.length, 0);
  });

  it("parseNagios() never throws on random input and always reports the status", () => {
    const next = prng(99);
    const atoms = [
      "OK",
      " ",
      "|",
      "=",
      "'",
      "''",
      ";",
      "1",
      "-2.5",
      "ms",
      "%",
      "KB",
      "c",
      "U",
      "a",
      "\n",
      "\r\n",
      "~:",
      "@",
      "é",
      "e5",
    ];
    for (let iteration = 0; iteration < 1500; iteration++) {
      const r = run(randomInput(next, atoms));
      assert.equal(r.samples[0]!.name, "nagios_status");
      assert.equal(r.events.length, 1);
      assert.ok(r.lines >= 1 + r.bad.length);
    }
  });
});
