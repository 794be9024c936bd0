/**
 * The program around a receive benchmark, shared by `statsd.ts` and `collectd.ts`: the common flags,
 * the choice of receivers (tally copied into the run's directory, collectd only when installed), the
 * temporary root with its interrupt handler, the search of one receiver with repeats and a retry of noisy
 * failures, and the plain-text and JSON report around each benchmark's own table.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, release, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { REPO_ROOT } from "../../harness/spawn_tally.ts";
import { findMaxRate, type SearchResult, type TrialOutcome } from "./find_max_rate.ts";
import { killAllGenerators } from "./generator.ts";
import type { TrialSettings } from "./measure_trial.ts";
import { killAllReceivers } from "./receiver_process.ts";
import type { TrialResult } from "./trial_result.ts";

/** The `parseArgs` options both benchmarks take. */
export const COMMON_FLAGS = {
  seconds: { type: "string" },
  only: { type: "string", multiple: true },
  tally: { type: "string" },
  "tally-arg": { type: "string", multiple: true },
  "start-pps": { type: "string" },
  "max-pps": { type: "string" },
  bisect: { type: "string" },
  repeat: { type: "string" },
  budget: { type: "string" },
  "quiet-wait": { type: "string" },
  collectd: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The values `parseArgs` gives for {@link COMMON_FLAGS}. */
export interface CommonFlagValues {
  /** `--seconds`. */
  readonly seconds?: string | undefined;
  /** `--only`, each occurrence. */
  readonly only?: string[] | undefined;
  /** `--tally`. */
  readonly tally?: string | undefined;
  /** `--tally-arg`, each occurrence. */
  readonly "tally-arg"?: string[] | undefined;
  /** `--start-pps`. */
  readonly "start-pps"?: string | undefined;
  /** `--max-pps`. */
  readonly "max-pps"?: string | undefined;
  /** `--bisect`. */
  readonly bisect?: string | undefined;
  /** `--repeat`. */
  readonly repeat?: string | undefined;
  /** `--budget`. */
  readonly budget?: string | undefined;
  /** `--quiet-wait`. */
  readonly "quiet-wait"?: string | undefined;
  /** `--collectd`. */
  readonly collectd?: string | undefined;
}

/** The options both benchmarks take. */
export interface CommonOptions<Name extends string> {
  /** Load per trial, seconds. */
  readonly seconds: number;
  /** The receivers to run, or `undefined` for all available. */
  readonly only: readonly Name[] | undefined;
  /** The tally executable, absolute. */
  readonly tally: string;
  /** Extra `tally run` arguments. */
  readonly tallyArgs: readonly string[];
  /** First rate tried, packets/s. */
  readonly startPps: number;
  /** Rate cap, packets/s. */
  readonly maxPps: number;
  /** Bisection steps after the first failure. */
  readonly bisect: number;
  /** Trials per rate; the median loss decides. */
  readonly repeat: number;
  /** Rough bound on the whole run, seconds. */
  readonly budgetS: number;
  /** Before each trial, the bound on waiting for other load to stop, seconds. */
  readonly quietWaitS: number;
  /** The collectd daemon. */
  readonly collectd: string;
}

/**
 * Reads the common flags.
 *
 * @param values What `parseArgs` returned.
 * @param spec The receivers this benchmark knows and its default start and cap rates.
 * @returns The options.
 * @throws {Error} When a flag's value is invalid.
 */
export function commonOptions<Name extends string>(
  values: CommonFlagValues,
  spec: { readonly receivers: readonly Name[]; readonly startPps: string; readonly maxPps: string },
): CommonOptions<Name> {
  const only = values.only?.flatMap((list) => list.split(",")).map((name) => name.trim()).filter((name) =>
    name !== ""
  );
  for (const name of only ?? []) {
    if (!(spec.receivers as readonly string[]).includes(name)) {
      throw new Error(`Invalid --only: expected one of ${spec.receivers.join(", ")}, found "${name}"`);
    }
  }
  return {
    seconds: positive("--seconds", values.seconds ?? "5"),
    only: only as Name[] | undefined,
    tally: resolve(REPO_ROOT, values.tally ?? "dist/tally"),
    tallyArgs: values["tally-arg"] ?? [],
    startPps: positive("--start-pps", values["start-pps"] ?? spec.startPps),
    maxPps: positive("--max-pps", values["max-pps"] ?? spec.maxPps),
    bisect: Math.floor(positive("--bisect", values.bisect ?? "3", true)),
    repeat: Math.max(1, Math.floor(positive("--repeat", values.repeat ?? "1"))),
    budgetS: positive("--budget", values.budget ?? "900"),
    quietWaitS: positive("--quiet-wait", values["quiet-wait"] ?? "20", true),
    collectd: values.collectd ?? "/usr/sbin/collectd",
  };
}

/**
 * Reads a non-negative number flag.
 *
 * @param flag The flag, for the error message.
 * @param raw Its value.
 * @param zeroOk Whether 0 is allowed.
 * @returns The number.
 * @throws {Error} When it is not a number, negative, or 0 where that is not allowed.
 */
export function positive(flag: string, raw: string, zeroOk = false): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (!zeroOk && value === 0)) {
    throw new Error(`Invalid ${flag}: expected a positive number, found "${raw}"`);
  }
  return value;
}

