/**
 * Compiles tally into one self-contained executable per target with `bun build --compile`, the pipeline
 * worker embedded as a second entrypoint, and writes `dist/SHA256SUMS`.
 *
 * Run with `bun build/compile.ts [--root DIR] [--target bun-linux-arm64 ...] [--all] [--no-bytecode]`.
 * With no `--target` it builds `dist/tally` for the host with the running Bun; `--all` builds every
 * {@link RELEASE_TARGETS} (`npm run build:all`). A target is built as `dist/tally-<os>-<arch>[-variant]`
 * from the npm-published Bun executable for that target, passed with `--compile-executable-path` so that
 * Bun never downloads a runtime by itself.
 *
 * Every executable is minified and carries JavaScriptCore bytecode (`--bytecode`): `tally version`
 * starts about three times faster and `tally run` becomes ready sooner, for about 3 MB more per
 * executable (figures in `docs/BENCHMARKS.md`, from `tests/bench/startup.ts --compare-bytecode`). The
 * bytecode build is ESM (`--format=esm`): Bun's default CommonJS bytecode build bakes the build machine's
 * source paths into `import.meta.url`, which breaks the worker's lookup below. The commit and the target
 * are stamped in for `tally version` (`build/build_info.ts`).
 *
 * Inside the executable the entrypoints live under `/$bunfs/root/`, relative to their common folder
 * (`src/`): the main is `file:///$bunfs/root/tally` (named after the output file) and the worker is
 * `file:///$bunfs/root/pipeline/worker_main.js`. `src/pipeline/pool.ts` relies on that layout.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildCommit, buildDefines } from "./build_info.ts";

/** tally's entrypoints: the CLI first (it names the executable), then the pipeline worker. */
export const TALLY_COMPILE_ENTRIES: readonly string[] = ["src/main.ts", "src/pipeline/worker_main.ts"];

/** The repository root, one folder above this file; its `node_modules` provides the tools. */
export const REPO_ROOT: string = fileURLToPath(new URL("..", import.meta.url).href);

/**
 * What `npm run build:all` builds: every Linux and macOS Bun executable npm publishes at the pinned
 * version. The `baseline` builds are for x64 CPUs without AVX2 (older Atom and Celeron gateways);
 * `install.sh` picks them when `/proc/cpuinfo` lacks `avx2`. Left out: `bun-darwin-x64-baseline` (every
 * Mac that runs a macOS Bun supports still has AVX2) and Windows (tally's listeners and install.sh are
 * POSIX).
 */
export const RELEASE_TARGETS: readonly string[] = [
  "bun-linux-x64",
  "bun-linux-x64-baseline",
  "bun-linux-x64-musl",
  "bun-linux-x64-musl-baseline",
  "bun-linux-arm64",
  "bun-linux-arm64-musl",
  "bun-darwin-x64",
  "bun-darwin-arm64",
];

/** Where a compile target's Bun executable comes from. */
export interface TargetRuntime {
  /** The Bun target, e.g. `bun-linux-arm64`. */
  readonly target: string;
  /** The npm package that publishes the Bun executable for it, e.g. `@oven/bun-linux-aarch64`. */
  readonly packageName: string;
  /** The executable's path inside that package. */
  readonly binPath: string;
  /** The suffix of the output file, e.g. `linux-arm64`. */
  readonly suffix: string;
}

/** Options for {@link compile}. */
export interface CompileOptions {
  /** The project root; entries and `outdir` are relative to it. */
  readonly root: string;
  /** The entrypoints, main first; tally's by default. */
  readonly entries?: readonly string[];
  /** The output folder, `dist` by default. */
  readonly outdir?: string;
  /** The executable's base name, `tally` by default. */
  readonly name?: string;
  /** Bun targets to build; the host alone (with the running Bun) when empty or absent. */
  readonly targets?: readonly string[];
  /** The Bun that runs `bun build`; the running one under Bun, else the repository's. */
  readonly bun?: string;
  /** Where cross-target Bun executables fetched with `npm pack` are kept. */
  readonly cacheDir?: string;
  /** Whether to embed bytecode, true by default (`false` only to measure the difference). */
  readonly bytecode?: boolean;
  /** The commit stamped in, {@link buildCommit}'s reading of `root` by default. */
  readonly commit?: string;
}

