/**
 * collectd receive benchmark: the compiled tally's `collectd` input beside collectd 5.12's own `network`
 * plugin as a receiver, both driven by `../shared/tools/collectd-gen` (1452-byte packets of protocol v5,
 * 1000 identifiers, COUNTER/GAUGE/DERIVE/ABSOLUTE in equal parts). For each receiver it finds the highest
 * packet rate with < 1 % loss of value lists, and prints value lists/s, packets/s, peak and idle RSS and
 * the time from spawn to ready: a plain-text table, then one JSON document. A program, not a test.
 *
 * Run from the repository root (after `npm run build`):
 *
 *   ./node_modules/.bin/bun tests/bench/collectd.ts [--seconds 5] [--only tally,collectd]
 *     [--tally dist/tally] [--start-pps 2000] [--max-pps 400000] [--bisect 3] [--repeat 1]
 *     [--budget 900] [--quiet-wait 20] [--names 1000] [--tally-arg=--workers --tally-arg=2]
 *
 * Every trial starts a fresh receiver on a free loopback port in its own temporary directory and stops it
 * by PID (SIGTERM to its process group, then SIGKILL) afterwards, whatever happened. How each receiver's
 * count is read back: `collectd/receivers.ts` and `collectd/README.md`. The rate search, `/proc` sampling
 * and process handling are the StatsD benchmark's (`statsd/find_max_rate.ts`, `proc_stats.ts`,
 * `receiver_process.ts`).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, release, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../harness/spawn_tally.ts";
import {
  buildCollectdGenerator,
  COLLECTD_GENERATOR_SOURCE,
  killAllCollectdGenerators,
} from "./collectd/generator.ts";
import {
  type CollectdBenchReceiver,
  type CollectdBenchReceiverName,
  collectdDaemonInstalled,
  collectdNetworkReceiver,
  tallyCollectdReceiver,
} from "./collectd/receivers.ts";
import {
  type CollectdReceiverSummary,
  formatCollectdTable,
  formatCollectdTrial,
  summariseCollectdSearch,
} from "./collectd/report.ts";
import { type CollectdTrialResult, type CollectdWorkload, runCollectdTrial } from "./collectd/run_trial.ts";
import { findMaxRate } from "./statsd/find_max_rate.ts";
import { killAllReceivers } from "./statsd/receiver_process.ts";
import { LOSS_LIMIT } from "./statsd/run_trial.ts";

const USAGE = `Usage: bun tests/bench/collectd.ts [options]

  --seconds N        load per trial, seconds (default 5)
  --only LIST        receivers to run, comma-separated: tally,collectd (default both)
  --tally PATH       the tally executable (default dist/tally)
  --tally-arg ARG    an extra 'tally run' argument (repeatable), e.g. --tally-arg=--workers --tally-arg=2
  --start-pps N      first rate tried, packets/s (default 2000, about 78 k value lists/s)
  --max-pps N        rate cap, packets/s (default 400000; the generator tops out near 330-420 k)
  --bisect N         bisection steps after the first failure (default 3)
  --repeat N         trials per rate; the median loss decides (default 1)
  --budget N         rough bound on the whole run, seconds (default 900)
  --quiet-wait N     before each trial, wait up to N s for other load to stop (default 20)
  --names N          distinct identifiers (default 1000)
  --collectd PATH    the collectd daemon (default /usr/sbin/collectd)
  -h, --help         this text`;

const ALL_RECEIVERS: readonly CollectdBenchReceiverName[] = ["tally", "collectd"];
/** collectd's default MaxPacketSize, the packets the issue asks for. */
const PACKET_BYTES = 1452;
/** The issue's target for tally on a 2-core machine. */
const TARGET_VALUE_LISTS_PER_SECOND = 300_000;

