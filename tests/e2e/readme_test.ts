/**
 * Keeps the README honest: its quick start (`npm start`, then the `nc` and `curl` lines exactly as
 * written) works on the embedded defaults (StatsD udp:127.0.0.1:8125, HTTP 127.0.0.1:8127).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "../harness/spawn_tally.ts";
import { waitFor } from "../harness/wait_for.ts";

const README = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
const QUICK_START = README.slice(README.indexOf("## Quick start"), README.indexOf("## The command line"));

/** The shell lines of the second code block of the quick start: the example that uses the defaults. */
function exampleLines(): string[] {
  const blocks = [...QUICK_START.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
  assert.equal(blocks.length, 2, "the quick start has the two-command block and the example block");
  assert.match(blocks[0]!, /^npm start\s/m);
  assert.match(blocks[0]!, /^npm test\s/m);
  return blocks[1]!.trim().split("\n");
}

describe("README quick start", () => {
  it("npm start serves the example exactly as the README shows it", async (t) => {
    if (spawnSync("nc", ["-h"]).error !== undefined) {
      t.skip("nc (Debian netcat-openbsd) is not installed (.ci/run installs it)");
      return;
    }
    const [send, scrape] = exampleLines();
    assert.ok(
      send?.includes("nc -u") && scrape?.startsWith("curl"),
      `unexpected example: ${send} / ${scrape}`,
    );
    // Its own process group, so the SIGTERM reaches npm's shell and tally behind it.
    const child = spawn("npm", ["start"], {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.on("close", () => resolve()));
    try {
      await waitFor(async () => (await fetch("http://127.0.0.1:8127/readyz")).status === 200, {
        timeoutMs: 30_000,
        what: "npm start to be ready on 127.0.0.1:8127",
      }).catch((error: unknown) => {
        throw new Error(`npm start did not come up (is 8125 or 8127 taken?):\n${output}`, { cause: error });
      });
      const line = await waitFor(() => {
        spawnSync("bash", ["-c", send!]);
        const out = spawnSync("bash", ["-c", scrape!], { encoding: "utf8" }).stdout;
        return out.split("\n").find((l) => l.startsWith("deploys_total{"));
      }, { timeoutMs: 30_000, intervalMs: 1000, what: "the README example to show deploys_total" });
      assert.match(line, /^deploys_total\{env="prod"\} [1-9]\d*$/);
    } finally {
      // npm itself dies by the signal, as on Ctrl-C; tally behind it must shut down in order.
      process.kill(-child.pid!, "SIGTERM");
      await exited;
      assert.match(output, /msg=Stopped/, `tally stopped cleanly on SIGTERM:\n${output}`);
    }
  });
});
