/**
 * What `npm test` runs (with Bun): builds `dist/` (bundle, executable, and the cross targets the
 * end-to-end tests install and run), runs `bun test` over `src/`, `tests/` and `build/`, runs the runtime
 * parity suite under Deno (`deno test -A tests/runtime/`), type-checks and lints the tree, checks the
 * manifests, and ends with exactly one line `N passed, N failed`.
 *
 * Counts come from each runner's JUnit report; a runner that wrote none is read from its console summary.
 * A failed build step, a failed manifest check or a runner that exited non-zero without a counted failure
 * adds one failure, so the closing line never reads clean over a broken run. Exits 1 when anything failed
 * or when no test ran at all.
 *
 * Everything the steps print is streamed as it comes; nothing is printed after the closing line.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { detectedTarget } from "./compile.ts";
import {
  addCounts,
  countBunSummary,
  countDenoSummary,
  countJunit,
  NO_TESTS,
  type TestCounts,
} from "./junit_counts.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url).href);
const BUN = "Bun" in globalThis ? process.execPath : join(ROOT, "node_modules", ".bin", "bun");
const DENO = join(ROOT, "node_modules", ".bin", "deno");
/** Folders `bun test` searches; the `./` makes Bun take them as paths, not name filters. */
const BUN_TEST_DIRS: readonly string[] = ["./src", "./tests", "./build"];
/** The runtime parity suite, run again under Deno. */
const DENO_TEST_DIR = "tests/runtime";
/** An upper bound for one hung test (end-to-end tests start processes on a busy 2-core machine). */
const BUN_TEST_TIMEOUT_MS = 30_000;
/**
 * The cross targets built once per run for `tests/e2e/` (install, release and target smoke tests): the
 * binary `install.sh` picks here, the x64 and x64-baseline builds (run natively), the x64 musl build (run
 * under Debian's musl loader where it can) and the arm64 build (run under qemu-aarch64-static). The Bun
 * executables come from npm with `npm pack`, cached in `node_modules/.cache`.
 */
const TEST_TARGETS: readonly string[] = [
  ...new Set([
    detectedTarget(),
    "bun-linux-x64",
    "bun-linux-x64-baseline",
    "bun-linux-x64-musl",
    "bun-linux-arm64",
  ]),
];
const TEST_FILE_REGEXP = /(?:[._]test|[._]spec)\.(?:[cm]?[jt]sx?)$/;

/** The outcome of one child process. */
interface StepResult {
  /** The exit code (1 when killed by a signal). */
  readonly code: number;
  /** Everything it printed, stdout and stderr interleaved. */
  readonly output: string;
}

/**
 * Runs a command with the repository as working directory, streaming its output through while keeping a
 * copy for the fallback summary parsers.
 */
function runStep(command: string, args: readonly string[]): Promise<StepResult> {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      process.stdout.write(chunk);
    });
    // Both streams go to our stdout, so that their order holds and the closing line is last in a log.
    child.stderr.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      process.stdout.write(chunk);
    });
    child.on("error", (error) => {
      const message = `Cannot run "${command}": ${error.message}\n`;
      process.stdout.write(message);
      resolvePromise({ code: 1, output: message });
    });
    child.on(
      "close",
      (code) => resolvePromise({ code: code ?? 1, output: Buffer.concat(chunks).toString() }),
    );
  });
}

function banner(title: string): void {
  process.stdout.write(`\n=== ${title}\n`);
}

async function readIfExists(path: string): Promise<string | undefined> {
  return existsSync(path) ? await readFile(path, "utf8") : undefined;
}

/**
 * Turns a runner's exit code and report into counts: the JUnit report when there is one, else the console
 * summary, and one failure more when the runner failed without a counted failure.
 */
function runnerCounts(
  name: string,
  result: StepResult,
  junit: string | undefined,
  fromJunit: (xml: string) => TestCounts,
  fromConsole: (output: string) => TestCounts | undefined,
): TestCounts {
  let counts = junit === undefined ? fromConsole(result.output) : fromJunit(junit);
  if (counts === undefined) {
    process.stdout.write(`test: ${name} left no report and no summary\n`);
    counts = NO_TESTS;
  }
  if (result.code !== 0 && counts.failed === 0) {
    process.stdout.write(
      `test: ${name} exited ${result.code} without a failed test; counted as one failure\n`,
    );
    counts = addCounts(counts, { passed: 0, failed: 1, skipped: 0 });
  }
  return counts;
}

