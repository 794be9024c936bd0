import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { wrap } from "./wrap.ts";
import { testIo } from "./_test_io.ts";
import type { TestIo } from "./_test_io.ts";
import type { TrappedSignal } from "./cli_io.ts";

/** The JSON bodies `--dry-run` printed on stderr, in order. */
function printedBodies(err: string): Record<string, unknown>[] {
  return err.split("\n").filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
}

/** Sends `signal` once the command runs and tally traps signals for it. */
async function signalWhenTrapped(t: TestIo, signal: TrappedSignal): Promise<void> {
  while (!t.signal(signal)) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe("wrap()", () => {
  it("wrap() returns the command's exit code and reports the run with --dry-run on stderr", async () => {
    const t = testIo();
    assert.equal(await wrap(["--name", "nightly", "--dry-run", "--", "sh", "-c", "exit 3"], t.io), 3);
    assert.equal(t.out(), "");
    assert.match(t.err(), /^POST http:\/\/127\.0\.0\.1:8127\/api\/v1\/push\n/);
    assert.match(t.err(), /\nPOST http:\/\/127\.0\.0\.1:8127\/api\/v1\/events\n/);
    const [metrics, events] = printedBodies(t.err()) as [
      { metrics: { name: string; value: number; labels: Record<string, string> }[] },
      {
        events: { title: string; text: string; start: number; end: number; labels: Record<string, string> }[];
      },
    ];
    assert.deepEqual(metrics.metrics.map((m) => [m.name, m.labels]), [
      ["wrap_duration_seconds", { name: "nightly" }],
      ["wrap_exit_code", { name: "nightly" }],
    ]);
    assert.equal(metrics.metrics[1]!.value, 3);
    assert.ok(metrics.metrics[0]!.value >= 0);
    const [e] = events.events;
    assert.equal(e!.title, "nightly");
    assert.match(e!.text, /^sh -c 'exit 3' exited with code 3 after [\d.]+ s$/);
    assert.ok(e!.end >= e!.start);
    assert.deepEqual(Object.keys(e!.labels), ["name", "command", "exit_code", "execution_time"]);
    assert.equal(e!.labels["exit_code"], "3");
  });

  it("wrap() names the run after the command's file name by default", async () => {
    const t = testIo();
    assert.equal(await wrap(["--dry-run", "--", "/bin/true"], t.io), 0);
    assert.match(t.err(), /"labels":\{"name":"true"\}/);
  });

  it("wrap() forwards a signal to the command and returns 128 + its number", async () => {
    for (const [signal, code] of [["SIGTERM", 143], ["SIGUSR1", 138], ["SIGINT", 130]] as const) {
      const t = testIo();
      const exit = wrap(["--dry-run", "--", "sleep", "30"], t.io);
      await signalWhenTrapped(t, signal);
      assert.equal(await exit, code, signal);
      assert.match(t.err(), new RegExp(`was ended by ${signal} after`), signal);
      assert.equal(t.signal("SIGTERM"), false, "signals are released once the command ended");
    }
  });

  it("wrap() returns 127 for a command that is not found, and still reports the run", async () => {
    const t = testIo();
    assert.equal(await wrap(["--dry-run", "--", "tally-no-such-command"], t.io), 127);
    assert.match(t.err(), /^tally wrap: cannot run "tally-no-such-command": command not found\n/);
    assert.match(t.err(), /tally-no-such-command could not start: command not found/);
  });

  it("wrap() returns the command's code when the agent is down, with one line on stderr", async () => {
    const t = testIo({ env: { TALLY_URL: "http://127.0.0.1:1" } });
    assert.equal(await wrap(["--wait", "0s", "--", "sh", "-c", "exit 5"], t.io), 5);
    assert.equal(
      t.err(),
      'tally wrap: Cannot send the run of "sh" to http://127.0.0.1:1/api/v1/push: connection refused ' +
        '(is "tally run" running?)\n',
    );
  });

  it("wrap() exits 2 on usage errors before running anything", async () => {
    const cases: [string[], RegExp][] = [
      [
        ["sh"],
        /^tally wrap: Expected "--" before the command: tally wrap \[options\] -- COMMAND \[ARGS\.\.\.\]\n/,
      ],
      [[], /^tally wrap: Expected "--" and a COMMAND\n/],
      [["--name", "x", "--"], /^tally wrap: Expected a COMMAND after --\n/],
      [["--name", "", "--", "true"], /^tally wrap: The --name is empty\n/],
      [["--timeout", "never", "--", "true"], /^tally wrap: Invalid --timeout "never"/],
    ];
    for (const [args, message] of cases) {
      const t = testIo();
      assert.equal(await wrap(args, t.io), 2, args.join(" "));
      assert.match(t.err(), message, args.join(" "));
    }
  });
});