/** tally as copied for the run. */
export interface TallySnapshot {
  /** The copy's path. */
  readonly executable: string;
  /** The report label, naming the original path and the copy's sha256. */
  readonly label: string;
}

/**
 * Copies tally's executable into `root`, so a rebuild of `dist/tally` during the run cannot change (or
 * break) the binary between trials.
 *
 * @param options The common options.
 * @param root The run's temporary root.
 * @param notes Receives a note on the copy, or on skipping tally.
 * @returns The copy, or `undefined` when tally does not exist and was not asked for by `--only`.
 * @throws {Error} When `--only` names tally and it does not exist.
 */
export async function snapshotTally(
  options: CommonOptions<string>,
  root: string,
  notes: string[],
): Promise<TallySnapshot | undefined> {
  if (!existsSync(options.tally)) {
    if (options.only !== undefined) {
      throw new Error(`Cannot benchmark tally: "${options.tally}" does not exist (run npm run build)`);
    }
    notes.push(`tally skipped: "${options.tally}" does not exist (run npm run build)`);
    return undefined;
  }
  const snapshot = join(root, "tally");
  await copyFile(options.tally, snapshot);
  const sha256 = createHash("sha256").update(await readFile(snapshot)).digest("hex");
  notes.push(`tally: "${options.tally}" copied for the run, sha256 ${sha256}`);
  return { executable: snapshot, label: `tally (${options.tally}, sha256 ${sha256.slice(0, 12)})` };
}

/**
 * Whether the collectd daemon can be benchmarked.
 *
 * @param options The common options.
 * @param notes Receives a note when it is skipped.
 * @returns True when `--collectd` exists.
 * @throws {Error} When `--only` names collectd and it does not exist.
 */
export function collectdAvailable(options: CommonOptions<string>, notes: string[]): boolean {
  if (existsSync(options.collectd)) return true;
  if (options.only !== undefined) {
    throw new Error(
      `Cannot benchmark collectd: "${options.collectd}" does not exist (apt-get install collectd-core)`,
    );
  }
  notes.push(`collectd skipped: "${options.collectd}" does not exist (apt-get install collectd-core)`);
  return false;
}

/** A benchmark program, for {@link runBench}. */
export interface BenchProgram<O> {
  /** Its name, as in `tests/bench/NAME.ts` and the JSON's `benchmark`. */
  readonly name: string;
  /** The usage text. */
  readonly usage: string;
  /**
   * Reads the command line.
   *
   * @returns The options, or `undefined` for `--help`.
   * @throws {Error} When a flag is invalid.
   */
  readonly parse: (argv: readonly string[]) => O | undefined;
  /** Runs the benchmark in the temporary `root`; resolves to the exit code. */
  readonly run: (options: O, root: string) => Promise<number>;
}

/**
 * Runs a benchmark program: reads its flags (usage on `--help` or an error), makes a temporary root, and
 * on an interrupt or at the end kills any generator and receiver still running and removes the root.
 *
 * @param program The benchmark.
 * @returns The exit code.
 */
