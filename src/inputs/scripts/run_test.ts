import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { collectingContext } from "../../../tests/harness/collecting_context.ts";
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { waitFor } from "../../../tests/harness/wait_for.ts";
import { record } from "../../formats/_recording_sink.ts";
import { parseCoscaleScript } from "../../formats/coscale_script.ts";
import { readScriptFrameHeader } from "../../formats/script_frame.ts";
import type { ScriptFrameHeader } from "../../formats/script_frame.ts";
import { FORMAT_IDS } from "../../model/frame.ts";
import type { FormatId } from "../../model/frame.ts";
import { detectRuntime } from "../../runtime/detect.ts";
import type { InputContext } from "../input.ts";
import { schema } from "./config.ts";
import { PIPE_HELD_MESSAGE, ScriptsInput } from "./run.ts";
import { DEFAULT_PATH } from "./sandbox.ts";
import { isRunning, runningInGroupOrSession, testdata } from "./_test_processes.ts";

const decoder = new TextDecoder();
const isRoot = process.getuid?.() === 0;

/** A world-writable temp dir: scripts run as nobody when the tests run as root. */
const dir = mkdtempSync(join(tmpdir(), "tally-scripts-"));
chmodSync(dir, 0o777);
after(() => rmSync(dir, { recursive: true, force: true }));

interface Emitted {
  readonly format: FormatId;
  readonly header: ScriptFrameHeader;
  readonly body: string;
  readonly bytes: Uint8Array;
}

/** An InputContext recording every frame (copied: emit's bytes are only valid during the call). */
function fakeContext() {
  const { ctx, frames, logs, abort, selfMetric: metric } = collectingContext(
    { type: "scripts", id: "test" },
    {
      runtime: detectRuntime(),
      record(bytes, format): Emitted {
        const copy = new Uint8Array(bytes);
        const frame = readScriptFrameHeader(copy);
        assert.ok(frame !== undefined, "every frame starts with a valid header");
        return { format, header: frame.header, body: decoder.decode(frame.body), bytes: copy };
      },
    },
  );
  function framesOf(script: string): Emitted[] {
    return frames.filter((f) => f.header.script === script);
  }
  return { ctx, frames, framesOf, logs, metric, abort };
}

function config(input: v.InferInput<typeof schema>) {
  return v.parse(schema, { min_period: "100ms", ...input });
}

/** Starts an input, runs `body`, and always stops it; then nothing of it may still run. */
async function withInput(
  input: ScriptsInput,
  ctx: InputContext,
  body: () => Promise<void>,
): Promise<void> {
  await input.start(ctx);
  try {
    await body();
  } finally {
    await input.stop();
  }
}

