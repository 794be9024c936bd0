/**
 * `npm run release`: the release bundle for air-gapped sites. Builds every release target
 * (`build/compile.ts`), then writes `dist/release/` holding the binaries, `install.sh`, a short
 * `INSTALL.txt` and `SHA256SUMS` over all of them, and `dist/tally-VERSION-offline.tar.gz` of that folder
 * (unpacking to `tally-VERSION/`): the one file a person carries across the air gap.
 *
 * Run with `bun build/release.ts [--root DIR] [--target bun-linux-x64 ...] [--no-build]`: `--target`
 * narrows the targets (all of {@link RELEASE_TARGETS} by default), `--no-build` assembles the binaries
 * already in `dist/`. The archive is reproducible: sorted names, owner 0, every mtime set to
 * `SOURCE_DATE_EPOCH` or else the commit's time, and a gzip header without a timestamp.
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { chmod, copyFile, mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { createGzip } from "node:zlib";
import { compile, RELEASE_TARGETS, REPO_ROOT, targetRuntime, writeChecksums } from "./compile.ts";

/** Options for {@link release}. */
export interface ReleaseOptions {
  /** The project root: its `package.json` names the version, its `install.sh` is shipped. */
  readonly root: string;
  /** Bun targets to ship, {@link RELEASE_TARGETS} by default. */
  readonly targets?: readonly string[];
  /** Where the binaries are built and the bundle written, `dist` (relative to the root) by default. */
  readonly outdir?: string;
  /** Where the binaries are built or found, `outdir` by default. */
  readonly bindir?: string;
  /** Whether to build the binaries first (true by default); false ships those already in `bindir`. */
  readonly build?: boolean;
  /** Every archived file's mtime, in seconds; `SOURCE_DATE_EPOCH`, else the commit's time, by default. */
  readonly mtime?: number;
}

/** What {@link release} wrote. */
export interface ReleaseOutput {
  /** The version, from `package.json`. */
  readonly version: string;
  /** The release folder, `dist/release`. */
  readonly dir: string;
  /** The files in it, sorted. */
  readonly files: readonly string[];
  /** The offline archive, `dist/tally-VERSION-offline.tar.gz`. */
  readonly archive: string;
}