export async function runBench<O>(program: BenchProgram<O>): Promise<number> {
  let options: O | undefined;
  try {
    options = program.parse(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${program.usage}\n`);
    return 2;
  }
  if (options === undefined) {
    process.stdout.write(`${program.usage}\n`);
    return 0;
  }
  const root = await mkdtemp(join(tmpdir(), `tally-bench-${program.name}-`));
  function onSignal(signal: string): void {
    killAllGenerators();
    const killed = killAllReceivers();
    rmSync(root, { recursive: true, force: true });
    process.stderr.write(`\n${signal}: killed ${killed} receiver(s), removed "${root}"\n`);
    process.exit(130);
  }
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    return await program.run(options, root);
  } finally {
    killAllGenerators();
    killAllReceivers();
    await rm(root, { recursive: true, force: true });
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** Options for {@link searchReceiver}. */
export interface SearchReceiverOptions<R extends TrialResult> {
  /** The common options (start, cap, bisection, repeats). */
  readonly options: CommonOptions<string>;
  /** Halving stops below this rate, packets/s. */
  readonly minPps: number;
  /** No trial starts after this `performance.now()` value. */
  readonly deadline: number;
  /** Runs one trial at a target rate. */
  readonly trial: (pps: number) => Promise<R>;
  /** The progress line of a trial. */
  readonly format: (outcome: TrialOutcome<R>) => string;
}

/**
 * Searches one receiver's highest rate with < 1 % loss. Each rate runs `--repeat` trials and the one with
 * the median loss stands for it; a noisy failure (other work competed) is measured once more. Progress
 * goes to stderr.
 *
 * @param search The trial, its progress line, the floor, the deadline and the options.
 * @returns The search result.
 */
export function searchReceiver<R extends TrialResult>(
  search: SearchReceiverOptions<R>,
): Promise<SearchResult<R>> {
  const { options, format } = search;
  async function measure(pps: number): Promise<R> {
    const first = await search.trial(pps);
    if (first.passed || !first.noisy) return first;
    // Other work on the machine may have caused this failure: measure once more.
    process.stderr.write(`  ${format({ kind: "measured", result: first })}  (noisy, retrying)\n`);
    return search.trial(pps);
  }
  return findMaxRate(
    async function trialAt(pps) {
      // With --repeat N, the trial with the median loss stands for the rate.
      const results: R[] = [];
      for (let i = 0; i < options.repeat; i++) {
        const result = await measure(pps);
        results.push(result);
        if (options.repeat > 1) {
          process.stderr.write(
            `  ${format({ kind: "measured", result })}  (repeat ${i + 1}/${options.repeat})\n`,
          );
        }
      }
      results.sort((a, b) => a.loss - b.loss);
      const median = results[Math.floor((results.length - 1) / 2)];
      if (median === undefined) throw new Error("Cannot measure a rate: --repeat is 0");
      return median;
    },
    {
      startPps: options.startPps,
      maxPps: options.maxPps,
      minPps: search.minPps,
      bisectSteps: options.bisect,
      deadline: search.deadline,
      onTrial: (outcome) => process.stderr.write(`  ${format(outcome)}\n`),
    },
  );
}

/**
 * Numbers the trials of a run: each gets its own directory `root/trial-N`.
 *
 * @param options The common options (duration, quiet wait).
 * @param root The run's temporary root.
 * @returns The settings of the next trial at a rate.
 */
export function trialSettings(options: CommonOptions<string>, root: string): (pps: number) => TrialSettings {
  let trialNumber = 0;
  return function nextTrial(pps) {
    return {
      pps,
      seconds: options.seconds,
      dir: join(root, `trial-${++trialNumber}`),
      quietWaitMs: options.quietWaitS * 1000,
    };
  };
}

/**
 * Writes the end of one search to stderr: the best rate in the unit, or that nothing passed, and why it
 * stopped.
 *
 * @param unitsPerSecond The best rate, or `null`.
 * @param unit The unit, plural (`lines`, `value lists`).
 * @param stop Why the search ended.
 */
export function reportSearchEnd(unitsPerSecond: number | null, unit: string, stop: string): void {
  process.stderr.write(
    `  -> ${
      unitsPerSecond === null ? "nothing passed" : `${Math.round(unitsPerSecond)} ${unit}/s`
    } (${stop})\n`,
  );
}

/**
 * One line on the machine: CPUs, model, memory and kernel.
 *
 * @returns E.g. `2 CPUs (AMD EPYC …), 7.8 GiB, Linux 6.18.0`.
 */
export function describeMachine(): string {
  return `${cpus().length} CPUs (${cpus()[0]?.model ?? "unknown"}), ${
    (totalmem() / 2 ** 30).toFixed(1)
  } GiB, ` +
    `Linux ${release()}`;
}

/** The parts of a benchmark's report. */
export interface BenchReport {
  /** The program's name (`statsd`, `collectd`). */
  readonly name: string;
  /** The report's title, e.g. `StatsD receive benchmark`. */
  readonly title: string;
  /** The workload line. */
  readonly workload: string;
  /** Notes (skipped receivers, tally's copy). */
  readonly notes: readonly string[];
  /** The benchmark's table. */
  readonly table: string;
  /** The receivers that ran, with their readback. */
  readonly receivers: readonly { readonly name: string; readonly label: string; readonly readback: string }[];
  /** `performance.now()` at the start. */
  readonly started: number;
  /** The JSON document's fields after `command` (options, results, …). */
  readonly json: Readonly<Record<string, unknown>>;
}

/**
 * The report on stdout: title, machine, command, workload, notes, table, readback, elapsed time, then one
 * JSON document.
 *
 * @param report The parts.
 * @returns The text.
 */
export function formatReport(report: BenchReport): string {
  const elapsedS = (performance.now() - report.started) / 1000;
  const args = process.argv.slice(2);
  return [
    "",
    `${report.title}, ${new Date().toISOString()}`,
    `machine: ${describeMachine()}`,
    `command: ./node_modules/.bin/bun tests/bench/${report.name}.ts ${args.join(" ")}`.trimEnd(),
    report.workload,
    ...report.notes.map((note) => `note: ${note}`),
    "",
    report.table,
    "",
    "readback:",
    ...report.receivers.map((receiver) => `  ${receiver.name}: ${receiver.label}; ${receiver.readback}`),
    `elapsed: ${elapsedS.toFixed(0)} s`,
    "",
    JSON.stringify(
      {
        benchmark: report.name,
        date: new Date().toISOString(),
        machine: {
          cpus: cpus().length,
          model: cpus()[0]?.model ?? "unknown",
          memBytes: totalmem(),
          kernel: release(),
        },
        command: args,
        ...report.json,
        elapsedS: Math.round(elapsedS),
      },
      null,
      2,
    ),
    "",
  ].join("\n");
}