/** One compiled executable. */
export interface CompileOutput {
  /** The Bun target, or `host`. */
  readonly target: string;
  /** The absolute path of the executable. */
  readonly path: string;
  /** Its size in bytes. */
  readonly bytes: number;
  /** Its SHA-256, hex. */
  readonly sha256: string;
}

/** Bun targets and the npm packages that publish their executables (the `bun` package's optional deps). */
const TARGET_PACKAGES: Readonly<Record<string, string>> = {
  "bun-linux-x64": "@oven/bun-linux-x64",
  "bun-linux-x64-baseline": "@oven/bun-linux-x64-baseline",
  "bun-linux-x64-musl": "@oven/bun-linux-x64-musl",
  "bun-linux-x64-musl-baseline": "@oven/bun-linux-x64-musl-baseline",
  "bun-linux-arm64": "@oven/bun-linux-aarch64",
  "bun-linux-arm64-musl": "@oven/bun-linux-aarch64-musl",
  "bun-darwin-x64": "@oven/bun-darwin-x64",
  "bun-darwin-x64-baseline": "@oven/bun-darwin-x64-baseline",
  "bun-darwin-arm64": "@oven/bun-darwin-aarch64",
  "bun-windows-x64": "@oven/bun-windows-x64",
  "bun-windows-x64-baseline": "@oven/bun-windows-x64-baseline",
  "bun-windows-arm64": "@oven/bun-windows-aarch64",
};

