import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { installText, release, ReleaseError } from "./release.ts";

const dirs: string[] = [];

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A throwaway project: package.json, install.sh, and two "binaries" already built in dist/. */
function project(): string {
  const root = mkdtempSync(join(tmpdir(), "tally-release-"));
  dirs.push(root);
  writeFileSync(join(root, "package.json"), JSON.stringify({ name: "tally", version: "1.2.3" }));
  writeFileSync(join(root, "install.sh"), "#!/bin/sh\necho install\n");
  mkdirSync(join(root, "dist"));
  writeFileSync(join(root, "dist", "tally-linux-x64"), "x64 binary");
  writeFileSync(join(root, "dist", "tally-linux-arm64"), "arm64 binary");
  return root;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

const TARGETS = ["bun-linux-x64", "bun-linux-arm64"];
const MTIME = 1_700_000_000;

describe("release()", () => {
  it("release() writes dist/release with the binaries, install.sh, INSTALL.txt and their SHA256SUMS", async () => {
    const root = project();
    const output = await release({ root, targets: TARGETS, build: false, mtime: MTIME });
    assert.equal(output.version, "1.2.3");
    assert.equal(output.dir, join(root, "dist", "release"));
    assert.deepEqual(output.files, [
      "INSTALL.txt",
      "SHA256SUMS",
      "install.sh",
      "tally-linux-arm64",
      "tally-linux-x64",
    ]);
    for (const name of ["install.sh", "tally-linux-x64", "tally-linux-arm64"]) {
      assert.equal(statSync(join(output.dir, name)).mode & 0o777, 0o755, name);
    }
    const installTxt = readFileSync(join(output.dir, "INSTALL.txt"), "utf8");
    assert.equal(
      readFileSync(join(output.dir, "SHA256SUMS"), "utf8"),
      [
        `${sha256(installTxt)}  INSTALL.txt`,
        `${sha256("#!/bin/sh\necho install\n")}  install.sh`,
        `${sha256("arm64 binary")}  tally-linux-arm64`,
        `${sha256("x64 binary")}  tally-linux-x64`,
        "",
      ].join("\n"),
    );
  });

  it("release() archives the folder as tally-VERSION/, owned by 0, stamped with one mtime, byte for byte reproducible", async () => {
    const root = project();
    const first = await release({ root, targets: TARGETS, build: false, mtime: MTIME });
    assert.equal(first.archive, join(root, "dist", "tally-1.2.3-offline.tar.gz"));
    const listing = spawnSync("tar", ["--list", "--verbose", "--full-time", "--file", first.archive], {
      encoding: "utf8",
    });
    assert.equal(listing.status, 0, listing.stderr);
    const entries = listing.stdout.trim().split("\n").map((line) => line.split(/\s+/));
    assert.deepEqual(entries.map((fields) => fields[5]), [
      "tally-1.2.3/",
      "tally-1.2.3/INSTALL.txt",
      "tally-1.2.3/SHA256SUMS",
      "tally-1.2.3/install.sh",
      "tally-1.2.3/tally-linux-arm64",
      "tally-1.2.3/tally-linux-x64",
    ]);
    assert.ok(entries.every((fields) => fields[1] === "0/0"), listing.stdout);
    const stamp = new Date(MTIME * 1000).toISOString().slice(0, 10);
    assert.ok(entries.every((fields) => fields[3] === stamp), listing.stdout);
    const bytes = readFileSync(first.archive);
    await release({ root, targets: TARGETS, build: false, mtime: MTIME });
    assert.deepEqual(readFileSync(first.archive), bytes);
  });

  it("release() names a binary that was not built", async () => {
    const root = project();
    await assert.rejects(
      release({ root, targets: ["bun-linux-x64-musl"], build: false, mtime: MTIME }),
      (error: unknown) =>
        error instanceof ReleaseError &&
        error.message ===
          'Cannot assemble the release: "dist/tally-linux-x64-musl" is missing (build it first)',
    );
  });
});

describe("installText()", () => {
  it("installText() says what each binary is for and how to check and install offline", () => {
    const text = installText("1.2.3", ["tally-linux-x64", "tally-linux-arm64-musl"]);
    assert.match(text, /^tally 1\.2\.3: offline installation\n={33}\n/);
    assert.match(text, /^ {2}tally-linux-x64 {9}Linux x86-64, glibc/m);
    assert.match(text, /^ {2}tally-linux-arm64-musl {2}Linux arm64, musl \(Alpine\)$/m);
    assert.match(text, /^ {2}sha256sum -c --ignore-missing SHA256SUMS$/m);
    assert.match(text, /^ {2}sh install\.sh --file \.$/m);
  });
});
