/**
 * What the install tests share: a release assembled once per test run from the binaries `npm test`
 * built (`build/release.ts` into a temporary folder, never over `dist/release`), a way to run
 * `install.sh` without blocking the event loop of the loopback server it downloads from, a staged root
 * for the root branch, and a `PATH` without some tools.
 *
 * Guard: when the tests run as root, {@link runInstall} refuses any run that could touch the real
 * system (no `TALLY_ROOT`, or no `--prefix` together with `--no-service`/`--uninstall`).
 *
 * @module
 */
import { spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { detectedTarget, sha256File, targetRuntime } from "../../build/compile.ts";
import { release } from "../../build/release.ts";
import { REPO_ROOT } from "./spawn_tally.ts";

/** The installer in the repository. */
export const INSTALL_SH: string = join(REPO_ROOT, "install.sh");

/** Whether the tests run as root (the root branch of `install.sh` needs it: useradd, chown). */
export const IS_ROOT: boolean = process.getuid?.() === 0;

/** A release assembled for the tests. */
export interface TestRelease {
  /** The version, from `package.json`. */
  readonly version: string;
  /** The release folder: the binary, `install.sh`, `INSTALL.txt`, `SHA256SUMS`. */
  readonly dir: string;
  /** The offline archive of it. */
  readonly archive: string;
  /** The binary `install.sh` picks on this machine, e.g. `tally-linux-x64`. */
  readonly asset: string;
}

let releasePromise: Promise<TestRelease> | undefined;

/**
 * The release for this machine's target, assembled on first use from `dist/` (built by `npm test`) and
 * removed when the process exits.
 *
 * @returns The release.
 * @throws {Error} When `dist/` lacks the binary (run `npm test`, or `bun build/compile.ts --target …`).
 */
export function testRelease(): Promise<TestRelease> {
  releasePromise ??= assembleRelease();
  return releasePromise;
}

async function assembleRelease(): Promise<TestRelease> {
  const target = detectedTarget();
  const asset = `tally-${targetRuntime(target).suffix}`;
  const outdir = mkdtempSync(join(tmpdir(), "tally-release-"));
  process.once("exit", () => rmSync(outdir, { recursive: true, force: true }));
  const output = await release({
    root: REPO_ROOT,
    targets: [target],
    bindir: join(REPO_ROOT, "dist"),
    outdir,
    build: false,
  });
  return { version: output.version, dir: output.dir, archive: output.archive, asset };
}

/**
 * A copy of a release folder (its binary, `install.sh` and `SHA256SUMS`) with one change, to serve under
 * its own prefix: a tampered binary, a tampered checksum line.
 *
 * @param release The release.
 * @param change Changes the copy's folder.
 * @returns The copy's folder.
 */
export function releaseVariant(release: TestRelease, change: (dir: string) => void): string {
  const dir = tempDir("tally-variant-");
  for (const name of ["SHA256SUMS", "install.sh", release.asset]) {
    copyFileSync(join(release.dir, name), join(dir, name));
  }
  change(dir);
  return dir;
}

/**
 * A release of the same version whose binary is another build (`dist/tally`, the host build, stamped
 * with another name): what an upgrade replaces.
 *
 * @param release The release.
 * @returns The folder, with a `SHA256SUMS` of its own.
 */
export async function olderBuild(release: TestRelease): Promise<string> {
  const dir = releaseVariant(release, (copy) => {
    copyFileSync(join(REPO_ROOT, "dist", "tally"), join(copy, release.asset));
  });
  writeFileSync(join(dir, "SHA256SUMS"), `${await sha256File(join(dir, release.asset))}  ${release.asset}\n`);
  return dir;
}

/** How a shell command ended. */
export interface ShellResult {
  /** The exit code (1 when killed by a signal). */
  readonly code: number;
  /** Its standard output. */
  readonly stdout: string;
  /** Its standard error. */
  readonly stderr: string;
}

/** Options for {@link runInstall} and {@link runShell}. */
export interface ShellOptions {
  /**
   * The environment on top of a clean one (`PATH`, `HOME` set to a fresh temporary folder, `TMPDIR`); the
   * caller's `TALLY_*` variables never leak in.
   */
  readonly env?: Readonly<Record<string, string>>;
  /** The working directory. */
  readonly cwd?: string;
}

const made: string[] = [];

/**
 * A temporary folder removed when the process exits.
 *
 * @param prefix The name's start.
 * @returns The path.
 */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (made.length === 0) {
    process.once("exit", () => {
      for (const path of made) rmSync(path, { recursive: true, force: true });
    });
  }
  made.push(dir);
  return dir;
}