/** Thrown when a target is unknown or its Bun executable cannot be had. */
export class CompileError extends Error {
  /**
   * @param message What failed and the state found.
   * @param options The cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CompileError";
  }
}

/**
 * Describes where the Bun executable for `target` comes from.
 *
 * @param target A Bun target such as `bun-linux-arm64`.
 * @returns The package, the executable's path in it, and the output suffix.
 * @throws {CompileError} When the target is not one Bun publishes on npm.
 */
export function targetRuntime(target: string): TargetRuntime {
  const packageName = TARGET_PACKAGES[target];
  if (packageName === undefined) {
    throw new CompileError(
      `Cannot compile for target "${target}": unknown target, expected one of ${
        Object.keys(TARGET_PACKAGES).join(", ")
      }`,
    );
  }
  const binPath = target.startsWith("bun-windows-") ? "bin/bun.exe" : "bin/bun";
  const suffix = target.slice("bun-".length) + (target.startsWith("bun-windows-") ? ".exe" : "");
  return { target, packageName, binPath, suffix };
}

/**
 * Computes a file's SHA-256.
 *
 * @param path The file.
 * @returns The digest, lowercase hex.
 */
export async function sha256File(path: string): Promise<string> {
  return createHash("sha256").update(await readFile(path)).digest("hex");
}

/**
 * Writes `SHA256SUMS` in `dir` in the format `sha256sum -c` reads (`<hex>  <name>` per line, sorted by
 * name). Files already listed there that still exist stay listed, so building the host and then a cross
 * target leaves both in one file; every listed file is hashed afresh.
 *
 * @param dir The folder holding the files.
 * @param paths The files to add (they must be inside `dir`).
 * @returns The path of the written file.
 */
export async function writeChecksums(dir: string, paths: readonly string[]): Promise<string> {
  const path = join(dir, "SHA256SUMS");
  const names = new Set(paths.map((file) => relative(dir, file)));
  if (existsSync(path)) {
    for (const line of (await readFile(path, "utf8")).split("\n")) {
      const name = line.slice(SHA256_HEX_LENGTH + 2);
      if (name !== "" && existsSync(join(dir, name))) names.add(name);
    }
  }
  const lines: string[] = [];
  for (const name of [...names].sort()) lines.push(`${await sha256File(join(dir, name))}  ${name}`);
  await writeFile(path, lines.join("\n") + "\n");
  return path;
}

const SHA256_HEX_LENGTH = 64;

/**
 * The Bun target of the machine this runs on (glibc, non-baseline), e.g. `bun-linux-x64`.
 *
 * @returns The target name.
 */
export function hostTarget(): string {
  const os = process.platform === "win32" ? "windows" : process.platform;
  return `bun-${os}-${process.arch}`;
}

/**
 * The release target `install.sh` picks on this machine: the host's OS and CPU, `-musl` where the C
 * library is musl, `-baseline` on an x64 Linux CPU without AVX2.
 *
 * @returns A target such as `bun-linux-x64`.
 */
export function detectedTarget(): string {
  let target = hostTarget();
  if (process.platform !== "linux") return target;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  // A runtime linked against musl reports no glibc version.
  if (report?.header?.glibcVersionRuntime === undefined) target += "-musl";
  if (process.arch === "x64" && !readFileSyncOr("/proc/cpuinfo").includes("avx2")) target += "-baseline";
  return target;
}

function readFileSyncOr(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

/**
 * Compiles the entries into one executable per target and writes `SHA256SUMS` beside them.
 *
 * @param options The root, entries, output folder and targets.
 * @returns The executables, in target order.
 * @throws {CompileError} When a target is unknown, its Bun executable cannot be had, or `bun build` fails.
 */
export async function compile(options: CompileOptions): Promise<readonly CompileOutput[]> {
  const root = resolve(options.root);
  const entries = options.entries ?? TALLY_COMPILE_ENTRIES;
  const outdir = resolve(root, options.outdir ?? "dist");
  const name = options.name ?? "tally";
  const bun = options.bun ?? defaultBun();
  const cacheDir = options.cacheDir ?? join(REPO_ROOT, "node_modules", ".cache", "tally-bun-targets");
  const targets = options.targets ?? [];
  const commit = options.commit ?? buildCommit(root);
  const flags = options.bytecode === false ? COMPILE_FLAGS : [...COMPILE_FLAGS, ...BYTECODE_FLAGS];
  await mkdir(outdir, { recursive: true });
  const outputs: CompileOutput[] = [];
  if (targets.length === 0) {
    const path = join(outdir, name);
    const stamp = defineFlags(commit, targetRuntime(hostTarget()).suffix);
    await runBunBuild(bun, root, entries, path, [...flags, ...stamp]);
    outputs.push(await describeOutput("host", path));
  }
  for (const target of targets) {
    const runtime = targetRuntime(target);
    // The running Bun is the published executable for the host target: no need to fetch it again.
    const executable = target === hostTarget()
      ? bun
      : await targetExecutable(runtime, await bunVersion(bun), cacheDir);
    const path = join(outdir, `${name}-${runtime.suffix}`);
    await runBunBuild(bun, root, entries, path, [
      ...flags,
      ...defineFlags(commit, runtime.suffix),
      `--target=${target}`,
      `--compile-executable-path=${executable}`,
    ]);
    outputs.push(await describeOutput(target, path));
  }
  await writeChecksums(outdir, outputs.map((output) => output.path));
  return outputs;
}

function defaultBun(): string {
  return "Bun" in globalThis ? process.execPath : join(REPO_ROOT, "node_modules", ".bin", "bun");
}

async function describeOutput(target: string, path: string): Promise<CompileOutput> {
  return { target, path, bytes: (await stat(path)).size, sha256: await sha256File(path) };
}

/**
 * The executable must not read a stray `.env` or `bunfig.toml` from whatever folder it is started in: a
 * collector's configuration comes from its config file and flags only.
 */
const COMPILE_FLAGS: readonly string[] = [
  "build",
  "--compile",
  "--minify",
  "--no-compile-autoload-dotenv",
  "--no-compile-autoload-bunfig",
];

/** See the module comment: bytecode cuts start-up; ESM keeps `import.meta.url` inside the executable. */
const BYTECODE_FLAGS: readonly string[] = ["--bytecode", "--format=esm"];

function defineFlags(commit: string, target: string): string[] {
  return Object.entries(buildDefines({ commit, target })).map(([key, value]) => `--define=${key}=${value}`);
}

async function runBunBuild(
  bun: string,
  root: string,
  entries: readonly string[],
  outfile: string,
  extra: readonly string[],
): Promise<void> {
  const args = [...extra, ...entries, `--outfile=${outfile}`];
  const { code, output } = await run(bun, args, root);
  if (code !== 0) {
    throw new CompileError(
      `Cannot compile "${relative(root, outfile)}": bun build exited ${code}\n${output}`,
    );
  }
}

async function bunVersion(bun: string): Promise<string> {
  const { code, output } = await run(bun, ["--version"], REPO_ROOT);
  if (code !== 0) throw new CompileError(`Cannot read the Bun version of "${bun}": exited ${code}`);
  return output.trim();
}

/**
 * Finds the target's Bun executable: an installed `node_modules/@oven/…` package first, then the cache,
 * else fetches the package with `npm pack` (the ordinary npm client; npm refuses to install a package
 * for another CPU as a dependency, so it cannot come from `package.json`).
 */
async function targetExecutable(runtime: TargetRuntime, version: string, cacheDir: string): Promise<string> {
  const installed = join(REPO_ROOT, "node_modules", runtime.packageName, runtime.binPath);
  if (existsSync(installed) && (await packageVersion(dirname(dirname(installed)))) === version) {
    return installed;
  }
  const unpacked = join(cacheDir, `${runtime.packageName.replace("/", "+")}@${version}`);
  const cached = join(unpacked, "package", runtime.binPath);
  if (existsSync(cached)) return cached;
  await mkdir(unpacked, { recursive: true });
  const spec = `${runtime.packageName}@${version}`;
  process.stderr.write(`compile: fetching ${spec} with npm pack\n`);
  const packed = await run("npm", ["pack", spec, "--json", "--pack-destination", unpacked], unpacked);
  const tarball = packed.code === 0 ? packFilename(packed.stdout) : undefined;
  if (tarball === undefined) {
    throw new CompileError(`Cannot fetch "${spec}" with npm pack: exited ${packed.code}\n${packed.output}`);
  }
  const untar = await run("tar", ["-xzf", join(unpacked, basename(tarball)), "-C", unpacked], unpacked);
  await rm(join(unpacked, basename(tarball)), { force: true });
  if (untar.code !== 0 || !existsSync(cached)) {
    throw new CompileError(`Cannot unpack "${tarball}": tar exited ${untar.code}, "${cached}" missing`);
  }
  return cached;
}

function packFilename(stdout: string): string | undefined {
  try {
    const json: unknown = JSON.parse(stdout);
    const first: unknown = Array.isArray(json) ? json[0] : undefined;
    if (
      typeof first === "object" && first !== null && "filename" in first && typeof first.filename === "string"
    ) {
      return first.filename;
    }
  } catch {
    // npm printed something else than its JSON report: treated as a failed fetch.
  }
  return undefined;
}

async function packageVersion(dir: string): Promise<string | undefined> {
  try {
    const json: unknown = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
    if (typeof json === "object" && json !== null && "version" in json && typeof json.version === "string") {
      return json.version;
    }
  } catch {
    // A missing or unreadable package.json means "not installed".
  }
  return undefined;
}

interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly output: string;
}

function run(
  command: string,
  args: readonly string[],
  cwd: string,
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const all: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => {
      out.push(chunk);
      all.push(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => all.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      resolvePromise({
        code: code ?? 1,
        stdout: Buffer.concat(out).toString(),
        output: Buffer.concat(all).toString(),
      });
    });
  });
}

function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      root: { type: "string" },
      target: { type: "string", multiple: true },
      all: { type: "boolean" },
      "no-bytecode": { type: "boolean" },
    },
    strict: true,
  });
  const root = resolve(values.root ?? REPO_ROOT);
  const started = performance.now();
  const targets = values.all === true ? RELEASE_TARGETS : values.target ?? [];
  const outputs = await compile({ root, targets, bytecode: values["no-bytecode"] !== true });
  const ms = Math.round(performance.now() - started);
  for (const output of outputs) {
    process.stderr.write(
      `compile: ${relative(root, output.path)} ${formatMiB(output.bytes)} (${output.target})\n`,
    );
  }
  process.stderr.write(`compile: wrote dist/SHA256SUMS\n`);
  process.stderr.write(`compile: done in ${ms} ms\n`);
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
