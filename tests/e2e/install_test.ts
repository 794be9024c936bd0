/**
 * `install.sh` against a release served from a loopback HTTP server, installing the binary alone into a
 * temporary prefix: the curl-pipe form, the SHA-256 refusals, wget and the fallback hash tools, re-runs
 * and upgrades, `--uninstall` and `--dry-run`. The root branch is in `install_service_test.ts`, offline
 * installs in `install_offline_test.ts`.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { sha256File } from "../../build/compile.ts";
import {
  INSTALL_SH,
  olderBuild,
  pathWithout,
  releaseVariant,
  runInstall,
  runShell,
  tempDir,
  type TestRelease,
  testRelease,
} from "../harness/install_fixture.ts";
import { type ServedDir, serveDir } from "../harness/serve_dir.ts";
import { REPO_ROOT, spawnTally } from "../harness/spawn_tally.ts";
import { statsdSmoke } from "../harness/statsd_smoke.ts";
import { scrape } from "../harness/scrape.ts";

const REFUSED_REGEXP =
  /refusing to install: the SHA-256 of (tally-\S+) is [0-9a-f]{64}, but \S+ says [0-9a-f]{64}\. The file is corrupt or was tampered with; nothing was installed/;

function flipByte(path: string, offset: number): void {
  const fd = openSync(path, "r+");
  try {
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, offset);
    byte[0] = (byte[0] ?? 0) ^ 0xff;
    writeSync(fd, byte, 0, 1, offset);
  } finally {
    closeSync(fd);
  }
}

describe("e2e: install.sh from a loopback release server", () => {
  let release: TestRelease;
  let server: ServedDir;
  let oldBuild: string;

  before(async () => {
    release = await testRelease();
    const badBinary = releaseVariant(release, (dir) => flipByte(join(dir, release.asset), 4096));
    const badSums = releaseVariant(release, (dir) => {
      const sums = readFileSync(join(dir, "SHA256SUMS"), "utf8");
      const line = sums.split("\n").find((l) => l.endsWith(`  ${release.asset}`))!;
      const digit = line[0] === "0" ? "1" : "0";
      writeFileSync(join(dir, "SHA256SUMS"), sums.replace(line, digit + line.slice(1)));
    });
    oldBuild = await olderBuild(release);
    server = await serveDir({
      [`/v${release.version}/`]: release.dir,
      [`/bad-binary/v${release.version}/`]: badBinary,
      [`/bad-sums/v${release.version}/`]: badSums,
      [`/old/v${release.version}/`]: oldBuild,
    });
  });

  after(async () => {
    await server?.close();
  });

  it("install.sh is POSIX sh that shellcheck passes", (t) => {
    const check = spawnSync("shellcheck", ["--shell=sh", "--severity=style", INSTALL_SH], {
      encoding: "utf8",
    });
    if (check.error !== undefined) {
      t.skip("shellcheck is not installed (Debian shellcheck; .ci/run installs it)");
      return;
    }
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.equal(spawnSync("dash", ["-n", INSTALL_SH]).status ?? 0, 0);
  });

  it("install.sh installs the version of package.json by default", () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string };
    assert.match(
      readFileSync(INSTALL_SH, "utf8"),
      new RegExp(`^INSTALLER_VERSION="${pkg.version.replaceAll(".", "\\.")}"$`, "m"),
    );
  });

  it("curl … | sh -s -- --version X installs the binary, and it runs a StatsD smoke test", async () => {
    const prefix = join(tempDir("tally-prefix-"), "p");
    const url = `${server.url}/v${release.version}`;
    const result = await runShell(
      `curl -fsSL ${url}/install.sh | sh -s -- --version ${release.version} --prefix ${prefix} --no-service`,
      { env: { TALLY_BASE_URL: server.url } },
    );
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      new RegExp(`==> Downloading tally ${release.version} \\(${release.asset}\\)`),
    );
    assert.match(result.stdout, /SHA-256 [0-9a-f]{64} matches .*SHA256SUMS/);
    assert.match(result.stdout, new RegExp(`==> Installing ${prefix}/bin/tally`));
    const bin = join(prefix, "bin", "tally");
    assert.equal(await sha256File(bin), await sha256File(join(release.dir, release.asset)));
    const version = spawnSync(bin, ["version"], { encoding: "utf8" });
    assert.match(
      version.stdout,
      new RegExp(`^tally ${release.version} \\(commit \\S+, target ${release.asset.slice(6)}, bun `),
    );
    assert.equal((await statsdSmoke([bin])).value, 5);
  });

  it("a tampered binary is refused with a clear message, and nothing is installed", async () => {
    const prefix = join(tempDir("tally-prefix-"), "p");
    const result = await runInstall(["--prefix", prefix, "--no-service"], {
      env: { TALLY_BASE_URL: `${server.url}/bad-binary` },
    });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, REFUSED_REGEXP);
    assert.equal(REFUSED_REGEXP.exec(result.stderr)?.[1], release.asset);
    assert.equal(existsSync(prefix), false, "nothing may be created");
  });

  it("a tampered SHA256SUMS line is refused with a clear message, and nothing is installed", async () => {
    const prefix = join(tempDir("tally-prefix-"), "p");
    const result = await runInstall(["--prefix", prefix, "--no-service"], {
      env: { TALLY_BASE_URL: `${server.url}/bad-sums` },
    });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stderr, REFUSED_REGEXP);
    assert.equal(existsSync(prefix), false, "nothing may be created");
  });

  it("without sha256sum, shasum or openssl it refuses to install instead of skipping the check", async () => {
    const prefix = join(tempDir("tally-prefix-"), "p");
    const result = await runInstall(["--prefix", prefix, "--no-service"], {
      env: { TALLY_BASE_URL: server.url, PATH: pathWithout(["sha256sum", "shasum", "openssl"]) },
    });
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      /refusing to install: no sha256sum, shasum or openssl to check the SHA-256 with/,
    );
    assert.equal(existsSync(prefix), false);
  });

  it("falls back to shasum, then openssl, and to wget when curl is missing", async () => {
    const cases = [
      { without: ["sha256sum"], tool: "shasum" },
      { without: ["sha256sum", "shasum", "curl"], tool: "openssl" },
    ];
    for (const { without, tool } of cases) {
      if (without.includes("curl") && spawnSync("wget", ["--version"]).error !== undefined) continue;
      if (spawnSync(tool, [tool === "openssl" ? "version" : "--version"]).error !== undefined) continue;
      const prefix = join(tempDir("tally-prefix-"), "p");
      const result = await runInstall(["--prefix", prefix, "--no-service"], {
        env: { TALLY_BASE_URL: server.url, PATH: pathWithout(without) },
      });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, new RegExp(`SHA-256 [0-9a-f]{64} matches .* \\(${tool}\\)`));
      assert.equal(
        await sha256File(join(prefix, "bin", "tally")),
        await sha256File(join(release.dir, release.asset)),
      );
    }
  });

  it("re-running upgrades in place: the binary is swapped under a running tally, which keeps serving", async () => {
    const prefix = join(tempDir("tally-prefix-"), "p");
    const bin = join(prefix, "bin", "tally");
    const first = await runInstall(["--prefix", prefix, "--no-service"], {
      env: { TALLY_BASE_URL: `${server.url}/old` },
    });
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.equal(await sha256File(bin), await sha256File(join(oldBuild, release.asset)));

    const running = await spawnTally({ command: [bin] });
    try {
      const upgrade = await runInstall(["--prefix", prefix, "--no-service"], {
        env: { TALLY_BASE_URL: server.url },
      });
      assert.equal(upgrade.code, 0, upgrade.stdout + upgrade.stderr);
      assert.match(
        upgrade.stdout,
        new RegExp(`==> Upgrading ${bin}: tally ${release.version} .* -> tally ${release.version} `),
      );
      assert.equal(await sha256File(bin), await sha256File(join(release.dir, release.asset)));
      // The old process still runs from the file it started from (the new one was renamed over it).
      assert.equal(running.stderr().includes("Cannot"), false, running.stderr());
      assert.equal((await fetch(`${running.url}/readyz`)).status, 200);
      assert.ok((await scrape(running.url)).size > 0);
    } finally {
      await running.stop();
    }

    const again = await runInstall(["--prefix", prefix, "--no-service"], {
      env: { TALLY_BASE_URL: server.url },
    });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, new RegExp(`==> ${bin} is already this binary: unchanged`));
  });

  it("--uninstall removes the binary and every folder the install created", async () => {
    const top = tempDir("tally-prefix-");
    const prefix = join(top, "p");
    mkdirSync(join(prefix, "bin"), { recursive: true });
    writeFileSync(join(prefix, "bin", "other-tool"), "#!/bin/sh\n");
    const install = await runInstall(["--prefix", prefix, "--no-service"], {
      env: { TALLY_BASE_URL: server.url },
    });
    assert.equal(install.code, 0, install.stdout + install.stderr);
    assert.ok(existsSync(join(prefix, "lib", "tally", "manifest")));

    const removed = await runInstall(["--prefix", prefix, "--uninstall"]);
    assert.equal(removed.code, 0, removed.stdout + removed.stderr);
    assert.match(removed.stdout, /==> Uninstalled/);
    const left = spawnSync("find", [top], { encoding: "utf8" }).stdout.trim().split("\n").sort();
    // What was there before stays; what the install made is gone.
    assert.deepEqual(left, [top, prefix, join(prefix, "bin"), join(prefix, "bin", "other-tool")].sort());
  });

  it("--dry-run prints each step and changes nothing", async () => {
    const prefix = join(tempDir("tally-prefix-"), "p");
    const result = await runInstall(["--prefix", prefix, "--no-service", "--dry-run"], {
      env: { TALLY_BASE_URL: server.url },
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`\\(dry run\\) would run: mv -f \\S+ ${prefix}/bin/tally`));
    assert.match(result.stdout, /==> Dry run: nothing was changed/);
    assert.equal(existsSync(prefix), false);
  });

  it("a run cut short (its output pipe closed) leaves no temporary folder behind", async () => {
    const scratch = tempDir("tally-tmpdir-");
    const prefix = join(tempDir("tally-prefix-"), "p");
    const result = await runShell(`sh ${INSTALL_SH} --prefix ${prefix} --no-service --dry-run | head -n 1`, {
      env: { TALLY_BASE_URL: server.url, TMPDIR: scratch },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^==> tally /);
    assert.deepEqual(readdirSync(scratch), []);
  });

  it("a version the release server lacks, and bad options, fail with a clear message", async () => {
    const missing = await runInstall(["--prefix", "/nonexistent", "--no-service", "--version", "9.9.9"], {
      env: { TALLY_BASE_URL: server.url },
    });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, new RegExp(`cannot download ${server.url}/v9\\.9\\.9/SHA256SUMS`));
    const unknown = await runInstall(["--prefix", "/nonexistent", "--no-service", "--frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option "--frobnicate"/);
    const purge = await runInstall(["--prefix", "/nonexistent", "--no-service", "--purge"]);
    assert.equal(purge.code, 2);
    assert.match(purge.stderr, /--purge goes with --uninstall/);
    const help = await runInstall(["--prefix", "/nonexistent", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: install\.sh \[options\]/);
  });
});
