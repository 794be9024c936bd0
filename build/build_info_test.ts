import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { buildCommit, buildDefines } from "./build_info.ts";

const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tally-build-info-"));
  dirs.push(dir);
  return dir;
}

function git(cwd: string, ...args: string[]): string {
  const result = spawnSync("git", args, { cwd, encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
}

const HAS_GIT = spawnSync("git", ["--version"]).status === 0;

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("buildCommit()", () => {
  it("buildCommit() says unknown for a tree without git metadata", () => {
    assert.equal(buildCommit(tempDir(), {}), "unknown");
  });

  it("buildCommit() takes TALLY_BUILD_COMMIT from the environment first", () => {
    assert.equal(buildCommit(tempDir(), { TALLY_BUILD_COMMIT: " abc123 " }), "abc123");
  });

  it("buildCommit() gives the short hash, -dirty with uncommitted changes, unknown for a nested folder", {
    skip: HAS_GIT ? false : "git is not installed",
  }, () => {
    const repo = tempDir();
    git(repo, "init", "--quiet");
    writeFileSync(join(repo, "a.txt"), "one\n");
    git(repo, "add", "a.txt");
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "one");
    const hash = git(repo, "rev-parse", "--short=12", "HEAD");
    assert.equal(buildCommit(repo, {}), hash);
    writeFileSync(join(repo, "untracked.txt"), "ignored\n");
    assert.equal(buildCommit(repo, {}), hash, "untracked files do not make a tree dirty");
    writeFileSync(join(repo, "a.txt"), "two\n");
    assert.equal(buildCommit(repo, {}), `${hash}-dirty`);
    // An unpacked source tarball inside some other checkout is not that checkout's commit.
    mkdirSync(join(repo, "vendor", "tally"), { recursive: true });
    assert.equal(buildCommit(join(repo, "vendor", "tally"), {}), "unknown");
  });
});

describe("buildDefines()", () => {
  it("buildDefines() makes JSON string literals for both identifiers", () => {
    assert.deepEqual(buildDefines({ commit: 'a"b', target: "linux-x64" }), {
      TALLY_BUILD_COMMIT: '"a\\"b"',
      TALLY_BUILD_TARGET: '"linux-x64"',
    });
  });
});