/** Thrown when the release cannot be assembled. */
export class ReleaseError extends Error {
  /**
   * @param message What failed and the state found.
   * @param options The cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ReleaseError";
  }
}

/** What each binary is for, in the words `INSTALL.txt` uses; keyed by the binary's suffix. */
const TARGET_DESCRIPTIONS: Readonly<Record<string, string>> = {
  "linux-x64": "Linux x86-64, glibc (Debian, Ubuntu, RHEL, ...), CPUs with AVX2",
  "linux-x64-baseline": "Linux x86-64, glibc, older CPUs without AVX2",
  "linux-x64-musl": "Linux x86-64, musl (Alpine), CPUs with AVX2",
  "linux-x64-musl-baseline": "Linux x86-64, musl (Alpine), older CPUs without AVX2",
  "linux-arm64": "Linux arm64 (64-bit ARM: Raspberry Pi 4/5, Graviton, ...), glibc",
  "linux-arm64-musl": "Linux arm64, musl (Alpine)",
  "darwin-x64": "macOS on Intel",
  "darwin-arm64": "macOS on Apple silicon",
};

/**
 * Writes `INSTALL.txt`: which file is for which machine, and the commands to check and install offline.
 *
 * @param version The version.
 * @param binaries The binaries' file names.
 * @returns The text.
 */
export function installText(version: string, binaries: readonly string[]): string {
  const width = Math.max(...binaries.map((name) => name.length), "SHA256SUMS".length);
  const line = (name: string, what: string): string => `  ${name.padEnd(width)}  ${what}`;
  const rows = binaries.map((name) =>
    line(name, TARGET_DESCRIPTIONS[name.slice("tally-".length)] ?? "a tally binary")
  );
  return `tally ${version}: offline installation
${"=".repeat(`tally ${version}: offline installation`.length)}

Files
${rows.join("\n")}
${line("install.sh", "the installer (POSIX sh)")}
${line("SHA256SUMS", "the SHA-256 of every file here")}

Check the files, then install (as root: /usr/local/bin/tally, the tally user,
/etc/tally/tally.toml, /var/lib/tally and a systemd or OpenRC service; as another
user: ~/.local/bin/tally only):

  sha256sum -c --ignore-missing SHA256SUMS
  sh install.sh --file .

"--file ." picks this machine's binary from the folder; "--file ./tally-linux-arm64"
names one. Only that binary, install.sh and SHA256SUMS need to reach the machine:
install.sh checks the binary against SHA256SUMS beside it and refuses a mismatch.
"sh install.sh --dry-run --file ." shows each step without changing anything.

The musl builds need the C++ runtime: on Alpine, apk add libstdc++ libgcc.

Upgrade: run the same command with the new release's files; the binary is replaced
atomically, a running service restarted, /etc/tally and /var/lib/tally kept.
Uninstall: sh install.sh --uninstall (add --purge to remove the config, the data
and the tally user too).
`;
}

/**
 * Assembles the release folder and the offline archive.
 *
 * @param options The root, targets, output and binaries folders, and whether to build.
 * @returns The version, the folder, its files and the archive.
 * @throws {ReleaseError} When a binary or `install.sh` is missing, or `tar` fails.
 * @throws {import("./compile.ts").CompileError} When building a target fails.
 */
export async function release(options: ReleaseOptions): Promise<ReleaseOutput> {
  const root = resolve(options.root);
  const outdir = resolve(root, options.outdir ?? "dist");
  const bindir = resolve(root, options.bindir ?? outdir);
  const targets = options.targets ?? RELEASE_TARGETS;
  const version = await packageVersion(root);
  if (options.build !== false) await compile({ root, outdir: bindir, targets });

  const dir = join(outdir, "release");
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const binaries: string[] = [];
  for (const target of targets) {
    const name = `tally-${targetRuntime(target).suffix}`;
    const from = join(bindir, name);
    if (!existsSync(from)) {
      throw new ReleaseError(
        `Cannot assemble the release: "${relative(root, from)}" is missing (build it first)`,
      );
    }
    await copyFile(from, join(dir, name));
    await chmod(join(dir, name), 0o755);
    binaries.push(name);
  }
  const installer = join(root, "install.sh");
  if (!existsSync(installer)) {
    throw new ReleaseError(`Cannot assemble the release: "${installer}" is missing`);
  }
  await copyFile(installer, join(dir, "install.sh"));
  await chmod(join(dir, "install.sh"), 0o755);
  await writeFile(join(dir, "INSTALL.txt"), installText(version, binaries));
  const files = [...binaries, "install.sh", "INSTALL.txt"].sort();
  await writeChecksums(dir, files.map((name) => join(dir, name)));

  const archive = join(outdir, `tally-${version}-offline.tar.gz`);
  await writeArchive(dir, `tally-${version}`, archive, options.mtime ?? sourceDateEpoch(root));
  return { version, dir, files: [...files, "SHA256SUMS"].sort(), archive };
}

async function packageVersion(root: string): Promise<string> {
  const json: unknown = JSON.parse(await readFile(join(root, "package.json"), "utf8"));
  if (typeof json === "object" && json !== null && "version" in json && typeof json.version === "string") {
    return json.version;
  }
  throw new ReleaseError(`Cannot read the version: "${join(root, "package.json")}" has no "version"`);
}

function sourceDateEpoch(root: string): number {
  const fromEnv = Number(process.env["SOURCE_DATE_EPOCH"]);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  const git = spawnSync("git", ["log", "-1", "--format=%ct"], { cwd: root, encoding: "utf8" });
  const fromGit = Number(git.stdout?.trim());
  return git.status === 0 && Number.isInteger(fromGit) && fromGit > 0
    ? fromGit
    : Math.floor(Date.now() / 1000);
}

/**
 * Archives `dir` as `top/…` with GNU tar into a gzip stream (gzip through node:zlib, whose header carries
 * no timestamp).
 */
async function writeArchive(dir: string, top: string, archive: string, mtime: number): Promise<void> {
  const tar = spawn("tar", [
    "--create",
    "--sort=name",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    `--mtime=@${mtime}`,
    `--transform=s,^\\.,${top},`,
    "--file=-",
    "--directory",
    dir,
    ".",
  ], { stdio: ["ignore", "pipe", "pipe"] });
  const errors: Buffer[] = [];
  tar.stderr.on("data", (chunk: Buffer) => errors.push(chunk));
  const exited = new Promise<number>((resolveExit, reject) => {
    tar.on("error", reject);
    tar.on("close", (code) => resolveExit(code ?? 1));
  });
  await pipeline(tar.stdout, createGzip(), createWriteStream(archive));
  const code = await exited;
  if (code !== 0) {
    await rm(archive, { force: true });
    throw new ReleaseError(
      `Cannot write "${archive}": tar exited ${code}\n${Buffer.concat(errors).toString()}`,
    );
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      root: { type: "string" },
      target: { type: "string", multiple: true },
      "no-build": { type: "boolean" },
    },
    strict: true,
  });
  const root = resolve(values.root ?? REPO_ROOT);
  const started = performance.now();
  const output = await release({
    root,
    ...(values.target === undefined ? {} : { targets: values.target }),
    build: values["no-build"] !== true,
  });
  for (const name of output.files) {
    const bytes = (await stat(join(output.dir, name))).size;
    process.stderr.write(
      `release: ${relative(root, join(output.dir, name))} ${(bytes / 2 ** 20).toFixed(1)} MiB\n`,
    );
  }
  const archiveBytes = (await stat(output.archive)).size;
  process.stderr.write(
    `release: ${relative(root, output.archive)} ${(archiveBytes / 2 ** 20).toFixed(1)} MiB\n` +
      `release: tally ${output.version} done in ${Math.round(performance.now() - started)} ms\n`,
  );
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
