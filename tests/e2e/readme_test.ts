/**
 * Keeps the README honest: its quick start (`npm start -- --flush-interval 1s`, then the push, StatsD and
 * `curl` lines exactly as written) works on the embedded defaults (StatsD udp:127.0.0.1:8125, HTTP
 * 127.0.0.1:8127) and prints what the README says it prints.
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

/** The quick start's shell blocks: the two commands, the quick-window start, and the example lines. */
function quickStartBlocks(): { readonly start: string; readonly example: readonly string[] } {
  const blocks = [...QUICK_START.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
  assert.equal(blocks.length, 3, "the quick start has the two-command block, the start and the example");
  assert.match(blocks[0]!, /^npm start\s/m);
  assert.match(blocks[0]!, /^npm test\s/m);
  return { start: blocks[1]!.trim(), example: blocks[2]!.trim().split("\n") };
}

describe("README quick start", () => {
  it("npm start serves the example exactly as the README shows it, without netcat", async () => {
    const { start, example } = quickStartBlocks();
    assert.match(start, /^npm start -- --flush-interval 1s$/);
    const scrape = example.at(-1)!;
    assert.ok(scrape.startsWith("curl"), `the example ends with the scrape: ${scrape}`);
    assert.ok(!example.some((line) => /\bnc\b/.test(line)), "the example does not need netcat");
    const expected = /The last line prints `([^`]+)`/.exec(QUICK_START)?.[1];
    assert.ok(expected !== undefined, "the quick start says what the scrape prints");
    // Its own process group, so the SIGTERM reaches npm's shell and tally behind it.
    const child = spawn("bash", ["-c", start], {
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
      for (const line of example.slice(0, -1)) {
        const run = spawnSync("bash", ["-c", line], { cwd: REPO_ROOT, encoding: "utf8" });
        assert.equal(run.status, 0, `${line}\n${run.stdout}${run.stderr}`);
      }
      const printed = await waitFor(() => {
        const out = spawnSync("bash", ["-c", scrape], { cwd: REPO_ROOT, encoding: "utf8" }).stdout.trim();
        return out === expected ? out : undefined;
      }, { timeoutMs: 30_000, intervalMs: 500, what: `the README example to print ${expected}` });
      assert.equal(printed, expected);
    } finally {
      // npm itself dies by the signal, as on Ctrl-C; tally behind it must shut down in order.
      process.kill(-child.pid!, "SIGTERM");
      await exited;
      assert.match(output, /msg=Stopped/, `tally stopped cleanly on SIGTERM:\n${output}`);
    }
  });
});