interface Options {
  readonly seconds: number;
  readonly only: readonly CollectdBenchReceiverName[] | undefined;
  readonly tally: string;
  readonly tallyArgs: readonly string[];
  readonly startPps: number;
  readonly maxPps: number;
  readonly bisect: number;
  readonly repeat: number;
  readonly budgetS: number;
  readonly quietWaitS: number;
  readonly names: number;
  readonly collectd: string;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
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
      names: { type: "string" },
      collectd: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help === true) return undefined;
  const only = values.only?.flatMap((list) => list.split(",")).map((name) => name.trim()).filter((name) =>
    name !== ""
  );
  for (const name of only ?? []) {
    if (!(ALL_RECEIVERS as readonly string[]).includes(name)) {
      throw new Error(`Invalid --only: expected one of ${ALL_RECEIVERS.join(", ")}, found "${name}"`);
    }
  }
  return {
    seconds: positive("--seconds", values.seconds ?? "5"),
    only: only as CollectdBenchReceiverName[] | undefined,
    tally: resolve(REPO_ROOT, values.tally ?? "dist/tally"),
    tallyArgs: values["tally-arg"] ?? [],
    startPps: positive("--start-pps", values["start-pps"] ?? "2000"),
    maxPps: positive("--max-pps", values["max-pps"] ?? "400000"),
    bisect: Math.floor(positive("--bisect", values.bisect ?? "3", true)),
    repeat: Math.max(1, Math.floor(positive("--repeat", values.repeat ?? "1"))),
    budgetS: positive("--budget", values.budget ?? "900"),
    quietWaitS: positive("--quiet-wait", values["quiet-wait"] ?? "20", true),
    names: Math.floor(positive("--names", values.names ?? "1000")),
    collectd: values.collectd ?? "/usr/sbin/collectd",
  };
}

function positive(flag: string, raw: string, zeroOk = false): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (!zeroOk && value === 0)) {
    throw new Error(`Invalid ${flag}: expected a positive number, found "${raw}"`);
  }
  return value;
}

/**
 * The receivers to run, and notes on any skipped. tally's executable is copied into `root` first, so a
 * rebuild of `dist/tally` during the run cannot change the binary between trials.
 */
async function chooseReceivers(
  options: Options,
  root: string,
): Promise<{ readonly receivers: CollectdBenchReceiver[]; readonly notes: string[] }> {
  const receivers: CollectdBenchReceiver[] = [];
  const notes: string[] = [];
  for (const name of options.only ?? ALL_RECEIVERS) {
    if (name === "tally") {
      if (!existsSync(options.tally)) {
        if (options.only !== undefined) {
          throw new Error(`Cannot benchmark tally: "${options.tally}" does not exist (run npm run build)`);
        }
        notes.push(`tally skipped: "${options.tally}" does not exist (run npm run build)`);
        continue;
      }
      const snapshot = join(root, "tally");
      await copyFile(options.tally, snapshot);
      const sha256 = createHash("sha256").update(await readFile(snapshot)).digest("hex");
      notes.push(`tally: "${options.tally}" copied for the run, sha256 ${sha256}`);
      receivers.push(tallyCollectdReceiver({
        executable: snapshot,
        label: `tally (${options.tally}, sha256 ${sha256.slice(0, 12)})`,
        extraArgs: options.tallyArgs,
      }));
    } else if (collectdDaemonInstalled(options.collectd)) {
      receivers.push(collectdNetworkReceiver({ executable: options.collectd }));
    } else if (options.only !== undefined) {
      throw new Error(
        `Cannot benchmark collectd: "${options.collectd}" does not exist (apt-get install collectd-core)`,
      );
    } else {
      notes.push(`collectd skipped: "${options.collectd}" does not exist (apt-get install collectd-core)`);
    }
  }
  return { receivers, notes };
}

