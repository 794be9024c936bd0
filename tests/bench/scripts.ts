/**
 * Scripts benchmark (issue 4): 500 short CoScale scripts a minute plus 20 that always hang. It measures
 * how soon past the hard limit a hung script's whole process group is gone (target ≤ 50 ms at p99), what
 * the load costs tally in CPU and memory, and that no process any script started is left behind. A
 * program, not a test: it prints figures (a plain-text report, then one JSON document) and asserts
 * nothing. Method: `tests/bench/scripts/README.md`.
 *
 * Two phases, each `--seconds` long (default 60):
 *
 * - **binary**: `dist/tally run` with a generated config: the short scripts and the hung ones (period
 *   60 s, default 5 s limit, default `max_concurrent`), interleaved. tally's CPU from `/proc/PID/stat`
 *   (utime + stime, all threads; the scripts' own CPU, reaped children, apart), RSS every second from
 *   `/proc/PID/status`, the run counters from its self-metrics (`tally_script_*`; each hung script's last
 *   `tally_script_duration_seconds` minus the limit is the sandbox's own view of its kill latency), and
 *   beside it an idle baseline (the same binary with one short script). After tally stops, `/proc` is
 *   scanned for any process that carries the benchmark's environment marker.
 * - **kill**: in this process, `ScriptsInput` runs the short scripts while `--hang-slots` loops run
 *   `hang.sh` through `runSandboxed` with a short `--kill-limit`, back to back. A worker thread
 *   (`scripts/observer.ts`) polls `/proc` for each run's processes (pids from the script's pid file,
 *   checked by start time) about every millisecond and reports the first moment none runs; the deadline
 *   is the sandbox's own start plus the limit (`resolve time − durationMs + limit`). Kill latency is that
 *   moment minus the deadline; negative means gone before the limit, as designed (SIGKILL goes 25 ms
 *   early). Every run is also checked at the moment `runSandboxed` resolves: none of its processes may
 *   still run.
 *
 * Run from the repository root, after `npm run build`:
 *
 *   ./node_modules/.bin/bun tests/bench/scripts.ts [--seconds 60] [--phases binary,kill]
 *     [--short 500] [--hang 20] [--hang-slots 20] [--kill-limit 1000] [--max-concurrent 8]
 *     [--baseline-seconds 5] [--tally dist/tally]
 *
 * @module
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, release, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import * as v from "valibot";
import { scrape } from "../harness/scrape.ts";
import type { MetricValues } from "../harness/scrape.ts";
import { REPO_ROOT, spawnTally } from "../harness/spawn_tally.ts";
import type { RunningTally } from "../harness/spawn_tally.ts";
import { createLogger } from "../../src/internal/log.ts";
import { componentStats, SelfStats } from "../../src/internal/self_stats.ts";
import { resolveUser } from "../../src/inputs/scripts/_passwd.ts";
import { schema } from "../../src/inputs/scripts/config.ts";
import { ScriptsInput } from "../../src/inputs/scripts/run.ts";
import { runSandboxed } from "../../src/inputs/scripts/sandbox.ts";
import { detectRuntime } from "../../src/runtime/detect.ts";
import type { GoneMessage } from "./scripts/observer.ts";

const USAGE = `Usage: bun tests/bench/scripts.ts [options]

  --seconds N           length of each phase, seconds (default 60)
  --phases LIST         binary,kill (default both)
  --short N             short scripts, each once a minute (default 500)
  --hang N              scripts that always hang, binary phase (default 20)
  --hang-slots N        hung runs at once, back to back, kill phase (default 20)
  --kill-limit MS       the hard limit of a hung run in the kill phase (default 1000)
  --max-concurrent N    the input's max_concurrent (default 8, the input's default)
  --baseline-seconds N  the idle baseline's length (default 5)
  --tally PATH          the tally executable (default dist/tally)
  -h, --help            this text`;

const SHORT_SH = join(REPO_ROOT, "tests", "bench", "scripts", "short.sh");
const HANG_SH = join(REPO_ROOT, "tests", "bench", "scripts", "hang.sh");
/** The input's default hard limit: the binary phase's hung scripts are killed at it. */
const BINARY_LIMIT_MS = 5000;
const MARK_NAME = "TALLY_BENCH_MARK";

