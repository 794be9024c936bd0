import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { bundle, formatBytes } from "./bundle.ts";

const dirs: string[] = [];

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * A throwaway app with tally's layout: a main that finds its worker the way `src/pipeline/pool.ts` does,
 * shares a SharedArrayBuffer with it, imports a CommonJS module that calls require(), and reaches bun:ffi
 * only on Bun.
 */
function writeApp(): string {
  const root = mkdtempSync(join(tmpdir(), "tally-bundle-"));
  dirs.push(root);
  mkdirSync(join(root, "src", "pipeline"), { recursive: true });
  writeFileSync(
    join(root, "src", "legacy.cjs"),
    'const os = require("node:os"); module.exports = { eol: JSON.stringify(os.EOL) };\n',
  );
  writeFileSync(
    join(root, "src", "main.ts"),
    `import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import legacy from "./legacy.cjs";
if ("Bun" in globalThis) await import("bun:ffi");
const here = import.meta.url;
const url = here.endsWith(".ts") ? new URL("./pipeline/worker_main.ts", here) : new URL("./worker_main.mjs", here);
const sab = new SharedArrayBuffer(4);
const worker = new Worker(fileURLToPath(url.href), { workerData: sab });
await new Promise((resolve) => worker.once("message", resolve));
await worker.terminate();
console.log(JSON.stringify({ here, worker: url.href, shared: Atomics.load(new Int32Array(sab), 0), eol: legacy.eol }));
`,
  );
  writeFileSync(
    join(root, "src", "pipeline", "worker_main.ts"),
    `import { parentPort, workerData } from "node:worker_threads";
Atomics.store(new Int32Array(workerData as SharedArrayBuffer), 0, 42);
parentPort?.postMessage("done");
`,
  );
  return root;
}

describe("bundle()", () => {
  it("bundle() writes dist/tally.mjs and dist/worker_main.mjs that run side by side", async () => {
    const root = writeApp();
    const outputs = await bundle({ root });
    assert.deepEqual(outputs.map((o) => o.path), [
      join(root, "dist", "tally.mjs"),
      join(root, "dist", "worker_main.mjs"),
    ]);
    assert.ok(outputs.every((o) => o.bytes > 0));
    const args = "Bun" in globalThis ? [outputs[0]?.path ?? ""] : ["run", "-A", outputs[0]?.path ?? ""];
    const run = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 30_000 });
    assert.equal(run.status, 0, run.stderr);
    const printed = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.deepEqual(printed, {
      here: `file://${join(root, "dist", "tally.mjs")}`,
      worker: `file://${join(root, "dist", "worker_main.mjs")}`,
      shared: 42,
      eol: JSON.stringify("\n"),
    });
  });

  it("bundle() names the root and esbuild's error when an entry is missing", async () => {
    const root = mkdtempSync(join(tmpdir(), "tally-bundle-"));
    dirs.push(root);
    await assert.rejects(bundle({ root }), (error: unknown) =>
      error instanceof Error &&
      error.message.startsWith(`Cannot bundle "${root}": esbuild failed`) &&
      error.message.includes('Could not resolve "src/main.ts"'));
  });

  it("formatBytes() picks B, KiB or MiB", () => {
    assert.equal(formatBytes(512), "512 B");
    assert.equal(formatBytes(2048), "2.0 KiB");
    assert.equal(formatBytes(3 * 1024 * 1024), "3.00 MiB");
  });
});