async function main(): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  if (options === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!existsSync(COLLECTD_GENERATOR_SOURCE)) {
    process.stderr.write(`Cannot run the benchmark: "${COLLECTD_GENERATOR_SOURCE}" does not exist\n`);
    return 1;
  }
  const root = await mkdtemp(join(tmpdir(), "tally-bench-collectd-"));
  function onSignal(signal: string): void {
    killAllCollectdGenerators();
    const killed = killAllReceivers();
    rmSync(root, { recursive: true, force: true });
    process.stderr.write(`\n${signal}: killed ${killed} receiver(s), removed "${root}"\n`);
    process.exit(130);
  }
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const started = performance.now();
  const budgetEnd = started + options.budgetS * 1000;
  const summaries: CollectdReceiverSummary[] = [];
  try {
    const { receivers, notes } = await chooseReceivers(options, root);
    for (const note of notes) process.stderr.write(`note: ${note}\n`);
    if (receivers.length === 0) {
      process.stderr.write("Cannot run the benchmark: no receiver is available\n");
      return 1;
    }
    const generator = await buildCollectdGenerator(root);
    const workload: CollectdWorkload = { names: options.names, maxPacketBytes: PACKET_BYTES };
    const machine =
      `${cpus().length} CPUs (${cpus()[0]?.model ?? "unknown"}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
      `Linux ${release()}`;
    process.stderr.write(
      `collectd bench: ${machine}; ${options.seconds} s per trial, ${options.names} identifiers, ` +
        `${PACKET_BYTES}-byte packets, loss limit ${LOSS_LIMIT * 100} %\n`,
    );
    let trialNumber = 0;
    for (const [index, receiver] of receivers.entries()) {
      const now = performance.now();
      const deadline = now + Math.max(0, budgetEnd - now) / (receivers.length - index);
      process.stderr.write(`\n== ${receiver.label} ==\n`);
      const search = await findMaxRate(
        async function trialAt(pps) {
          const once = (): Promise<CollectdTrialResult> =>
            runCollectdTrial(receiver, {
              generator,
              workload,
              pps,
              seconds: options.seconds,
              dir: join(root, `trial-${++trialNumber}`),
              quietWaitMs: options.quietWaitS * 1000,
            });
          async function measure(): Promise<CollectdTrialResult> {
            const first = await once();
            if (first.passed || !first.noisy) return first;
            // Other work on the machine may have caused this failure: measure once more.
            process.stderr.write(
              `  ${formatCollectdTrial({ kind: "measured", result: first })}  (noisy, retrying)\n`,
            );
            return once();
          }
          const results: CollectdTrialResult[] = [];
          for (let i = 0; i < options.repeat; i++) {
            const result = await measure();
            results.push(result);
            if (options.repeat > 1) {
              process.stderr.write(
                `  ${formatCollectdTrial({ kind: "measured", result })}  (repeat ${
                  i + 1
                }/${options.repeat})\n`,
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
          minPps: 100,
          bisectSteps: options.bisect,
          deadline,
          onTrial: (outcome) => process.stderr.write(`  ${formatCollectdTrial(outcome)}\n`),
        },
      );
      const summary = summariseCollectdSearch(search, {
        receiver: receiver.name,
        label: receiver.label,
        readback: receiver.readback,
      });
      summaries.push(summary);
      process.stderr.write(
        `  -> ${
          summary.valueListsPerSecond === null
            ? "nothing passed"
            : `${summary.valueListsPerSecond} value lists/s`
        } (${search.stop})\n`,
      );
    }

    const elapsedS = (performance.now() - started) / 1000;
    const out = [
      "",
      `collectd receive benchmark, ${new Date().toISOString()}`,
      `machine: ${machine}`,
      `command: ./node_modules/.bin/bun tests/bench/collectd.ts ${process.argv.slice(2).join(" ")}`.trimEnd(),
      `workload: collectd-gen, ${options.names} identifiers (counter, gauge, derive, absolute in equal parts), ` +
      `${PACKET_BYTES}-byte packets; ${options.seconds} s per trial; loss = 1 - value lists processed 1 s after the load / sent; ` +
      `highest rate with < ${LOSS_LIMIT * 100} % loss`,
      ...notes.map((note) => `note: ${note}`),
      "",
      formatCollectdTable(summaries, TARGET_VALUE_LISTS_PER_SECOND),
      "",
      "readback:",
      ...receivers.map((receiver) => `  ${receiver.name}: ${receiver.label}; ${receiver.readback}`),
      `elapsed: ${elapsedS.toFixed(0)} s`,
      "",
      JSON.stringify(
        {
          benchmark: "collectd",
          date: new Date().toISOString(),
          machine: {
            cpus: cpus().length,
            model: cpus()[0]?.model ?? "unknown",
            memBytes: totalmem(),
            kernel: release(),
          },
          command: process.argv.slice(2),
          options: { ...options, packetBytes: PACKET_BYTES, lossLimit: LOSS_LIMIT },
          targetValueListsPerSecond: TARGET_VALUE_LISTS_PER_SECOND,
          results: summaries,
          elapsedS: Math.round(elapsedS),
        },
        null,
        2,
      ),
      "",
    ];
    process.stdout.write(out.join("\n"));
    return summaries.every((summary) => summary.stop !== "errors") ? 0 : 1;
  } finally {
    killAllCollectdGenerators();
    killAllReceivers();
    await rm(root, { recursive: true, force: true });
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

process.exitCode = await main();