interface Options {
  readonly seconds: number;
  readonly phases: readonly string[];
  readonly short: number;
  readonly hang: number;
  readonly hangSlots: number;
  readonly killLimitMs: number;
  readonly maxConcurrent: number;
  readonly baselineSeconds: number;
  readonly tally: string;
}

/** Nearest-rank percentiles and extremes of a sample. */
interface Distribution {
  readonly n: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** CPU counters of one process, in seconds. */
interface ProcCpu {
  /** utime + stime: the process itself, all threads. */
  readonly self: number;
  /** cutime + cstime: its reaped children (the scripts). */
  readonly children: number;
}

/** Memory of one process, in bytes. */
interface ProcMemory {
  readonly rss: number;
  readonly rssAnon: number;
  readonly hwm: number;
}

interface BinaryReport {
  readonly seconds: number;
  readonly scripts: { readonly short: number; readonly hang: number };
  readonly baseline: { readonly rssMiB: number; readonly rssAnonMiB: number; readonly cpuCores: number };
  readonly loaded: {
    readonly readyMs: number;
    readonly steadyAfterS: number;
    readonly cpuCoresWhole: number;
    readonly cpuCoresSteady: number;
    readonly cpuMsPerDataRun: number;
    readonly scriptsCpuCores: number;
    readonly rssMiB: { readonly median: number; readonly max: number; readonly end: number };
    readonly rssAnonMiB: { readonly median: number; readonly max: number; readonly end: number };
    readonly hwmMiB: number;
  };
  readonly overheadMiB: { readonly rss: number; readonly rssAnon: number };
  readonly counters: Readonly<Record<string, number>>;
  readonly hangDurationPastLimitMs: Distribution | undefined;
  readonly stopMs: number;
  readonly leaked: number;
}

interface KillReport {
  readonly seconds: number;
  readonly limitMs: number;
  readonly slots: number;
  readonly shortScripts: number;
  readonly runs: number;
  readonly timedOut: number;
  readonly observedPastDeadlineMs: Distribution | undefined;
  readonly lastAlivePastDeadlineMs: Distribution | undefined;
  readonly resolvedPastDeadlineMs: Distribution | undefined;
  readonly overTargetRuns: number;
  readonly unobserved: number;
  readonly aliveAtResolve: number;
  readonly shortFrames: number;
  readonly shortRunsStarted: number;
  readonly leaked: number;
}

function main(): Promise<number> | number {
  let values;
  try {
    values = parseArgs({
      args: process.argv.slice(2),
      options: {
        seconds: { type: "string", default: "60" },
        phases: { type: "string", default: "binary,kill" },
        short: { type: "string", default: "500" },
        hang: { type: "string", default: "20" },
        "hang-slots": { type: "string", default: "20" },
        "kill-limit": { type: "string", default: "1000" },
        "max-concurrent": { type: "string", default: "8" },
        "baseline-seconds": { type: "string", default: "5" },
        tally: { type: "string", default: join(REPO_ROOT, "dist", "tally") },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  const options: Options = {
    seconds: positive(values.seconds, "--seconds"),
    phases: values.phases.split(",").map((p) => p.trim()).filter((p) => p !== ""),
    short: positive(values.short, "--short"),
    hang: Number(values.hang),
    hangSlots: positive(values["hang-slots"], "--hang-slots"),
    killLimitMs: positive(values["kill-limit"], "--kill-limit"),
    maxConcurrent: positive(values["max-concurrent"], "--max-concurrent"),
    baselineSeconds: positive(values["baseline-seconds"], "--baseline-seconds"),
    tally: resolve(values.tally),
  };
  return run(options);
}

async function run(options: Options): Promise<number> {
  const started = new Date();
  const machine = {
    cpus: cpus().length,
    model: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    runtime: "Bun" in globalThis ? `Bun ${Bun.version}` : `Node ${process.versions.node}`,
    user: process.getuid?.() === 0 ? "root (scripts run as nobody)" : "not root (scripts run as this user)",
  };
  progress(`scripts benchmark, ${started.toISOString()}, ${machine.cpus} CPUs (${machine.model})`);
  let binary: BinaryReport | undefined;
  let kill: KillReport | undefined;
  if (options.phases.includes("binary")) binary = await binaryPhase(options);
  if (options.phases.includes("kill")) kill = await killPhase(options);
  process.stdout.write(formatReport(options, machine, started, binary, kill));
  process.stdout.write(
    JSON.stringify({ date: started.toISOString(), machine, options, binary, kill }, null, 2) + "\n",
  );
  return 0;
}

// ---------------------------------------------------------------------------------------------------------
// Binary phase

async function binaryPhase(options: Options): Promise<BinaryReport> {
  const dir = mkdtempSync(join(tmpdir(), "tally-bench-scripts-"));
  chmodSync(dir, 0o777);
  const mark = `${process.pid}-${Date.now()}-binary`;
  try {
    progress(`binary: idle baseline, 1 short script, ${options.baselineSeconds} s`);
    const baseline = await (async () => {
      const tally = await startTally(options, dir, "baseline", mark, [scriptEntry("short_000", SHORT_SH)]);
      try {
        const cpu0 = procCpu(tally.pid);
        const wall0 = performance.now();
        await sleep(options.baselineSeconds * 1000);
        const cpu1 = procCpu(tally.pid);
        const memory = procMemory(tally.pid);
        return {
          rssMiB: mib(memory.rss),
          rssAnonMiB: mib(memory.rssAnon),
          cpuCores: round((cpu1.self - cpu0.self) / ((performance.now() - wall0) / 1000), 4),
        };
      } finally {
        await tally.stop();
      }
    })();

    const entries: string[] = [];
    const every = options.hang > 0 ? Math.max(1, Math.floor(options.short / options.hang)) : Infinity;
    let hung = 0;
    for (let i = 0; i < options.short; i++) {
      entries.push(scriptEntry(`short_${String(i).padStart(3, "0")}`, SHORT_SH));
      if ((i + 1) % every === 0 && hung < options.hang) {
        entries.push(scriptEntry(`hang_${String(hung++).padStart(2, "0")}`, HANG_SH));
      }
    }
    while (hung < options.hang) entries.push(scriptEntry(`hang_${String(hung++).padStart(2, "0")}`, HANG_SH));
    const total = options.short + options.hang;

    progress(`binary: ${options.short} short + ${options.hang} hung scripts, ${options.seconds} s`);
    const spawnedAt = performance.now();
    const tally = await startTally(options, dir, "loaded", mark, entries);
    const readyMs = performance.now() - spawnedAt;
    let stopMs = 0;
    let final: MetricValues;
    let cpu0: ProcCpu;
    let cpuEnd: ProcCpu;
    let cpuSteady: ProcCpu | undefined;
    let steadyAt = 0;
    let wallEnd = 0;
    let runsAtSteady = 0;
    const rss: number[] = [];
    const rssAnon: number[] = [];
    let hwm = 0;
    const wall0 = performance.now();
    try {
      cpu0 = procCpu(tally.pid);
      const endAt = wall0 + options.seconds * 1000;
      while (performance.now() < endAt) {
        await sleep(Math.min(1000, endAt - performance.now()));
        const memory = procMemory(tally.pid);
        rss.push(memory.rss);
        rssAnon.push(memory.rssAnon);
        hwm = memory.hwm;
        if (cpuSteady === undefined) {
          // Steady state: every script's first data run has started (the start-up burst of -c and -d runs).
          const started = sumSeries(await scrape(tally.url), "tally_script_runs_total", { mode: "data" });
          if (started >= total) {
            cpuSteady = procCpu(tally.pid);
            steadyAt = performance.now();
            runsAtSteady = started;
            progress(`binary: steady after ${((steadyAt - wall0) / 1000).toFixed(1)} s`);
          }
        }
      }
      cpuEnd = procCpu(tally.pid);
      wallEnd = performance.now();
      final = await scrape(tally.url);
    } finally {
      const stopStarted = performance.now();
      await tally.stop();
      stopMs = performance.now() - stopStarted;
    }
    const leaked = markedProcesses(mark).length;
    const wholeS = (wallEnd - wall0) / 1000;
    const dataRuns = sumSeries(final, "tally_script_runs_total", { mode: "data" });
    const steadyS = (wallEnd - steadyAt) / 1000;
    const hangDurations: number[] = [];
    for (const [key, value] of final) {
      // 0: that script's first data run has not finished yet.
      if (
        value > 0 && key.startsWith("tally_script_duration_seconds{") && key.includes('script="hang_') &&
        key.includes('mode="data"')
      ) {
        hangDurations.push(value * 1000 - BINARY_LIMIT_MS);
      }
    }
    const counters: Record<string, number> = {
      data_runs: dataRuns,
      config_runs: sumSeries(final, "tally_script_runs_total", { mode: "config" }),
      timeouts: sumSeries(final, "tally_script_timeouts_total", {}),
      exits_0: sumSeries(final, "tally_script_exits_total", { code: "0" }),
      exits_sigkill: sumSeries(final, "tally_script_exits_total", { code: "SIGKILL" }),
      skipped_overlap: sumSeries(final, "tally_script_skipped_runs_total", { reason: "overlap" }),
      skipped_concurrency: sumSeries(final, "tally_script_skipped_runs_total", { reason: "concurrency" }),
      skipped_no_definitions: sumSeries(final, "tally_script_skipped_runs_total", {
        reason: "no_definitions",
      }),
      stray_processes_killed: sumSeries(final, "tally_script_stray_processes_killed_total", {}),
      lines_received: sumSeries(final, "tally_component_received_events_total", {
        component_type: "scripts",
      }),
      bad_lines: sumSeries(final, "tally_bad_lines_total", { component_type: "scripts" }),
      frames_dropped: sumSeries(final, "tally_component_dropped_events_total", { component_type: "scripts" }),
    };
    const selfSteady = cpuSteady === undefined ? Number.NaN : (cpuEnd.self - cpuSteady.self) / steadyS;
    const loaded = {
      readyMs: Math.round(readyMs),
      steadyAfterS: cpuSteady === undefined ? Number.NaN : round((steadyAt - wall0) / 1000, 1),
      cpuCoresWhole: round((cpuEnd.self - cpu0.self) / wholeS, 4),
      cpuCoresSteady: round(selfSteady, 4),
      cpuMsPerDataRun: round(
        cpuSteady === undefined
          ? Number.NaN
          : ((cpuEnd.self - cpuSteady.self) * 1000) / Math.max(1, dataRuns - runsAtSteady),
        2,
      ),
      scriptsCpuCores: round((cpuEnd.children - cpu0.children) / wholeS, 4),
      rssMiB: { median: mib(median(rss)), max: mib(Math.max(...rss)), end: mib(rss.at(-1) ?? 0) },
      rssAnonMiB: {
        median: mib(median(rssAnon)),
        max: mib(Math.max(...rssAnon)),
        end: mib(rssAnon.at(-1) ?? 0),
      },
      hwmMiB: mib(hwm),
    };
    return {
      seconds: options.seconds,
      scripts: { short: options.short, hang: options.hang },
      baseline,
      loaded,
      overheadMiB: {
        rss: round(loaded.rssMiB.median - baseline.rssMiB, 1),
        rssAnon: round(loaded.rssAnonMiB.median - baseline.rssAnonMiB, 1),
      },
      counters,
      hangDurationPastLimitMs: distribution(hangDurations),
      stopMs: Math.round(stopMs),
      leaked,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function scriptEntry(id: string, command: string): string {
  return `[[inputs.scripts.scripts]]\ncommand = ${JSON.stringify(command)}\nid = ${JSON.stringify(id)}`;
}

async function startTally(
  options: Options,
  dir: string,
  name: string,
  mark: string,
  entries: readonly string[],
): Promise<RunningTally> {
  const file = join(dir, `${name}.toml`);
  writeFileSync(
    file,
    [
      "[inputs.scripts]",
      'type = "scripts"',
      `max_concurrent = ${options.maxConcurrent}`,
      `env = { ${MARK_NAME} = ${JSON.stringify(mark)} }`,
      ...entries,
    ].join("\n") + "\n",
  );
  return await spawnTally({ command: [options.tally], statsd: [], args: ["-c", file] });
}

// ---------------------------------------------------------------------------------------------------------
// Kill phase

async function killPhase(options: Options): Promise<KillReport> {
  const dir = mkdtempSync(join(tmpdir(), "tally-bench-kill-"));
  chmodSync(dir, 0o777);
  const mark = `${process.pid}-${Date.now()}-kill`;
  const user = process.getuid?.() === 0 ? resolveUser("nobody") : undefined;
  const observer = new Worker(fileURLToPath(new URL("./scripts/observer.ts", import.meta.url).href));
  const gone = new Map<number, GoneMessage>();
  const waiters = new Map<number, () => void>();
  observer.on("message", (message: GoneMessage) => {
    gone.set(message.id, message);
    waiters.get(message.id)?.();
  });
  const observed = (id: number): Promise<void> =>
    gone.has(id) ? Promise.resolve() : new Promise((done) => waiters.set(id, done));

  // The short scripts through the real input, so the event loop the kills depend on is busy as in tally.
  const stats = new SelfStats();
  let frames = 0;
  const input = new ScriptsInput(
    v.parse(schema, {
      scripts: Array.from({ length: options.short }, (_, i) => ({
        command: SHORT_SH,
        id: `short_${String(i).padStart(3, "0")}`,
      })),
      max_concurrent: options.maxConcurrent,
      env: { [MARK_NAME]: mark },
    }),
    "bench",
  );
  const abort = new AbortController();
  await input.start({
    emit() {
      frames++;
      return true;
    },
    signal: abort.signal,
    runtime: detectRuntime(),
    log: createLogger({}, { level: "error" }),
    stats: componentStats(stats, { type: "scripts", id: "bench" }),
    selfStats: stats,
  });

  progress(
    `kill: ${options.hangSlots} hung runs at once (limit ${options.killLimitMs} ms) beside ${options.short} short ` +
      `scripts, ${options.seconds} s`,
  );
  const limit = options.killLimitMs;
  const endAt = performance.now() + options.seconds * 1000;
  const records: Array<
    { id: number; deadlineMs: number; resolvedPast: number; timedOut: boolean; aliveAtResolve: number }
  > = [];
  let next = 0;
  const slot = async (): Promise<void> => {
    while (performance.now() < endAt) {
      const id = next++;
      const pidfile = join(dir, `run-${id}.pids`);
      observer.postMessage({ kind: "watch", id, pidfile, fastFromMs: epochMs() + limit - 150 });
      const result = await runSandboxed([HANG_SH, "-d"], {
        env: { PIDFILE: pidfile, [MARK_NAME]: mark },
        cwd: dir,
        user,
        limitMs: limit,
        maxStdout: 1 << 20,
        maxStderr: 64 << 10,
      });
      const resolvedMs = epochMs();
      // The sandbox's own start (just before spawn) plus the limit: the moment the group must be gone by.
      const deadlineMs = resolvedMs - result.durationMs + limit;
      records.push({
        id,
        deadlineMs,
        resolvedPast: result.durationMs - limit,
        timedOut: result.timedOut,
        aliveAtResolve: runningOf(pidsOf(pidfile)).length,
      });
      observer.postMessage({ kind: "resolved", id });
    }
  };
  await Promise.all(Array.from({ length: options.hangSlots }, slot));
  const shortRunsStarted = sumSelf(stats, "tally_script_runs_total", "data");
  await input.stop();
  await Promise.race([Promise.all(records.map((r) => observed(r.id))), sleep(5000)]);
  await observer.terminate();
  const leaked = markedProcesses(mark).length;
  rmSync(dir, { recursive: true, force: true });

  const observedPast: number[] = [];
  const lastAlivePast: number[] = [];
  let unobserved = 0;
  for (const record of records) {
    const seen = gone.get(record.id);
    if (seen === undefined || seen.pids.length === 0) {
      unobserved++;
      continue;
    }
    observedPast.push(seen.goneMs - record.deadlineMs);
    if (seen.lastAliveMs > 0) lastAlivePast.push(seen.lastAliveMs - record.deadlineMs);
  }
  return {
    seconds: options.seconds,
    limitMs: limit,
    slots: options.hangSlots,
    shortScripts: options.short,
    runs: records.length,
    timedOut: records.filter((r) => r.timedOut).length,
    observedPastDeadlineMs: distribution(observedPast),
    lastAlivePastDeadlineMs: distribution(lastAlivePast),
    resolvedPastDeadlineMs: distribution(records.map((r) => r.resolvedPast)),
    overTargetRuns: observedPast.filter((ms) => ms > 50).length,
    unobserved,
    aliveAtResolve: records.reduce((sum, r) => sum + r.aliveAtResolve, 0),
    shortFrames: frames,
    shortRunsStarted,
    leaked,
  };
}

function pidsOf(pidfile: string): number[] {
  try {
    return readFileSync(pidfile, "utf8").trim().split(/\s+/).map(Number).filter((pid) => pid > 0);
  } catch {
    return [];
  }
}

/** The pids that still run (exist and are not zombies); a pid reused within microseconds is not guarded. */
function runningOf(pids: readonly number[]): number[] {
  return pids.filter((pid) => {
    const state = procState(pid);
    return state !== undefined && state !== "Z" && state !== "X";
  });
}

function sumSelf(stats: SelfStats, name: string, mode: string): number {
  const family = stats.snapshot().find((f) => f.name === name);
  let sum = 0;
  for (const series of family?.series ?? []) {
    if (series.labels.some(([k, value]) => k === "mode" && value === mode)) sum += series.value;
  }
  return sum;
}

// ---------------------------------------------------------------------------------------------------------
// /proc

function procFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "latin1");
    // Fields after "(comm) ": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    // utime stime cutime cstime …
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

function procState(pid: number): string | undefined {
  return procFields(pid)?.[0];
}

/** Clock ticks per second of `/proc/PID/stat` times (`getconf CLK_TCK`, 100 on every Linux). */
const TICKS = 100;

function procCpu(pid: number): ProcCpu {
  const f = procFields(pid) ?? [];
  const n = (i: number) => Number(f[i] ?? 0);
  return { self: (n(11) + n(12)) / TICKS, children: (n(13) + n(14)) / TICKS };
}

function procMemory(pid: number): ProcMemory {
  let text = "";
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    // Gone: zeros.
  }
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(text)?.[1] ?? 0) * 1024;
  return { rss: kb("VmRSS"), rssAnon: kb("RssAnon"), hwm: kb("VmHWM") };
}

/** Live (not zombie) processes whose environment holds the benchmark's marker. */
function markedProcesses(mark: string): number[] {
  const entry = `${MARK_NAME}=${mark}`;
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const state = procState(Number(name));
    if (state === undefined || state === "Z" || state === "X") continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, "latin1").split("\0").includes(entry)) {
        found.push(Number(name));
      }
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------------
// Figures

function sumSeries(values: MetricValues, name: string, labels: Readonly<Record<string, string>>): number {
  const wanted = Object.entries(labels).map(([k, value]) => `${k}="${value}"`);
  let sum = 0;
  for (const [key, value] of values) {
    if (!key.startsWith(`${name}{`) && key !== name) continue;
    if (wanted.every((pair) => key.includes(pair))) sum += value;
  }
  return sum;
}

function distribution(values: readonly number[]): Distribution | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return {
    n: sorted.length,
    min: round(sorted[0]!, 1),
    p50: round(at(0.5), 1),
    p90: round(at(0.9), 1),
    p99: round(at(0.99), 1),
    max: round(sorted.at(-1)!, 1),
  };
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function formatReport(
  options: Options,
  machine: Readonly<Record<string, string | number>>,
  started: Date,
  binary: BinaryReport | undefined,
  kill: KillReport | undefined,
): string {
  const lines: string[] = [];
  const dist = (d: Distribution | undefined) =>
    d === undefined
      ? "no samples"
      : `p50 ${d.p50}  p90 ${d.p90}  p99 ${d.p99}  max ${d.max}  (min ${d.min}, n=${d.n})`;
  lines.push(`Scripts benchmark — ${started.toISOString()}`);
  lines.push(
    `Machine: ${machine["cpus"]} CPUs ${machine["model"]}, ${machine["memoryGiB"]} GiB, Linux ${
      machine["kernel"]
    }, ${machine["runtime"]}, ${machine["user"]}`,
  );
  lines.push(`Command: bun tests/bench/scripts.ts ${process.argv.slice(2).join(" ")}`.trimEnd());
  if (binary !== undefined) {
    const l = binary.loaded;
    const c = binary.counters;
    lines.push("");
    lines.push(
      `Binary phase: ${binary.scripts.short} short + ${binary.scripts.hang} hung scripts (period 60 s, limit 5 s, max_concurrent ${options.maxConcurrent}), ${binary.seconds} s`,
    );
    lines.push(`  ready after spawn        ${l.readyMs} ms`);
    const steady = Number.isNaN(l.cpuCoresSteady)
      ? "steady state not reached (raise --seconds)"
      : `${pct(l.cpuCoresSteady)} of a core steady (after ${l.steadyAfterS} s)`;
    lines.push(
      `  tally CPU                ${steady}, ${
        pct(l.cpuCoresWhole)
      } over the whole run incl. the start-up burst`,
    );
    lines.push(`  tally CPU per data run   ${l.cpuMsPerDataRun} ms (steady)`);
    lines.push(`  scripts' own CPU         ${pct(l.scriptsCpuCores)} of a core (reaped children)`);
    lines.push(
      `  RSS                      median ${l.rssMiB.median} MiB, max ${l.rssMiB.max} MiB, VmHWM ${l.hwmMiB} MiB (idle baseline ${binary.baseline.rssMiB} MiB)`,
    );
    lines.push(
      `  RssAnon                  median ${l.rssAnonMiB.median} MiB, max ${l.rssAnonMiB.max} MiB (idle baseline ${binary.baseline.rssAnonMiB} MiB)`,
    );
    lines.push(
      `  overhead over idle       RSS +${binary.overheadMiB.rss} MiB, RssAnon +${binary.overheadMiB.rssAnon} MiB; idle CPU ${
        pct(binary.baseline.cpuCores)
      }`,
    );
    lines.push(
      `  runs                     data ${c["data_runs"]}, config ${c["config_runs"]}, timeouts ${
        c["timeouts"]
      }, exit 0 ${c["exits_0"]}, SIGKILL ${c["exits_sigkill"]}`,
    );
    lines.push(
      `  skipped                  overlap ${c["skipped_overlap"]}, concurrency ${
        c["skipped_concurrency"]
      }, no definitions ${c["skipped_no_definitions"]}`,
    );
    lines.push(
      `  lines                    received ${c["lines_received"]}, bad ${c["bad_lines"]}, frames dropped ${
        c["frames_dropped"]
      }; stray processes killed ${c["stray_processes_killed"]}`,
    );
    lines.push(
      `  hung run reaped vs limit ${
        dist(binary.hangDurationPastLimitMs)
      } ms (last run of each hung script, sandbox's view)`,
    );
    lines.push(`  stop (SIGTERM → exit)    ${binary.stopMs} ms`);
    lines.push(`  leaked processes         ${binary.leaked}`);
  }
  if (kill !== undefined) {
    lines.push("");
    lines.push(
      `Kill phase (in-process): ${kill.slots} hung runs at once, limit ${kill.limitMs} ms, beside ${kill.shortScripts} short scripts, ${kill.seconds} s`,
    );
    lines.push(
      `  hung runs                ${kill.runs} (timed out ${kill.timedOut}); short runs started ${kill.shortRunsStarted}, frames ${kill.shortFrames}`,
    );
    lines.push(
      `  group gone vs deadline   ${
        dist(kill.observedPastDeadlineMs)
      } ms (observer, first poll with none running)`,
    );
    lines.push(`  last seen running        ${dist(kill.lastAlivePastDeadlineMs)} ms`);
    lines.push(`  runSandboxed resolved    ${dist(kill.resolvedPastDeadlineMs)} ms`);
    lines.push(
      `  runs over 50 ms          ${kill.overTargetRuns}; unobserved ${kill.unobserved}; processes running at resolve ${kill.aliveAtResolve}`,
    );
    lines.push(`  leaked processes         ${kill.leaked}`);
  }
  return lines.join("\n") + "\n\n";
}

function pct(cores: number): string {
  return `${(cores * 100).toFixed(1)} %`;
}

function mib(bytes: number): number {
  return round(bytes / 2 ** 20, 1);
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, Math.max(0, ms)));
}

function positive(text: string, flag: string): number {
  const n = Number(text);
  if (!(n > 0)) throw new Error(`Invalid ${flag}: expected a positive number, got "${text}"`);
  return n;
}

function progress(message: string): void {
  process.stderr.write(`[scripts bench] ${message}\n`);
}

process.exitCode = await main();
