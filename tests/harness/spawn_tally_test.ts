import { existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnTally, SpawnTallyError, tallyCommand } from "./spawn_tally.ts";

const FAKE = fileURLToPath(new URL("./testdata/fake_tally.ts", import.meta.url).href);
const RUNTIME: readonly string[] = "Bun" in globalThis ? [process.execPath] : [process.execPath, "run", "-A"];

describe("spawnTally()", () => {
  it("spawnTally() waits for /readyz, passes ports and a data dir, and stops with SIGTERM", async () => {
    const tally = await spawnTally({ command: [...RUNTIME, FAKE] });
    assert.ok(tally.pid > 0);
    assert.equal((await fetch(`${tally.url}/readyz`)).status, 200);
    assert.ok(existsSync(tally.dataDir));
    assert.match(tally.stderr(), new RegExp(`statsd=udp:127\\.0\\.0\\.1:${tally.statsdPort}`));
    const exit = await tally.stop();
    assert.deepEqual(exit, { code: 0, signal: null, killed: false });
    assert.match(tally.stdout(), /drained/);
    assert.equal(existsSync(tally.dataDir), false);
  });

  it("stop() SIGKILLs a process that ignores SIGTERM past the timeout", async () => {
    const tally = await spawnTally({ command: [...RUNTIME, FAKE], args: ["--mode", "stubborn"] });
    const exit = await tally.stop({ timeoutMs: 300 });
    assert.equal(exit.killed, true);
    assert.equal(exit.signal, "SIGKILL");
  });

  it("spawnTally() keeps a data directory it was given and runs elsewhere", async () => {
    const dataDir = join(tmpdir(), `tally-harness-given-${process.pid}`);
    const tally = await spawnTally({ command: [...RUNTIME, FAKE], dataDir });
    try {
      assert.equal(tally.dataDir, dataDir);
      await tally.stop();
      assert.ok(existsSync(dataDir));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("spawnTally() names a command that cannot start", async () => {
    await assert.rejects(
      spawnTally({ command: ["/nonexistent/tally"] }),
      (error: unknown) =>
        error instanceof SpawnTallyError && /exit code 127/.test(error.message) &&
        /ENOENT/.test(error.message),
    );
  });

  it("spawnTally() rejects with the stderr of a process that exits before ready", async () => {
    await assert.rejects(
      spawnTally({ command: [...RUNTIME, FAKE], args: ["--mode", "crash"] }),
      (error: unknown) =>
        error instanceof SpawnTallyError &&
        /exited \(exit code 3\)/.test(error.message) &&
        /address already in use/.test(error.message),
    );
  });

  it("tallyCommand() runs the compiled binary, the bundle under deno, or the source under bun", () => {
    assert.match(tallyCommand("binary")[0] ?? "", /dist\/tally$/);
    assert.deepEqual(tallyCommand("bundle").slice(1, 3), ["run", "-A"]);
    assert.match(tallyCommand("bundle")[3] ?? "", /dist\/tally\.mjs$/);
    assert.match(tallyCommand("source")[1] ?? "", /src\/main\.ts$/);
  });
});
