import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { resolveConfig } from "../../config/resolve.ts";
import { example, schema, scriptId } from "./config.ts";
import { scripts } from "./mod.ts";

/** Resolves a config document with only the scripts input registered, returning the error text. */
function problems(input: Record<string, unknown>): string {
  try {
    resolveConfig({ inputs: { s: { type: "scripts", ...input } } }, { plugins: { scripts } });
  } catch (error) {
    return (error as Error).message;
  }
  return "";
}

describe("scripts config schema", () => {
  it("schema fills the defaults: coscale format, 60 s floor, 5 s limit, 8 at once, 1 MiB / 64 KiB, nobody", () => {
    assert.deepEqual(v.parse(schema, { scripts: [{ command: "/srv/net.sh" }] }), {
      scripts: [{ command: ["/srv/net.sh"], format: "coscale", id: "net" }],
      min_period: 60_000,
      timeout: 5000,
      max_concurrent: 8,
      max_stdout: 1024 * 1024,
      max_stderr: 64 * 1024,
      user: "nobody",
      env: {},
    });
  });

  it("schema parses the example: commands split, durations in ms, sizes in bytes", () => {
    const parsed = v.parse(schema, example);
    assert.deepEqual(parsed.scripts.map((s) => [s.id, s.command, s.format, s.period, s.timeout]), [
      ["lvs-check", ["/etc/tally/scripts/lvs-check.sh"], "coscale", undefined, undefined],
      ["web", ["python3", "/etc/tally/scripts/web_check.py"], "coscale", 300_000, 20_000],
      [
        "load",
        ["/usr/lib/nagios/plugins/check_load", "-w", "5,4,3", "-c", "10,8,6"],
        "nagios",
        60_000,
        undefined,
      ],
    ]);
    assert.deepEqual(parsed.scripts[1]?.env, { TARGET: "https://example.com" });
  });

  it("scriptId() takes the script's file name, looking past interpreters", () => {
    assert.equal(scriptId(["python3", "-u", "/srv/web_check.py", "-v"]), "web_check");
    assert.equal(scriptId(["/home/cs/scripts/bash-script.sh"]), "bash-script");
    assert.equal(scriptId(["bash", "x.sh"]), "x");
    assert.equal(scriptId(["/usr/lib/nagios/plugins/check_disk", "-p", "/"]), "check_disk");
    assert.equal(scriptId(["node"]), "node");
    assert.equal(scriptId(["sh", "-c", "echo M1 1", "sh"]), "sh");
  });

  it("schema refuses a command line that does not split, naming the problem", () => {
    assert.equal(
      problems({ scripts: [{ command: "check.sh 'oops" }] }),
      "Invalid config at inputs.s.scripts[0].command: expected a command line that splits into words " +
        `(Cannot split command line "check.sh 'oops": the single quote at offset 9 is never closed), ` +
        `found "check.sh 'oops"`,
    );
    assert.match(problems({ scripts: [{ command: "a | b" }] }), /"\|" at offset 2 is a shell operator/);
  });

  it("schema refuses two scripts with one id", () => {
    assert.equal(
      problems({ scripts: [{ command: "/a/check.sh" }, { command: "/b/check.py" }] }),
      'Invalid config at inputs.s.scripts[1].id: expected a unique script id (scripts[0] has id "check" too; ' +
        'set id on one of them), found "check"',
    );
  });

  it("schema refuses a period below min_period and a timeout above 60 s", () => {
    assert.match(
      problems({ scripts: [{ command: "/a.sh", period: "10s" }] }),
      /at inputs\.s\.scripts\[0\]\.period: expected a period of at least min_period \("1m"\), found "10s"$/,
    );
    assert.equal(problems({ scripts: [{ command: "/a.sh", period: "10s" }], min_period: "1s" }), "");
    assert.match(
      problems({ scripts: [{ command: "/a.sh" }], timeout: "61s" }),
      /at inputs\.s\.timeout: expected a duration/,
    );
    assert.match(problems({ scripts: [{ command: "/a.sh", timeout: "2m" }] }), /scripts\[0\]\.timeout/);
  });

  it("schema refuses an empty script list, unknown formats and a label named script", () => {
    assert.match(problems({ scripts: [] }), /at inputs\.s\.scripts: expected at least one script/);
    assert.match(problems({ scripts: [{ command: "/a.sh", format: "json" }] }), /one of "coscale", "nagios"/);
    assert.match(
      problems({ scripts: [{ command: "/a.sh", labels: { script: "x" } }] }),
      /a label name other than "script"/,
    );
    assert.match(problems({ scripts: [{ command: "/a.sh", envv: {} }] }), /scripts\[0\]/);
  });
});