/**
 * Runs a shell script with `sh -c`, asynchronously.
 *
 * @param script The script.
 * @param options The environment and working directory.
 * @returns Its exit code and output.
 */
export function runShell(script: string, options: ShellOptions = {}): Promise<ShellResult> {
  return runCommand(["sh", "-c", script], options);
}

/**
 * Runs `sh install.sh ARGS`, asynchronously.
 *
 * @param args The installer's arguments.
 * @param options The environment and working directory; `installer` another copy of the script.
 * @returns Its exit code and output.
 * @throws {Error} As root, for a run that could change the real system.
 */
export function runInstall(
  args: readonly string[],
  options: ShellOptions & { readonly installer?: string } = {},
): Promise<ShellResult> {
  if (IS_ROOT && options.env?.["TALLY_ROOT"] === undefined) {
    const confined = args.includes("--prefix") &&
      (args.includes("--no-service") || args.includes("--uninstall") || args.includes("--help"));
    if (!confined) {
      throw new Error(
        `Refusing to run install.sh ${args.join(" ")} as root outside TALLY_ROOT: it would change the system`,
      );
    }
  }
  return runCommand(["sh", options.installer ?? INSTALL_SH, ...args], options);
}

function runCommand(argv: readonly string[], options: ShellOptions): Promise<ShellResult> {
  const home = tempDir("tally-home-");
  const env: Record<string, string> = {
    PATH: process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
    HOME: home,
    TMPDIR: tmpdir(),
    LC_ALL: "C",
    ...options.env,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: options.cwd ?? home,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      });
    });
  });
}

/**
 * A `PATH` whose one folder links every command of the current `PATH` except `names`: a machine without
 * curl, or without any SHA-256 tool.
 *
 * @param names The commands left out.
 * @returns The `PATH` value.
 */
export function pathWithout(names: readonly string[]): string {
  const dir = tempDir("tally-path-");
  const skip = new Set(names);
  for (const folder of (process.env["PATH"] ?? "/usr/bin:/bin").split(delimiter)) {
    if (!existsSync(folder)) continue;
    for (const name of readdirSync(folder)) {
      if (skip.has(name) || existsSync(join(dir, name))) continue;
      symlinkSync(join(folder, name), join(dir, name));
    }
  }
  return dir;
}

/**
 * A staged root for the root branch: `etc/` holds copies of this system's account files (so that
 * `useradd --prefix` works there) and the systemd unit folder links this system's (so that
 * `systemd-analyze verify --root` finds the targets a unit names).
 *
 * @returns The root's path.
 */
export function stagedRoot(): string {
  const root = tempDir("tally-root-");
  mkdirSync(join(root, "etc"));
  for (const name of ["passwd", "group", "shadow", "gshadow", "login.defs"]) {
    if (existsSync(join("/etc", name))) copyFileSync(join("/etc", name), join(root, "etc", name));
  }
  return root;
}

/**
 * Links this system's systemd unit folder into a staged root, for `systemd-analyze verify --root`.
 *
 * @param root The staged root.
 * @returns Whether the system has one to link.
 */
export function linkSystemdUnits(root: string): boolean {
  const units = ["/usr/lib/systemd/system", "/lib/systemd/system"].find((path) => existsSync(path));
  if (units === undefined) return false;
  mkdirSync(join(root, "usr", "lib", "systemd"), { recursive: true });
  symlinkSync(units, join(root, "usr", "lib", "systemd", "system"));
  return true;
}