describe("ScriptsInput", () => {
  it("ScriptsInput runs the CoScale example scripts and their frames parse as the protocol says", async () => {
    const names = [
      "bash_example.sh",
      "python_example.py",
      "node_example.js",
      "crlf_difference.sh",
      "id_mismatch.sh",
      "restart_events.sh",
      "no_output.sh",
      "lvs_check.sh",
      "systemd_like.sh",
    ];
    const f = fakeContext();
    const input = new ScriptsInput(
      config({ scripts: names.map((name) => ({ command: testdata(name) })), max_concurrent: 4 }),
      "test",
    );
    await withInput(input, f.ctx, async () => {
      await waitFor(
        () =>
          names.every((name) =>
            f.metric("tally_script_exits_total", { script: stem(name), mode: "data" }) > 0
          ),
        { what: "one data run of every script", timeoutMs: 15_000 },
      );
    });
    const parsed = (name: string) => {
      // The first run's frame (a second one may follow when a period's slot came up meanwhile).
      const frames = f.framesOf(stem(name));
      assert.ok(frames.length > 0, name);
      assert.equal(frames[0]!.format, FORMAT_IDS.coscale_script);
      return record(parseCoscaleScript, frames[0]!.bytes);
    };
    const values = (name: string) => parsed(name).samples.map((s) => [s.name, s.value]);

    // Single-line JSON; the failed ping prints "M1 " (dropped), M2 kept.
    const bash = parsed("bash_example.sh");
    assert.deepEqual(bash.samples.map((s) => [s.name, s.value]), [["port_open", 0]]);
    assert.deepEqual(bash.bad, ["no_value"]);
    // Pretty-printed JSON, leading zeros, negative values, any order; the scripts' periods apply.
    assert.deepEqual(values("python_example.py").sort(), [
      ["certificate_days_left", -1],
      ["server_time_hours", 9],
      ["server_time_minutes", 7],
    ]);
    assert.equal(input.scripts().find((s) => s.id === "python_example")?.periodMs, 3_600_000);
    assert.equal(input.scripts().find((s) => s.id === "bash_example")?.periodMs, 60_000);
    // JSON.stringify config; long floats and exponent form.
    assert.deepEqual(values("node_example.js"), [["random", 0.7134250217139325], ["tiny", 1.2e-7]]);
    // CRLF everywhere; Difference per dimension tuple; '/' and spaces in dimension values.
    const crlf = parsed("crlf_difference.sh");
    assert.deepEqual(crlf.bad, []);
    assert.deepEqual(
      crlf.samples.map((s) => [s.kind, s.labels.find(([k]) => k === "image_name")?.[1], s.value]),
      [["cumulative", "microsoft/dotnet-samples", 7], ["cumulative", "data center 1", 3]],
    );
    // Ids 0-2 defined, M1-M3 printed: M3 is skipped, the rest kept.
    const mismatch = parsed("id_mismatch.sh");
    assert.deepEqual(mismatch.samples.map((s) => [s.name, s.value]), [["b", 1], ["c", 2]]);
    assert.deepEqual(mismatch.problems.map((p) => [p.line, p.reason]), [[3, "unknown_id"]]);
    // Events only: "{ }", unescaped JSON attributes, relative and absolute times, S/A.
    const events = parsed("restart_events.sh");
    assert.deepEqual(events.bad, []);
    assert.deepEqual(events.events.map((e) => e.text), ["Apache restarted", "The event triggered", "Deploy"]);
    const runMs = f.framesOf("restart_events")[0]!.header.runMs;
    assert.deepEqual(events.events.map((e) => e.timeMs), [runMs, runMs - 300_000, 1_458_345_600_000]);
    // No output at all: a run, no frame.
    assert.equal(f.framesOf("no_output").length, 0);
    assert.ok(f.metric("tally_script_exits_total", { script: "no_output", mode: "data", code: "0" }) >= 1);
    // Two dimensions, byte-sized integers.
    assert.deepEqual(values("lvs_check.sh"), [["thin_pool_size_bytes", 107374182400], [
      "thin_pool_data_percent",
      12.45,
    ]]);
    // A stray banner line is skipped; '@' and '.' in dimension values; `""` dimension list.
    const systemd = parsed("systemd_like.sh");
    assert.equal(systemd.samples.length, 4);
    assert.deepEqual(systemd.problems.map((p) => [p.line, p.reason]), [[1, "stray_line"]]);
    assert.ok(
      systemd.samples.some((s) =>
        s.labels.some(([k, value]) => k === "service" && value === "getty@.service")
      ),
    );
    // Every frame carries the run's identity.
    for (const frame of f.frames) {
      assert.equal(frame.header.exitCode, 0);
      assert.ok(frame.header.definitions !== undefined);
    }
  });

  it("ScriptsInput keeps the lines of a run that exits non-zero and logs its stderr", async () => {
    const f = fakeContext();
    const input = new ScriptsInput(
      config({ scripts: [{ command: `python3 ${testdata("crash_after_output.py")}` }] }),
      "test",
    );
    await withInput(input, f.ctx, async () => {
      await waitFor(() => f.frames.length > 0, { what: "a frame" });
    });
    const [frame] = f.frames;
    assert.equal(frame!.header.script, "crash_after_output");
    assert.equal(frame!.header.exitCode, 1);
    assert.equal(frame!.header.timedOut, undefined);
    const parsed = record(parseCoscaleScript, frame!.bytes);
    assert.deepEqual(parsed.samples.map((s) => s.labels.find(([k]) => k === "healthcheck")?.[1]), [
      "database",
      "deadlocks",
    ]);
    assert.equal(
      f.metric("tally_script_exits_total", { script: "crash_after_output", mode: "data", code: "1" }),
      1,
    );
    assert.ok(f.logs.some((l) => l.includes("Script exited with an error")));
    assert.ok(f.logs.some((l) => l.includes("Script wrote to stderr") && l.includes("TypeError")));
  });

  it("ScriptsInput kills a script hanging in -c at the 1 s limit and runs no data without definitions", async () => {
    const f = fakeContext();
    const pidFile = join(dir, "hang.pids");
    const input = new ScriptsInput(
      config({ scripts: [{ command: testdata("hang_config.sh"), env: { PIDFILE: pidFile } }] }),
      "test",
    );
    await withInput(input, f.ctx, async () => {
      await waitFor(() => f.metric("tally_script_config_errors_total", { script: "hang_config" }) > 0, {
        what: "the config run to fail",
      });
    });
    assert.equal(f.metric("tally_script_timeouts_total", { script: "hang_config", mode: "config" }), 1);
    assert.equal(
      f.metric("tally_script_exits_total", { script: "hang_config", mode: "config", code: "SIGKILL" }),
      1,
    );
    assert.equal(
      f.metric("tally_script_skipped_runs_total", { script: "hang_config", reason: "no_definitions" }),
      1,
    );
    assert.equal(f.metric("tally_script_runs_total", { script: "hang_config", mode: "data" }), 0);
    assert.equal(f.frames.length, 0);
    const [pid, child] = readFileSync(pidFile, "utf8").trim().split(" ").map(Number);
    assert.ok(pid! > 0 && child! > 0);
    assert.deepEqual(runningInGroupOrSession(pid!), []);
    assert.ok(f.logs.some((l) => l.includes("did not finish within 1000 ms")));
  });

  it("ScriptsInput runs scripts in a clean environment, in their directory, with stdin closed", async () => {
    const f = fakeContext();
    const input = new ScriptsInput(
      config({
        scripts: [{ command: testdata("env_probe.js"), format: "prometheus", env: { A: "1" }, cwd: dir }],
        env: { B: "2", A: "overridden" },
      }),
      "test",
    );
    await withInput(input, f.ctx, async () => {
      await waitFor(() => f.frames.length > 0, { what: "a frame" });
    });
    const [frame] = f.frames;
    assert.equal(frame!.format, FORMAT_IDS.prom_text);
    const seen = JSON.parse(frame!.body);
    // No mode flag for non-CoScale formats: the command runs as written.
    assert.deepEqual(seen.args, []);
    const { TALLY_RUN: _run, ...env } = seen.env;
    assert.deepEqual(env, { A: "1", B: "2", PATH: DEFAULT_PATH });
    assert.equal(seen.cwd, dir);
    assert.equal(seen.stdin, "eof");
    if (isRoot) assert.equal(seen.uid, 65534);
  });

  it("ScriptsInput skips and counts a run that is due while the previous one still runs", async () => {
    const f = fakeContext();
    const marks = join(dir, "overlap.marks");
    const input = new ScriptsInput(
      config({
        scripts: [{
          command: `${testdata("slow.sh")} 0.6 ${marks}`,
          format: "prometheus",
          period: "100ms",
          timeout: "2s",
        }],
      }),
      "test",
    );
    await withInput(input, f.ctx, async () => {
      await waitFor(
        () => f.metric("tally_script_skipped_runs_total", { reason: "overlap" }) > 0 && f.frames.length > 0,
        {
          what: "a skipped run and a frame",
        },
      );
    });
    assertNeverOverlapping(readFileSync(marks, "utf8"));
    assert.equal(f.metric("tally_script_timeouts_total", { script: "slow", mode: "data" }), 0);
  });

  it("ScriptsInput never runs more than max_concurrent scripts at once", async () => {
    const f = fakeContext();
    const marks = join(dir, "concurrency.marks");
    const slow = (id: string) => ({
      command: `${testdata("slow.sh")} 0.3 ${marks}`,
      id,
      format: "prometheus" as const,
      period: "100ms",
      timeout: "2s",
    });
    const input = new ScriptsInput(
      config({ scripts: [slow("one"), slow("two"), slow("three")], max_concurrent: 1 }),
      "test",
    );
    await withInput(input, f.ctx, async () => {
      await waitFor(() =>
        new Set(f.frames.map((frame) => frame.header.script)).size === 3 &&
        f.metric("tally_script_skipped_runs_total", { reason: "concurrency" }) > 0, {
        what: "a frame from each script and a skipped run",
      });
    });
    assertNeverOverlapping(readFileSync(marks, "utf8"));
  });

  it("ScriptsInput re-reads -c when the script changes and keeps the last good definitions on failure", async () => {
    const f = fakeContext();
    const script = join(dir, "changing.sh");
    copyFileSync(testdata("changing.sh"), script);
    chmodSync(script, 0o755);
    const input = new ScriptsInput(config({ scripts: [{ command: script, period: "100ms" }] }), "test");
    const names = () => f.frames.map((frame) => frame.header.definitions?.metrics[0]?.name);
    await withInput(input, f.ctx, async () => {
      await waitFor(() => names().includes("Version one"), { what: "the first definitions" });
      rewrite(script, (text) => text.replace("Version one", "Version two"));
      await waitFor(() => names().includes("Version two"), { what: "the changed definitions" });
      const before = f.metric("tally_script_config_errors_total", { script: "changing" });
      rewrite(script, (text) => text.replace("exit 0", "exit 1"));
      await waitFor(() => f.metric("tally_script_config_errors_total", { script: "changing" }) > before, {
        what: "the broken -c",
      });
      const framesAtFailure = f.frames.length;
      await waitFor(() => f.frames.length > framesAtFailure + 1, { what: "data runs after the failure" });
    });
    assert.equal(names().at(-1), "Version two");
    assert.ok(f.metric("tally_script_runs_total", { script: "changing", mode: "config" }) >= 3);
    assert.ok(f.logs.some((l) => l.includes("keeping the previous ones")));
  });

  it("ScriptsInput.stop() ends a hung run, leaves no process and emits nothing after it resolves", async () => {
    const f = fakeContext();
    const pidFile = join(dir, "stop.pids");
    const input = new ScriptsInput(
      config({
        scripts: [{
          command: testdata("fork_ignore_term.sh"),
          format: "prometheus",
          timeout: "30s",
          env: { PIDFILE: pidFile },
        }],
      }),
      "test",
    );
    await input.start(f.ctx);
    const pids = await waitFor(() => {
      try {
        const found = readFileSync(pidFile, "utf8").trim().split(" ").map(Number);
        return found.length === 4 ? found : undefined;
      } catch {
        return undefined;
      }
    }, { what: "the script's pids" });
    await input.stop();
    const emitted = f.frames.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(f.frames.length, emitted);
    assert.equal(emitted, 0);
    for (const pid of pids) assert.equal(isRunning(pid), false, `pid ${pid} still runs`);
    assert.deepEqual(runningInGroupOrSession(pids[3]!), []);
  });

  it("ScriptsInput.stop() names a daemon that holds a run's output, instead of blaming the kernel", async () => {
    const f = fakeContext();
    const pidFile = join(dir, "daemon.pid");
    const input = new ScriptsInput(
      config({
        scripts: [{
          command: testdata("daemon_holder.sh"),
          format: "prometheus",
          timeout: "30s",
          env: { PIDFILE: pidFile },
        }],
      }),
      "test",
    );
    let daemon = 0;
    try {
      await input.start(f.ctx);
      daemon = await waitFor(() => {
        try {
          return Number(readFileSync(pidFile, "utf8").trim()) || undefined;
        } catch {
          return undefined;
        }
      }, { what: "the daemon's pid" });
      await input.stop();
      const warning = f.logs.find((line) => line.includes(PIPE_HELD_MESSAGE));
      assert.ok(warning !== undefined, f.logs.join("\n"));
      assert.match(warning, new RegExp(`${daemon} \\(sleep\\)`));
      assert.match(warning, />\/dev\/null 2>&1/);
      assert.ok(!f.logs.some((line) => line.includes("stuck in the kernel")), f.logs.join("\n"));
    } finally {
      if (daemon > 0 && isRunning(daemon)) process.kill(daemon, "SIGKILL");
    }
  });

  it(
    "ScriptsInput.start() fails when the configured user does not exist (as root)",
    { skip: !isRoot },
    async () => {
      const f = fakeContext();
      const input = new ScriptsInput(
        config({ scripts: [{ command: "/bin/true" }], user: "no-such-user-tally" }),
        "test",
      );
      await assert.rejects(
        input.start(f.ctx),
        /script "true" runs as "no-such-user-tally", which cannot be resolved/,
      );
    },
  );
});

/** The default id of a testdata script. */
function stem(name: string): string {
  return name.replace(/\.[a-z]+$/, "");
}

function rewrite(path: string, edit: (text: string) => string): void {
  // A new inode and size as an editor's save would give; mtime alone can be equal within a tick.
  const text = edit(readFileSync(path, "utf8"));
  rmSync(path);
  writeFileSync(path, text, { mode: 0o755 });
}

/** Runs recorded as "start <pid>" / "end <pid>" lines never interleave (a last run may be cut by stop). */
function assertNeverOverlapping(marks: string): void {
  const lines = marks.trim().split("\n");
  assert.ok(lines.length >= 2, marks);
  for (let i = 0; i < lines.length; i++) {
    const [kind, pid] = lines[i]!.split(" ");
    if (i % 2 === 0) {
      assert.equal(kind, "start", marks);
    } else {
      assert.deepEqual([kind, pid], ["end", lines[i - 1]!.split(" ")[1]], marks);
    }
  }
}
