import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import process from "node:process";

describe("node:child_process", () => {
  it("spawn() runs without a shell, with a clean environment, and captures output", async () => {
    const child = spawn("/bin/sh", ["-c", 'printf "%s|%s" "$1" "${HOME:-unset}"', "sh", "a b"], { env: {} });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    assert.equal(code, 0);
    assert.equal(out, "a b|unset");
  });

  it("spawn({ detached: true }) starts a process group that one kill(-pid) ends", async () => {
    // The shell starts a grandchild in the same group, then both sleep.
    const child = spawn("/bin/sh", ["-c", "sleep 30 & echo $!; wait"], {
      detached: true,
      stdio: ["ignore", "pipe", "ignore"],
    });
    const grandchild = await new Promise<number>((resolve) =>
      child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim())))
    );
    assert.ok(grandchild > 0);
    const closed = new Promise<string | null>((resolve) =>
      child.on("exit", (_code, signal) => resolve(signal))
    );
    process.kill(-child.pid!, "SIGKILL");
    assert.equal(await closed, "SIGKILL");
    // The grandchild got the same signal.
    for (let i = 0; i < 100 && alive(grandchild); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(alive(grandchild), false);
  });
});

/** Running, as opposed to gone or a zombie (an orphan is a zombie until init reaps it, if it ever does). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}
