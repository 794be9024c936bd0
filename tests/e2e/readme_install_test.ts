/**
 * Keeps the README's install section honest: its curl-pipe line (against a loopback server standing in
 * for the release host), its air-gapped block and its uninstall lines run as written. As root they run
 * into a staged root (`TALLY_ROOT`, so the real system is never touched); as another user they install
 * into a temporary `HOME`, as the README says a non-root install does.
 *
 * Not run: the "From source" block (`npm run build:all` and `npm run release` build all eight targets and
 * a several-hundred-megabyte archive, minutes on a 2-core machine; the suite builds and releases the
 * targets it tests through the same scripts instead), and "Running as a service" (no systemd runs here).
 * Both are checked to name what exists.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import {
  INSTALL_SH,
  IS_ROOT,
  runShell,
  stagedRoot,
  tempDir,
  type TestRelease,
  testRelease,
} from "../harness/install_fixture.ts";
import { type ServedDir, serveDir } from "../harness/serve_dir.ts";
import { REPO_ROOT } from "../harness/spawn_tally.ts";

const README = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
const INSTALL = README.slice(README.indexOf("## Install"), README.indexOf("## Building"));

/** The `sh` code blocks under `### title`, each as its command lines (comments after `#` dropped). */
function blocks(title: string): string[][] {
  const start = INSTALL.indexOf(`### ${title}`);
  assert.ok(start >= 0, `the README has "### ${title}"`);
  const end = INSTALL.indexOf("\n### ", start + 1);
  const text = INSTALL.slice(start, end < 0 ? undefined : end);
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) =>
    (match[1] ?? "").trim().split("\n").map((line) => line.replace(/\s+#.*$/, ""))
  );
}

const DEFAULT_BASE_URL_REGEXP = /^DEFAULT_BASE_URL="([^"]+)"$/m;

describe("README install section", () => {
  let release: TestRelease;
  let server: ServedDir;

  before(async () => {
    release = await testRelease();
    server = await serveDir({ [`/v${release.version}/`]: release.dir });
  });

  after(async () => {
    await server?.close();
  });

  it("the curl-pipe, air-gapped and uninstall commands work as written", async () => {
    const defaultBaseUrl = DEFAULT_BASE_URL_REGEXP.exec(readFileSync(INSTALL_SH, "utf8"))?.[1];
    assert.ok(defaultBaseUrl !== undefined, "install.sh has a DEFAULT_BASE_URL");
    const connected = blocks("On a connected machine")[0]?.[0] ?? "";
    assert.ok(
      connected?.startsWith(`curl -fsSL ${defaultBaseUrl}/v${release.version}/install.sh | sh`),
      connected,
    );

    // Where the commands install: a staged root as root, a fresh HOME otherwise.
    const home = tempDir("tally-readme-home-");
    const root = IS_ROOT ? stagedRoot() : undefined;
    const env: Record<string, string> = { HOME: home, TALLY_BASE_URL: server.url };
    if (root !== undefined) Object.assign(env, { TALLY_ROOT: root, TALLY_INIT: "systemd" });
    assert.ok(
      !IS_ROOT || env["TALLY_ROOT"] !== undefined,
      "as root the README's commands run in a staged root",
    );
    const bin = root === undefined
      ? join(home, ".local", "bin", "tally")
      : join(root, "usr", "local", "bin", "tally");

    const curl = await runShell(connected.replace(defaultBaseUrl, server.url), { env });
    assert.equal(curl.code, 0, curl.stdout + curl.stderr);
    assert.ok(existsSync(bin), `${bin} installed:\n${curl.stdout}`);
    if (root !== undefined) assert.ok(existsSync(join(root, "etc", "systemd", "system", "tally.service")));

    const [airGapped = []] = blocks("Air-gapped");
    assert.equal(airGapped[0], `tar -xzf ${basename(release.archive)}`);
    const carried = tempDir("tally-readme-airgap-");
    copyFileSync(release.archive, join(carried, basename(release.archive)));
    const offline = await runShell(`set -e\n${airGapped.join("\n")}`, {
      cwd: carried,
      env: { ...env, TALLY_BASE_URL: "http://127.0.0.1:9" },
    });
    assert.equal(offline.code, 0, offline.stdout + offline.stderr);
    assert.match(offline.stdout, /: OK\n/);
    assert.match(offline.stdout, /is already this binary: unchanged/);

    const [[uninstall, purge] = []] = blocks("Uninstall");
    assert.equal(uninstall, "sh install.sh --uninstall");
    assert.equal(purge, "sh install.sh --uninstall --purge");
    const unpacked = join(carried, `tally-${release.version}`);
    const removed = await runShell(uninstall, { cwd: unpacked, env });
    assert.equal(removed.code, 0, removed.stdout + removed.stderr);
    assert.equal(existsSync(bin), false);
    if (root !== undefined) {
      assert.ok(existsSync(join(root, "etc", "tally", "tally.toml")), "--uninstall keeps the config");
      const purged = await runShell(purge, { cwd: unpacked, env });
      assert.equal(purged.code, 0, purged.stdout + purged.stderr);
      assert.equal(existsSync(join(root, "etc", "tally")), false);
      assert.equal(existsSync(join(root, "var", "lib", "tally")), false);
    }
  });

  it("the from-source and service blocks name scripts and a unit that exist", () => {
    const [source = []] = blocks("From source");
    const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    }).scripts;
    assert.deepEqual(source, ["npm run build:all", "npm run release"]);
    assert.match(scripts["build:all"] ?? "", /bun build\/compile\.ts --all$/);
    assert.match(scripts["release"] ?? "", /bun build\/release\.ts$/);
    const [service = []] = blocks("Running as a service");
    assert.equal(service.length, 4);
    assert.ok(service.every((line) => /^(systemctl|journalctl) .*\btally\b/.test(line)), service.join("\n"));
    assert.match(readFileSync(INSTALL_SH, "utf8"), /^UNIT_FILE="\/etc\/systemd\/system\/tally\.service"$/m);
  });
});
