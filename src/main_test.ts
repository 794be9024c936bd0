import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url).href);

/** Runs src/main.ts in a child of the runtime running this test. */
function tally(...args: string[]) {
  const prefix = process.versions["deno"] !== undefined ? ["run", "-A", MAIN] : [MAIN];
  const child = spawnSync(process.execPath, [...prefix, ...args], { encoding: "utf8" });
  return { code: child.status, stdout: child.stdout, stderr: child.stderr };
}

describe("main.ts", () => {
  it("exits with the command's code and writes its output", () => {
    const version = tally("version");
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^tally \d+\.\d+\.\d+ \(/);
    const usage = tally("frobnicate");
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^Unknown command "frobnicate"/);
  });

  it("exits 2 for a config error", () => {
    const check = tally("config", "check", "/nonexistent/tally.toml");
    assert.equal(check.code, 2);
    assert.equal(check.stderr, 'Cannot read config "/nonexistent/tally.toml": no such file\n');
  });
});
