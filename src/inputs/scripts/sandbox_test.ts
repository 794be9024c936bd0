import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { waitFor } from "../../../tests/harness/wait_for.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_PATH, runSandboxed, SpawnError } from "./sandbox.ts";
import type { SandboxOptions } from "./sandbox.ts";
import { isRunning, printedPids, runningInGroupOrSession, testdata } from "./_test_processes.ts";

const decoder = new TextDecoder();
const isRoot = process.getuid?.() === 0;
const NOBODY = { uid: 65534, gid: 65534 };

function options(more: Partial<SandboxOptions> = {}): SandboxOptions {
  return {
    env: {},
    cwd: "/",
    user: undefined,
    limitMs: 5000,
    maxStdout: 1 << 20,
    maxStderr: 64 << 10,
    ...more,
  };
}

describe("runSandboxed()", () => {
  it("runSandboxed() gives a clean environment, the working directory, the user and a closed stdin", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tally-sandbox-"));
    chmodSync(dir, 0o755);
    try {
      const result = await runSandboxed(
        [testdata("env_probe.js"), "a b", "-d"],
        options({
          env: { GREETING: "hello world" },
          cwd: dir,
          user: isRoot ? NOBODY : undefined,
        }),
      );
      assert.equal(result.exitCode, 0, decoder.decode(result.stderr));
      const seen = JSON.parse(decoder.decode(result.stdout));
      assert.deepEqual(seen.args, ["a b", "-d"]);
      const { TALLY_RUN: run, ...env } = seen.env;
      assert.deepEqual(env, { GREETING: "hello world", PATH: DEFAULT_PATH });
      // The run's marker, which finds a daemon that keeps the run's output open (see findPipeHolders).
      assert.match(run, /^\d+\.\d+$/);
      assert.equal(seen.cwd, dir);
      assert.equal(seen.stdin, "eof");
      if (isRoot) {
        assert.equal(seen.uid, 65534);
        assert.equal(seen.gid, 65534);
        assert.deepEqual(seen.groups, [65534]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runSandboxed() lets a configured PATH replace the default", async () => {
    const result = await runSandboxed(
      [testdata("env_probe.js")],
      options({ env: { PATH: "/usr/bin:/bin" } }),
    );
    const { TALLY_RUN: _run, ...env } = JSON.parse(decoder.decode(result.stdout)).env;
    assert.deepEqual(env, { PATH: "/usr/bin:/bin" });
  });

  it("runSandboxed() looks a bare command up in the child's PATH, not through a shell", async () => {
    const result = await runSandboxed(["echo", "$HOME", "*"], options());
    assert.equal(decoder.decode(result.stdout), "$HOME *\n");
  });

  it("runSandboxed() keeps the output of a run that exits non-zero", async () => {
    const result = await runSandboxed(["sh", "-c", "echo M1 5; echo oops >&2; exit 3"], options());
    assert.equal(result.exitCode, 3);
    assert.equal(result.signal, null);
    assert.equal(result.timedOut, false);
    assert.equal(decoder.decode(result.stdout), "M1 5\n");
    assert.equal(decoder.decode(result.stderr), "oops\n");
  });

  it("runSandboxed() kills a group that ignores SIGTERM, its setsid grandchild included, by the limit", async () => {
    const result = await runSandboxed([testdata("fork_ignore_term.sh")], options({ limitMs: 1000 }));
    assert.equal(result.timedOut, true);
    assert.equal(result.signal, "SIGKILL");
    assert.equal(result.exitCode, null);
    const pids = printedPids(result.stdout);
    assert.equal(pids.length, 4, decoder.decode(result.stdout));
    assert.equal(pids[3], result.pid);
    // The setsid grandchild left the group; the /proc net found it.
    assert.ok(result.strays >= 1);
    for (const pid of pids) assert.equal(isRunning(pid), false, `pid ${pid} still runs`);
    assert.deepEqual(runningInGroupOrSession(result.pid), []);
    assert.deepEqual(runningInGroupOrSession(pids[2]!), []);
  });

  it("runSandboxed() keeps lines printed before a kill at the limit and waits for pipes held by children", async () => {
    const result = await runSandboxed([testdata("pipe_holder.sh")], options({ limitMs: 600 }));
    // The script exited 0 at once, but its child kept stdout open until the limit.
    assert.equal(result.exitCode, 0);
    assert.equal(result.timedOut, true);
    assert.equal(decoder.decode(result.stdout), "M1 1\n");
    assert.deepEqual(runningInGroupOrSession(result.pid), []);
  });

  it("runSandboxed() names a daemon holding the output pipe, and a stop does not wait for the limit on it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tally-sandbox-"));
    const pidFile = join(dir, "daemon.pid");
    const stop = new AbortController();
    let daemon = 0;
    try {
      const running = runSandboxed(
        [testdata("daemon_holder.sh")],
        options({ limitMs: 60_000, env: { PIDFILE: pidFile }, signal: stop.signal }),
      );
      daemon = await waitFor(() => {
        try {
          return Number(readFileSync(pidFile, "utf8").trim()) || undefined;
        } catch {
          return undefined;
        }
      }, { what: "the daemon's pid" });
      stop.abort();
      const result = await running;
      assert.equal(result.aborted, true);
      assert.equal(result.timedOut, false);
      assert.deepEqual(result.pipeHolders.map((holder) => holder.pid), [daemon]);
      assert.equal(result.pipeHolders[0]!.command, "sleep");
    } finally {
      if (daemon > 0 && isRunning(daemon)) process.kill(daemon, "SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("runSandboxed() holds no pipe holders after a clean run", async () => {
    const result = await runSandboxed(["sh", "-c", "echo M1 1"], options());
    assert.deepEqual(result.pipeHolders, []);
  });

  it("runSandboxed() kills what a run left running in its group when it ends", async () => {
    const result = await runSandboxed([testdata("leave_background.sh")], options());
    assert.equal(result.exitCode, 0);
    assert.equal(result.timedOut, false);
    const [pid] = printedPids(result.stdout);
    assert.ok(pid !== undefined);
    assert.ok(result.strays >= 1);
    for (let i = 0; i < 100 && isRunning(pid); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(isRunning(pid), false);
  });

  it("runSandboxed() caps a stdout flood, kills the flooder and keeps only whole lines", async () => {
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 5; i++) {
      const result = await runSandboxed([testdata("flood.sh")], options({ maxStdout: 256 << 10 }));
      assert.equal(result.stdoutTruncated, true);
      assert.equal(result.timedOut, false);
      assert.equal(result.signal, "SIGKILL");
      assert.ok(result.stdout.length <= 256 << 10 && result.stdout.length > 250 << 10);
      assert.equal(result.stdout.at(-1), 0x0a);
      assert.equal(decoder.decode(result.stdout.subarray(0, 10)), "M1 1\nM1 1\n");
      assert.deepEqual(runningInGroupOrSession(result.pid), []);
    }
    // Loose: five 256 KiB captures must not leave tens of MiB behind (no timing, no tight bound).
    assert.ok(process.memoryUsage().rss - before < 64 << 20);
  });

  it("runSandboxed() caps stderr without killing the script", async () => {
    const result = await runSandboxed([testdata("stderr_flood.sh")], options({ maxStderr: 1000 }));
    assert.equal(result.exitCode, 0);
    assert.equal(result.stderrTruncated, true);
    assert.equal(result.stderr.length, 1000);
    assert.equal(decoder.decode(result.stdout), "M1 1\n");
  });

  it("runSandboxed() stops a run when its signal aborts", async () => {
    const abort = new AbortController();
    const running = runSandboxed(["sleep", "30"], options({ signal: abort.signal }));
    setTimeout(() => abort.abort(), 50);
    const result = await running;
    assert.equal(result.aborted, true);
    assert.equal(result.signal, "SIGTERM");
    assert.deepEqual(runningInGroupOrSession(result.pid), []);
  });

  it("runSandboxed() throws a SpawnError naming a missing command, a bad directory or a non-executable", async () => {
    await assert.rejects(runSandboxed(["no-such-command-tally"], options()), (error: Error) => {
      assert.ok(error instanceof SpawnError);
      assert.match(
        error.message,
        /^Cannot run "no-such-command-tally": "no-such-command-tally" is not an executable file in PATH/,
      );
      return true;
    });
    await assert.rejects(
      runSandboxed(["/bin/true"], options({ cwd: "/no/such/dir" })),
      /Cannot run "\/bin\/true": the working directory "\/no\/such\/dir" is not a directory/,
    );
    const dir = mkdtempSync(join(tmpdir(), "tally-sandbox-"));
    try {
      const file = join(dir, "plain.txt");
      writeFileSync(file, "echo hi\n", { mode: 0o644 });
      await assert.rejects(runSandboxed([file], options()), (error: Error) => {
        assert.ok(error instanceof SpawnError);
        assert.equal(error.code, "EACCES");
        assert.match(error.message, /permission denied$/);
        return true;
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
