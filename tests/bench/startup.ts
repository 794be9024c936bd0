/**
 * Start-up and idle footprint of tally's executables: size on disk, `tally version` wall time (spawn to
 * exit, the cost of every short CLI command), and for `tally run` with defaults the time from spawn to
 * `/readyz` answering 200 and the idle resident memory (`VmRSS`, split into `RssAnon` and `RssFile`) after
 * it settled. A benchmark program, not a test:
 *
 * ```sh
 * bun tests/bench/startup.ts [--runs 30] [--run-runs 3] [--settle-ms 5000] [--compare-bytecode] [EXECUTABLE...]
 * ```
 *
 * With no executable it measures `dist/tally`. `--compare-bytecode` first compiles the host executable
 * twice into a temporary folder, with and without `--bytecode` (`build/compile.ts`), and measures both:
 * the measurement behind the build's choice. Executables run in turn (A B A B …) so drift on a shared
 * machine spreads over all of them; the load average is printed before and after.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { compile } from "../../build/compile.ts";
import { REPO_ROOT, spawnTally } from "../harness/spawn_tally.ts";

/** One executable's figures. */
interface Figures {
  readonly label: string;
  readonly bytes: number;
  readonly versionMs: number[];
  readonly readyMs: number[];
  readonly rssKiB: number[];
  readonly anonKiB: number[];
  readonly fileKiB: number[];
}

const STATUS_REGEXP = /^(VmRSS|RssAnon|RssFile):\s+(\d+)\s+kB$/gm;
const VERSION_WARMUP = 3;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: "string", default: "30" },
    "run-runs": { type: "string", default: "3" },
    "settle-ms": { type: "string", default: "5000" },
    "compare-bytecode": { type: "boolean", default: false },
  },
});
const runs = Number(values.runs);
const runRuns = Number(values["run-runs"]);
const settleMs = Number(values["settle-ms"]);

function median(list: readonly number[]): number {
  const sorted = [...list].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : ((sorted[mid - 1]! + sorted[mid]!) / 2);
}

function spread(list: readonly number[], digits = 1): string {
  if (list.length === 0) return "–";
  return `${median(list).toFixed(digits)} (${Math.min(...list).toFixed(digits)}–${
    Math.max(...list).toFixed(digits)
  })`;
}

function versionOnce(executable: string): number {
  const started = performance.now();
  const result = spawnSync(executable, ["version"], { stdio: ["ignore", "pipe", "pipe"] });
  const ms = performance.now() - started;
  if (result.status !== 0) {
    throw new Error(`Cannot run "${executable} version": exit ${result.status}\n${result.stderr}`);
  }
  return ms;
}

function memoryKiB(pid: number): Record<string, number> {
  const found: Record<string, number> = {};
  for (const match of readFileSync(`/proc/${pid}/status`, "utf8").matchAll(STATUS_REGEXP)) {
    found[match[1]!] = Number(match[2]);
  }
  return found;
}

async function runOnce(executable: string, figures: Figures): Promise<void> {
  const started = performance.now();
  const tally = await spawnTally({ command: [executable] });
  figures.readyMs.push(performance.now() - started);
  try {
    await new Promise((resolveWait) => setTimeout(resolveWait, settleMs));
    const memory = memoryKiB(tally.pid);
    figures.rssKiB.push(memory["VmRSS"] ?? Number.NaN);
    figures.anonKiB.push(memory["RssAnon"] ?? Number.NaN);
    figures.fileKiB.push(memory["RssFile"] ?? Number.NaN);
  } finally {
    await tally.stop();
  }
}

function mib(kib: readonly number[]): number[] {
  return kib.map((value) => value / 1024);
}

async function main(): Promise<void> {
  const executables: { label: string; path: string }[] = [];
  let scratch: string | undefined;
  if (values["compare-bytecode"]) {
    scratch = await mkdtemp(join(tmpdir(), "tally-bench-startup-"));
    for (const bytecode of [true, false]) {
      const name = bytecode ? "tally-bytecode" : "tally-no-bytecode";
      const [output] = await compile({ root: REPO_ROOT, outdir: scratch, name, bytecode });
      executables.push({ label: name, path: output!.path });
    }
  }
  const given = positionals.length > 0 || scratch !== undefined ? positionals : ["dist/tally"];
  for (const path of given) {
    const absolute = resolve(path);
    if (!existsSync(absolute)) throw new Error(`Cannot benchmark "${path}": no such file (npm run build)`);
    executables.push({ label: relative(REPO_ROOT, absolute), path: absolute });
  }
  const all: Figures[] = executables.map(({ label, path }) => ({
    label,
    bytes: statSync(path).size,
    versionMs: [],
    readyMs: [],
    rssKiB: [],
    anonKiB: [],
    fileKiB: [],
  }));
  const loadBefore = loadavg();
  try {
    for (let i = 0; i < VERSION_WARMUP; i++) for (const { path } of executables) versionOnce(path);
    for (let i = 0; i < runs; i++) {
      executables.forEach(({ path }, index) => all[index]!.versionMs.push(versionOnce(path)));
    }
    for (let i = 0; i < runRuns; i++) {
      for (const [index, { path }] of executables.entries()) await runOnce(path, all[index]!);
    }
  } finally {
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  }
  const loadAfter = loadavg();

  const load = (avg: number[]): string => avg.map((value) => value.toFixed(2)).join(", ");
  console.log(`tally start-up and idle footprint, ${new Date().toISOString()}`);
  console.log(
    `machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? "unknown"}), ${
      (totalmem() / 2 ** 30).toFixed(1)
    } GiB, Linux ${release()}`,
  );
  console.log(`command: bun tests/bench/startup.ts ${process.argv.slice(2).join(" ")}`.trimEnd());
  console.log(`load average before: ${load(loadBefore)}; after: ${load(loadAfter)}`);
  console.log(
    `version: ${runs} runs each after ${VERSION_WARMUP} warm-up; run: ${runRuns} runs each, memory read ${settleMs} ms after ready`,
  );
  console.log("figures: median (min–max)\n");
  console.log(
    "| executable | size | `tally version` ms | `tally run` spawn → ready ms | idle VmRSS MiB | RssAnon MiB | RssFile MiB |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const f of all) {
    const size = `${(f.bytes / 1e6).toFixed(1)} MB (${(f.bytes / 2 ** 20).toFixed(1)} MiB)`;
    console.log(
      `| ${f.label} | ${size} | ${spread(f.versionMs)} | ${spread(f.readyMs, 0)} | ${
        spread(mib(f.rssKiB))
      } | ${spread(mib(f.anonKiB))} | ${spread(mib(f.fileKiB))} |`,
    );
  }
  console.log(
    `\n${
      JSON.stringify({
        benchmark: "startup",
        date: new Date().toISOString(),
        loadBefore,
        loadAfter,
        figures: all,
      })
    }`,
  );
}

await main();
