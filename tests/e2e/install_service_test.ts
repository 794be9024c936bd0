/**
 * The root branch of `install.sh`, run into a staged root (`TALLY_ROOT`) so that the real system is never
 * touched: the `tally` system user (real `useradd --prefix`), `/etc/tally/tally.toml` written once,
 * `/var/lib/tally`, the hardened systemd unit (`systemd-analyze verify` and `security`), enabling it with
 * the real `systemctl --root`, the calls a live install makes to systemctl and OpenRC (through a stand-in
 * that records them, since no init system runs here), re-runs, upgrades, `--uninstall` and `--purge`.
 *
 * `useradd` and `chown` need root: as another user these tests are skipped.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { sha256File } from "../../build/compile.ts";
import {
  IS_ROOT,
  linkSystemdUnits,
  olderBuild,
  runInstall,
  stagedRoot,
  tempDir,
  type TestRelease,
  testRelease,
} from "../harness/install_fixture.ts";
import { type ServedDir, serveDir } from "../harness/serve_dir.ts";
import { spawnTally } from "../harness/spawn_tally.ts";

const SKIP = IS_ROOT
  ? false
  : "the root branch needs root (useradd, chown); run the suite as root to cover it";

/** Every path under `root`, relative, sorted; `useradd`'s backups of the account files left out. */
function tree(root: string): string[] {
  const found = spawnSync("find", [root, "-mindepth", "1"], { encoding: "utf8" }).stdout.trim().split("\n");
  return found.filter((p) => p !== "" && !/\/etc\/(passwd|group|shadow|gshadow)-$/.test(p)).map((p) =>
    p.slice(root.length)
  ).sort();
}

/** The account files' contents, to compare before and after. */
function accounts(root: string): string {
  return ["passwd", "group", "shadow", "gshadow"].map((name) => {
    const path = join(root, "etc", name);
    return existsSync(path) ? readFileSync(path, "utf8") : "";
  }).join("\n---\n");
}

function passwdEntry(root: string): string[] | undefined {
  return readFileSync(join(root, "etc", "passwd"), "utf8").split("\n").find((line) =>
    line.startsWith("tally:")
  )
    ?.split(":");
}

/**
 * A stand-in for systemctl, rc-service and rc-update: appends each call to `calls`, keeps "active" in a
 * file (start/restart set it, stop clears it, is-active and status report it).
 */
function serviceManagerStandIn(): { readonly command: string; calls(): string[] } {
  const dir = tempDir("tally-init-");
  const command = join(dir, "service-manager");
  writeFileSync(
    command,
    `#!/bin/sh
d=$(dirname "$0")
echo "$(basename "$0") $*" >>"$d/calls"
case " $* " in
*" is-active "* | *" status "*) test -f "$d/active" ;;
*" start "* | *" restart "*) : >"$d/active" ;;
*" stop "*) rm -f "$d/active" ;;
esac
`,
  );
  chmodSync(command, 0o755);
  return {
    command,
    calls() {
      const path = join(dir, "calls");
      if (!existsSync(path)) return [];
      const lines = readFileSync(path, "utf8").trim().split("\n");
      rmSync(path);
      return lines.map((line) => line.replace(/^service-manager /, ""));
    },
  };
}

