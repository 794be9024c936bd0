/**
 * The air-gapped path: the offline archive `npm run release` writes, unpacked, and `install.sh --file`
 * on a machine with no way out (no curl or wget on `PATH`, `TALLY_BASE_URL` pointing at a closed port).
 * Every binary is checked against the `SHA256SUMS` beside it or `--sha256`, and a mismatch is refused.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { sha256File } from "../../build/compile.ts";
import {
  pathWithout,
  runInstall,
  tempDir,
  type TestRelease,
  testRelease,
} from "../harness/install_fixture.ts";

/** Nothing can be downloaded: no curl, no wget, and a release URL where nothing listens. */
function offline(): Record<string, string> {
  return { PATH: pathWithout(["curl", "wget"]), TALLY_BASE_URL: "http://127.0.0.1:9" };
}

describe("e2e: offline install from the release archive", () => {
  let release: TestRelease;
  let unpacked: string;

  before(async () => {
    release = await testRelease();
    const dir = tempDir("tally-airgap-");
    const untar = spawnSync("tar", ["-xzf", release.archive, "-C", dir], { encoding: "utf8" });
    assert.equal(untar.status, 0, untar.stderr);
    unpacked = join(dir, `tally-${release.version}`);
  });

  it("the archive unpacks to tally-VERSION/ with the binaries, install.sh, INSTALL.txt and SHA256SUMS", () => {
    assert.deepEqual(
      readdirSync(unpacked).sort(),
      ["INSTALL.txt", "SHA256SUMS", "install.sh", release.asset].sort(),
    );
    const check = spawnSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: unpacked, encoding: "utf8" });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.equal(check.stdout.split("\n").filter((line) => line.endsWith(": OK")).length, 3);
    const text = readFileSync(join(unpacked, "INSTALL.txt"), "utf8");
    assert.match(text, new RegExp(`^tally ${release.version}: offline installation$`, "m"));
    assert.match(text, new RegExp(`^  ${release.asset} +Linux`, "m"));
    assert.match(text, /^ {2}sh install\.sh --file \.$/m);
  });

  it("--file . picks this machine's binary and installs it with no network", async () => {
    const prefix = join(tempDir("tally-prefix-"), "p");
    const result = await runInstall(["--file", ".", "--prefix", prefix, "--no-service"], {
      cwd: unpacked,
      env: offline(),
      installer: join(unpacked, "install.sh"),
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`==> Checking \\./${release.asset}`));
    assert.match(result.stdout, /SHA-256 [0-9a-f]{64} matches \.\/SHA256SUMS/);
    assert.equal(
      await sha256File(join(prefix, "bin", "tally")),
      await sha256File(join(unpacked, release.asset)),
    );
    const version = spawnSync(join(prefix, "bin", "tally"), ["version"], { encoding: "utf8" });
    assert.match(version.stdout, new RegExp(`^tally ${release.version} `));
  });

  it("a binary renamed on the way is still recognised by its SHA-256 in SHA256SUMS", async () => {
    const carried = tempDir("tally-carried-");
    copyFileSync(join(unpacked, release.asset), join(carried, "tally"));
    copyFileSync(join(unpacked, "SHA256SUMS"), join(carried, "SHA256SUMS"));
    const prefix = join(tempDir("tally-prefix-"), "p");
    const result = await runInstall(["--file", join(carried, "tally"), "--prefix", prefix, "--no-service"], {
      env: offline(),
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`tally is ${release.asset} of \\S+SHA256SUMS`));
    assert.ok(existsSync(join(prefix, "bin", "tally")));
  });

  it("a lone binary installs with --sha256, and is refused with a wrong one or with neither", async () => {
    const lone = tempDir("tally-lone-");
    const binary = join(lone, release.asset);
    copyFileSync(join(unpacked, release.asset), binary);
    const sha256 = await sha256File(binary);

    const noSums = join(tempDir("tally-prefix-"), "p");
    const refused = await runInstall(["--file", binary, "--prefix", noSums, "--no-service"], {
      env: offline(),
    });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /refusing to install: no SHA256SUMS beside \S+ and no --sha256 given/);
    assert.equal(existsSync(noSums), false);

    const wrong = join(tempDir("tally-prefix-"), "p");
    const mismatch = await runInstall(
      ["--file", binary, "--sha256", "0".repeat(64), "--prefix", wrong, "--no-service"],
      { env: offline() },
    );
    assert.equal(mismatch.code, 1);
    assert.match(
      mismatch.stderr,
      /refusing to install: the SHA-256 of \S+ is [0-9a-f]{64}, but --sha256 says 0{64}/,
    );
    assert.equal(existsSync(wrong), false);

    const right = join(tempDir("tally-prefix-"), "p");
    const ok = await runInstall([
      "--file",
      binary,
      "--sha256",
      sha256.toUpperCase(),
      "--prefix",
      right,
      "--no-service",
    ], {
      env: offline(),
    });
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /matches --sha256/);
    assert.equal(await sha256File(join(right, "bin", "tally")), sha256);
  });

  it("a binary altered after the release is refused, and nothing is installed", async () => {
    const copy = tempDir("tally-altered-");
    mkdirSync(copy, { recursive: true });
    copyFileSync(join(unpacked, release.asset), join(copy, release.asset));
    copyFileSync(join(unpacked, "SHA256SUMS"), join(copy, "SHA256SUMS"));
    appendFileSync(join(copy, release.asset), "appended");
    const prefix = join(tempDir("tally-prefix-"), "p");
    const result = await runInstall(
      ["--file", join(copy, release.asset), "--prefix", prefix, "--no-service"],
      {
        env: offline(),
      },
    );
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /refusing to install: the SHA-256 of \S+ is [0-9a-f]{64}, but \S+SHA256SUMS says/,
    );
    assert.equal(existsSync(prefix), false);
  });
});