function hasTestFiles(dir: string): boolean {
  if (!existsSync(dir)) return false;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && TEST_FILE_REGEXP.test(entry.name)) return true;
  }
  return false;
}

/** Every `.ts` file under the given folders of the repository, as paths relative to its root. */
function typeScriptFiles(dirs: readonly string[]): string[] {
  const files: string[] = [];
  for (const dir of dirs) {
    for (const entry of readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith(".ts")) files.push(join(entry.parentPath, entry.name));
    }
  }
  return files.sort();
}

async function main(): Promise<number> {
  const reports = await mkdtemp(join(tmpdir(), "tally-test-"));
  let total: TestCounts = NO_TESTS;
  const failedSteps: string[] = [];
  try {
    const targetArgs = TEST_TARGETS.flatMap((target) => ["--target", target]);
    for (
      const [title, args] of [
        ["bundle", ["build/bundle.ts"]],
        ["compile", ["build/compile.ts"]],
        ["compile targets", ["build/compile.ts", ...targetArgs]],
      ] as const
    ) {
      banner(`${title}: bun ${args.join(" ")}`);
      if ((await runStep(BUN, args)).code !== 0) failedSteps.push(title.replace(" ", "_"));
    }

    banner(`bun test ${BUN_TEST_DIRS.join(" ")}`);
    const bunJunit = join(reports, "bun.xml");
    const bunResult = await runStep(BUN, [
      "test",
      `--timeout=${BUN_TEST_TIMEOUT_MS}`,
      "--reporter=junit",
      `--reporter-outfile=${bunJunit}`,
      ...BUN_TEST_DIRS,
    ]);
    const bunCounts = runnerCounts(
      "bun test",
      bunResult,
      await readIfExists(bunJunit),
      countJunit,
      countBunSummary,
    );
    total = addCounts(total, bunCounts);

    banner(`deno test -A ${DENO_TEST_DIR}/`);
    if (hasTestFiles(join(ROOT, DENO_TEST_DIR))) {
      const denoJunit = join(reports, "deno.xml");
      const denoResult = await runStep(DENO, [
        "test",
        "-A",
        `--junit-path=${denoJunit}`,
        `${DENO_TEST_DIR}/`,
      ]);
      const denoCounts = runnerCounts(
        "deno test",
        denoResult,
        await readIfExists(denoJunit),
        (xml) => countJunit(xml, { leavesOnly: true }),
        countDenoSummary,
      );
      total = addCounts(total, denoCounts);
    } else {
      process.stdout.write(`no test files in ${DENO_TEST_DIR}/, skipped\n`);
    }

    // Bun runs TypeScript without checking it, so a type error in a test or a build script would pass
    // unnoticed; deno check holds the whole tree to the strict compiler options in deno.json.
    banner("deno check src tests build");
    if ((await runStep(DENO, ["check", ...typeScriptFiles(["src", "tests", "build"])])).code !== 0) {
      failedSteps.push("deno_check");
    }

    // An unused import or a stray `any` passes both the checker and the runners; deno lint (the rules in
    // deno.json) is what `npm run lint` runs, held here so that main cannot drift from it unnoticed.
    banner("deno lint");
    if ((await runStep(DENO, ["lint"])).code !== 0) failedSteps.push("deno_lint");

    banner("bun build/check_manifests.ts");
    if ((await runStep(BUN, ["build/check_manifests.ts"])).code !== 0) failedSteps.push("check_manifests");
  } finally {
    await rm(reports, { recursive: true, force: true });
  }

  const failed = total.failed + failedSteps.length;
  banner("summary");
  if (failedSteps.length > 0) process.stdout.write(`failed steps: ${failedSteps.join(", ")}\n`);
  if (total.skipped > 0) process.stdout.write(`${total.skipped} skipped\n`);
  if (total.passed + total.failed === 0) process.stdout.write("no test ran\n");
  process.stdout.write(`${total.passed} passed, ${failed} failed\n`);
  return failed > 0 || total.passed + total.failed === 0 ? 1 : 0;
}

process.exitCode = await main();