describe("e2e: install.sh as root, into a staged root", { skip: SKIP }, () => {
  let release: TestRelease;
  let server: ServedDir;
  let realPasswd: string;

  before(async () => {
    release = await testRelease();
    server = await serveDir({
      [`/v${release.version}/`]: release.dir,
      [`/old/v${release.version}/`]: await olderBuild(release),
    });
    realPasswd = readFileSync("/etc/passwd", "utf8");
  });

  after(async () => {
    await server?.close();
    assert.equal(readFileSync("/etc/passwd", "utf8"), realPasswd, "the real /etc/passwd must not change");
  });

  it("an image build: user, config, data directory, a unit that verifies, enabled offline; --purge undoes all", async () => {
    const root = stagedRoot();
    const before = tree(root);
    const accountsBefore = accounts(root);
    const env = { TALLY_ROOT: root, TALLY_INIT: "systemd", TALLY_BASE_URL: server.url };

    const install = await runInstall([], { env });
    assert.equal(install.code, 0, install.stdout + install.stderr);
    for (
      const step of [
        "==> Installing /usr/local/bin/tally",
        "==> Creating system user tally",
        "==> Writing /etc/tally/tally.toml",
        "==> Writing /etc/systemd/system/tally.service",
        `==> Enabling tally.service in ${root}`,
      ]
    ) {
      assert.ok(install.stdout.includes(step), `missing step "${step}":\n${install.stdout}`);
    }

    const entry = passwdEntry(root);
    assert.ok(entry !== undefined, "tally is in the staged /etc/passwd");
    const [, , uid, gid, , home] = entry;
    assert.ok(Number(uid) < 1000, `a system uid, got ${uid}`);
    assert.equal(home, "/var/lib/tally");

    const bin = join(root, "usr", "local", "bin", "tally");
    assert.equal(await sha256File(bin), await sha256File(join(release.dir, release.asset)));

    const config = join(root, "etc", "tally", "tally.toml");
    assert.equal(statSync(config).mode & 0o777, 0o640);
    assert.equal(statSync(config).gid, Number(gid));
    const text = readFileSync(config, "utf8");
    assert.match(text, /^data_dir = "\/var\/lib\/tally"$/m);
    assert.doesNotMatch(text, /^\[inputs\./m, "the example inputs are commented out");
    assert.match(text, /^# \[inputs\.statsd\]$/m);
    const check = spawnSync(bin, ["config", "check", config], { encoding: "utf8" });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    // The config starts a collector (flags put its data, HTTP and StatsD on temporary ones).
    const running = await spawnTally({ command: [bin], args: ["--config", config] });
    await running.stop();

    const data = statSync(join(root, "var", "lib", "tally"));
    assert.equal(data.uid, Number(uid));
    assert.equal(data.mode & 0o777, 0o750);

    const unit = readFileSync(join(root, "etc", "systemd", "system", "tally.service"), "utf8");
    for (
      const line of [
        "User=tally",
        "ExecStart=/usr/local/bin/tally run --config /etc/tally/tally.toml",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ReadWritePaths=/var/lib/tally",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=",
        "SystemCallFilter=@system-service",
      ]
    ) {
      assert.match(unit, new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
    }
    assert.equal(
      readlinkSync(join(root, "etc", "systemd", "system", "multi-user.target.wants", "tally.service")),
      "/etc/systemd/system/tally.service",
    );

    if (spawnSync("systemd-analyze", ["--version"]).error === undefined && linkSystemdUnits(root)) {
      const verify = spawnSync("systemd-analyze", [
        "verify",
        `--root=${root}`,
        "/etc/systemd/system/tally.service",
      ], {
        encoding: "utf8",
      });
      assert.equal(verify.status, 0, verify.stdout + verify.stderr);
      // Debian's own unit folder, seen through the staged root, has absolute symlinks that do not resolve
      // there; those lines are about other units. Nothing else may be said.
      const complaints = verify.stderr.split("\n").filter((line) =>
        line !== "" && !line.startsWith("Failed to resolve symlink")
      );
      assert.deepEqual(complaints, [], "systemd-analyze verify has no complaint about tally.service");
      const security = spawnSync("systemd-analyze", [
        "security",
        "--offline=yes",
        `--root=${root}`,
        "tally.service",
      ], {
        encoding: "utf8",
      });
      const level = /Overall exposure level for tally\.service: ([\d.]+) (\w+)/.exec(security.stdout);
      assert.ok(level !== null, security.stdout + security.stderr);
      assert.ok(Number(level[1]) <= 3.5, `exposure ${level[1]} ${level[2]}`);
      rmSync(join(root, "usr", "lib"), { recursive: true });
    }

    // A re-run keeps the edited config and changes nothing else.
    appendFileSync(config, "# edited by the operator\n");
    const rerun = await runInstall([], { env });
    assert.equal(rerun.code, 0, rerun.stdout + rerun.stderr);
    assert.match(rerun.stdout, /\/etc\/tally\/tally\.toml exists: kept as it is/);
    assert.match(rerun.stdout, /is already this binary: unchanged/);
    assert.match(rerun.stdout, /\/etc\/systemd\/system\/tally\.service is up to date/);
    assert.match(readFileSync(config, "utf8"), /# edited by the operator\n$/);

    const uninstall = await runInstall(["--uninstall"], { env });
    assert.equal(uninstall.code, 0, uninstall.stdout + uninstall.stderr);
    assert.equal(existsSync(bin), false);
    assert.equal(existsSync(join(root, "etc", "systemd", "system", "tally.service")), false);
    assert.equal(
      existsSync(join(root, "etc", "systemd", "system", "multi-user.target.wants", "tally.service")),
      false,
    );
    assert.ok(existsSync(config), "--uninstall keeps the config");
    assert.ok(existsSync(join(root, "var", "lib", "tally")), "--uninstall keeps the data");
    assert.ok(passwdEntry(root) !== undefined, "--uninstall keeps the user");

    const purge = await runInstall(["--uninstall", "--purge"], { env });
    assert.equal(purge.code, 0, purge.stdout + purge.stderr);
    assert.deepEqual(tree(root), before, "--purge leaves the root as it was");
    assert.equal(accounts(root), accountsBefore, "the account files are as they were");
  });

  it("a live install starts the service, a re-run leaves it, an upgrade restarts it, --uninstall stops it", async () => {
    const root = stagedRoot();
    const systemctl = serviceManagerStandIn();
    const env = {
      TALLY_ROOT: root,
      TALLY_INIT: "systemd",
      TALLY_SYSTEMCTL: systemctl.command,
      TALLY_BASE_URL: `${server.url}/old`,
    };
    const first = await runInstall([], { env });
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.deepEqual(systemctl.calls(), [
      "daemon-reload",
      "--quiet enable tally.service",
      "--quiet is-active tally.service",
      "start tally.service",
    ]);
    assert.match(first.stdout, /==> Starting tally\.service/);

    const same = await runInstall([], { env });
    assert.equal(same.code, 0, same.stdout + same.stderr);
    assert.deepEqual(systemctl.calls(), ["--quiet enable tally.service", "--quiet is-active tally.service"]);
    assert.match(same.stdout, /==> tally\.service is running, nothing changed/);

    const upgrade = await runInstall([], { env: { ...env, TALLY_BASE_URL: server.url } });
    assert.equal(upgrade.code, 0, upgrade.stdout + upgrade.stderr);
    assert.deepEqual(systemctl.calls(), [
      "--quiet enable tally.service",
      "--quiet is-active tally.service",
      "restart tally.service",
    ]);
    assert.match(
      upgrade.stdout,
      /==> Upgrading \/usr\/local\/bin\/tally: .* -> .*\n[\s\S]*==> Restarting tally\.service/,
    );

    const uninstall = await runInstall(["--uninstall", "--purge"], { env });
    assert.equal(uninstall.code, 0, uninstall.stdout + uninstall.stderr);
    assert.deepEqual(systemctl.calls(), [
      "--quiet is-active tally.service",
      "stop tally.service",
      "--quiet disable tally.service",
      "daemon-reload",
    ]);
  });

  it("where OpenRC runs: an init script shellcheck passes, added to the default runlevel and started", async () => {
    const root = stagedRoot();
    const openrc = serviceManagerStandIn();
    const env = {
      TALLY_ROOT: root,
      TALLY_INIT: "openrc",
      TALLY_RC_SERVICE: openrc.command,
      TALLY_RC_UPDATE: openrc.command,
      TALLY_BASE_URL: server.url,
    };
    const install = await runInstall([], { env });
    assert.equal(install.code, 0, install.stdout + install.stderr);
    assert.deepEqual(openrc.calls(), ["add tally default", "tally status", "tally start"]);
    const script = join(root, "etc", "init.d", "tally");
    assert.equal(statSync(script).mode & 0o777, 0o755);
    const text = readFileSync(script, "utf8");
    assert.match(text, /^#!\/sbin\/openrc-run$/m);
    assert.match(text, /^command="\/usr\/local\/bin\/tally"$/m);
    assert.match(text, /^command_user="tally:tally"$/m);
    const check = spawnSync("shellcheck", ["--shell=sh", "--exclude=SC2034", script], { encoding: "utf8" });
    if (check.error === undefined) assert.equal(check.status, 0, check.stdout);

    const uninstall = await runInstall(["--uninstall"], { env });
    assert.equal(uninstall.code, 0, uninstall.stdout + uninstall.stderr);
    assert.deepEqual(openrc.calls(), ["tally status", "tally stop", "del tally default"]);
    assert.equal(existsSync(script), false);
  });

  it("--dry-run as root prints the user, config and service steps and changes nothing", async () => {
    const root = stagedRoot();
    const before = tree(root);
    const accountsBefore = accounts(root);
    const result = await runInstall(["--dry-run"], {
      env: { TALLY_ROOT: root, TALLY_INIT: "systemd", TALLY_BASE_URL: server.url },
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /\(dry run\) would run: useradd --prefix \S+ --system/);
    assert.match(result.stdout, /\(dry run\) would write \S+\/etc\/tally\/tally\.toml \(mode 0640\)/);
    assert.match(
      result.stdout,
      /\(dry run\) would write \S+\/etc\/systemd\/system\/tally\.service \(mode 0644\)/,
    );
    assert.deepEqual(tree(root), before);
    assert.equal(accounts(root), accountsBefore);
  });
});
