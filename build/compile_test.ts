import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  CompileError,
  detectedTarget,
  hostTarget,
  RELEASE_TARGETS,
  targetRuntime,
  writeChecksums,
} from "./compile.ts";

const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tally-compile-"));
  dirs.push(dir);
  return dir;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("targetRuntime()", () => {
  it("targetRuntime() maps Bun targets to the npm packages that publish their executables", () => {
    assert.deepEqual(targetRuntime("bun-linux-arm64"), {
      target: "bun-linux-arm64",
      packageName: "@oven/bun-linux-aarch64",
      binPath: "bin/bun",
      suffix: "linux-arm64",
    });
    assert.equal(targetRuntime("bun-linux-x64-musl").packageName, "@oven/bun-linux-x64-musl");
    assert.equal(targetRuntime("bun-darwin-arm64").packageName, "@oven/bun-darwin-aarch64");
  });

  it("targetRuntime() gives Windows targets bun.exe and an .exe output", () => {
    const runtime = targetRuntime("bun-windows-x64");
    assert.equal(runtime.binPath, "bin/bun.exe");
    assert.equal(runtime.suffix, "windows-x64.exe");
  });

  it("targetRuntime() rejects an unknown target with the known ones", () => {
    assert.throws(
      () => targetRuntime("bun-linux-armv7"),
      (error: unknown) =>
        error instanceof CompileError &&
        error.message.startsWith(
          'Cannot compile for target "bun-linux-armv7": unknown target, expected one of',
        ) &&
        error.message.includes("bun-linux-arm64"),
    );
  });

  it("hostTarget() names a target targetRuntime() knows", () => {
    assert.match(hostTarget(), /^bun-(linux|darwin|windows)-(x64|arm64)$/);
    assert.equal(targetRuntime(hostTarget()).target, hostTarget());
  });
});

describe("RELEASE_TARGETS", () => {
  it("RELEASE_TARGETS are Linux and macOS targets with distinct outputs, including the three tested ones", () => {
    const suffixes = RELEASE_TARGETS.map((target) => targetRuntime(target).suffix);
    assert.equal(new Set(suffixes).size, RELEASE_TARGETS.length);
    assert.ok(
      suffixes.every((suffix) => /^(linux|darwin)-(x64|arm64)(-musl)?(-baseline)?$/.test(suffix)),
      suffixes.join(),
    );
    for (const tested of ["linux-x64", "linux-x64-musl", "linux-arm64"]) {
      assert.ok(suffixes.includes(tested), tested);
    }
  });

  it("detectedTarget() is the host target, with -musl and -baseline only where they apply", () => {
    const detected = detectedTarget();
    assert.ok(detected.startsWith(hostTarget()), detected);
    assert.ok(RELEASE_TARGETS.includes(detected) || !detected.startsWith("bun-linux"), detected);
  });
});

describe("writeChecksums()", () => {
  it("writeChecksums() writes sha256sum lines sorted by name", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "tally-b"), "bee");
    writeFileSync(join(dir, "tally-a"), "ay");
    await writeChecksums(dir, [join(dir, "tally-b"), join(dir, "tally-a")]);
    assert.equal(
      readFileSync(join(dir, "SHA256SUMS"), "utf8"),
      `${sha256("ay")}  tally-a\n${sha256("bee")}  tally-b\n`,
    );
  });

  it("writeChecksums() keeps earlier entries whose files remain, rehashed, and drops deleted ones", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "tally"), "host");
    writeFileSync(join(dir, "tally-old"), "old");
    await writeChecksums(dir, [join(dir, "tally"), join(dir, "tally-old")]);
    writeFileSync(join(dir, "tally"), "host rebuilt");
    unlinkSync(join(dir, "tally-old"));
    writeFileSync(join(dir, "tally-linux-arm64"), "arm");
    await writeChecksums(dir, [join(dir, "tally-linux-arm64")]);
    assert.equal(
      readFileSync(join(dir, "SHA256SUMS"), "utf8"),
      `${sha256("host rebuilt")}  tally\n${sha256("arm")}  tally-linux-arm64\n`,
    );
  });
});
