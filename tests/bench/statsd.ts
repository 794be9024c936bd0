/**
 * StatsD receive benchmark: the compiled tally beside Etsy statsd (npm `statsd`) and collectd's statsd
 * plugin, driven by `../shared/tools/statsd-gen` (1000 names, mix `c=4,g=2,ms=2,s=1`, 10 and 1 lines per
 * packet). For each receiver and workload it finds the highest rate with < 1 % loss, measured from counter
 * totals read back from the receiver against the generator's exact `counter_sum_expected`, and prints
 * lines/s and packets/s, tally's ratio to each peer, idle and peak RSS and the time from spawn to ready:
 * a plain-text table, then one JSON document. A program, not a test; it asserts nothing.
 *
 * Run from the repository root:
 *
 *   ./node_modules/.bin/bun tests/bench/statsd.ts [--seconds 5] [--only tally,etsy,collectd]
 *     [--tally dist/tally] [--lines 10,1] [--start-pps 20000] [--max-pps 500000] [--bisect 3]
 *     [--repeat 1] [--budget 900] [--quiet-wait 20] [--tally-arg=--workers --tally-arg=2]
 *
 * Every trial starts a fresh receiver on free loopback ports in its own temporary directory and stops it
 * by PID (SIGTERM, then SIGKILL) afterwards, whatever happened. Progress goes to stderr, results to
 * stdout. How each receiver's counters are read back is documented in `statsd/*_receiver.ts` and
 * `statsd/README.md`.
 *
 * @module
 */
import { existsSync, rmSync } from "node:fs";
import { createHash } from "node:crypto";
import { copyFile, mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, release, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../harness/spawn_tally.ts";
import { collectdInstalled, collectdReceiver } from "./statsd/collectd_receiver.ts";
import { etsyReceiver } from "./statsd/etsy_receiver.ts";
import { findMaxRate } from "./statsd/find_max_rate.ts";
import { buildGenerator, killAllGenerators } from "./statsd/generator.ts";
import type { Receiver, ReceiverName } from "./statsd/receiver.ts";
import { killAllReceivers } from "./statsd/receiver_process.ts";
import {
  formatTable,
  formatTrial,
  type ReceiverSummary,
  summariseSearch,
  tallyRatios,
} from "./statsd/report.ts";
import { LOSS_LIMIT, runTrial, type TrialResult, type Workload } from "./statsd/run_trial.ts";
import { tallyReceiver } from "./statsd/tally_receiver.ts";

const USAGE = `Usage: bun tests/bench/statsd.ts [options]

  --seconds N        load per trial, seconds (default 5)
  --only LIST        receivers to run, comma-separated: tally,etsy,collectd (default all available)
  --tally PATH       the tally executable (default dist/tally)
  --tally-arg ARG    an extra 'tally run' argument (repeatable), e.g. --tally-arg=--workers --tally-arg=2
  --lines LIST       lines per packet to test, comma-separated (default 10,1)
  --start-pps N      first rate tried, packets/s (default 20000)
  --max-pps N        rate cap, packets/s (default 500000; the generator tops out near 330-420 k)
  --bisect N         bisection steps after the first failure (default 3)
  --repeat N         trials per rate; the median loss decides (default 1)
  --budget N         rough bound on the whole run, seconds (default 900)
  --quiet-wait N     before each trial, wait up to N s for other load to stop (default 20)
  --node PATH        Node.js for Etsy statsd (default node)
  --collectd PATH    the collectd daemon (default /usr/sbin/collectd)
  -h, --help         this text`;

const NAMES = 1000;
const MIX = "c=4,g=2,ms=2,s=1";
const ALL_RECEIVERS: readonly ReceiverName[] = ["tally", "etsy", "collectd"];

interface Options {
  readonly seconds: number;
  readonly only: readonly ReceiverName[] | undefined;
  readonly tally: string;
  readonly tallyArgs: readonly string[];
  readonly lines: readonly number[];
  readonly startPps: number;
  readonly maxPps: number;
  readonly bisect: number;
  readonly repeat: number;
  readonly budgetS: number;
  readonly quietWaitS: number;
  readonly node: string;
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
      lines: { type: "string" },
      "start-pps": { type: "string" },
      "max-pps": { type: "string" },
      bisect: { type: "string" },
      repeat: { type: "string" },
      budget: { type: "string" },
      "quiet-wait": { type: "string" },
      node: { type: "string" },
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
    only: only as ReceiverName[] | undefined,
    tally: resolve(REPO_ROOT, values.tally ?? "dist/tally"),
    tallyArgs: values["tally-arg"] ?? [],
    lines: (values.lines ?? "10,1").split(",").map((n) => positive("--lines", n)),
    startPps: positive("--start-pps", values["start-pps"] ?? "20000"),
    maxPps: positive("--max-pps", values["max-pps"] ?? "500000"),
    bisect: Math.floor(positive("--bisect", values.bisect ?? "3", true)),
    repeat: Math.max(1, Math.floor(positive("--repeat", values.repeat ?? "1"))),
    budgetS: positive("--budget", values.budget ?? "900"),
    quietWaitS: positive("--quiet-wait", values["quiet-wait"] ?? "20", true),
    node: values.node ?? "node",
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
 * rebuild of `dist/tally` during the run cannot change (or break) the binary between trials.
 */
async function chooseReceivers(
  options: Options,
  root: string,
): Promise<{ readonly receivers: Receiver[]; readonly notes: string[] }> {
  const receivers: Receiver[] = [];
  const notes: string[] = [];
  const wanted = options.only ?? ALL_RECEIVERS;
  for (const name of wanted) {
    switch (name) {
      case "tally":
        if (existsSync(options.tally)) {
          const snapshot = join(root, "tally");
          await copyFile(options.tally, snapshot);
          const sha256 = createHash("sha256").update(await readFile(snapshot)).digest("hex");
          notes.push(`tally: "${options.tally}" copied for the run, sha256 ${sha256}`);
          receivers.push(
            tallyReceiver({
              executable: snapshot,
              label: `tally (${options.tally}, sha256 ${sha256.slice(0, 12)})`,
              extraArgs: options.tallyArgs,
            }),
          );
        } else if (options.only !== undefined) {
          throw new Error(`Cannot benchmark tally: "${options.tally}" does not exist (run npm run build)`);
        } else notes.push(`tally skipped: "${options.tally}" does not exist (run npm run build)`);
        break;
      case "etsy":
        receivers.push(etsyReceiver({ node: options.node }));
        break;
      case "collectd":
        if (collectdInstalled(options.collectd)) {
          receivers.push(collectdReceiver({ executable: options.collectd }));
        } else if (options.only !== undefined) {
          throw new Error(
            `Cannot benchmark collectd: "${options.collectd}" does not exist (apt-get install collectd-core)`,
          );
        } else {notes.push(
            `collectd skipped: "${options.collectd}" does not exist (apt-get install collectd-core)`,
          );}
        break;
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
  const root = await mkdtemp(join(tmpdir(), "tally-bench-statsd-"));
  function onSignal(signal: string): void {
    killAllGenerators();
    const killed = killAllReceivers();
    rmSync(root, { recursive: true, force: true });
    process.stderr.write(`\n${signal}: killed ${killed} receiver(s), removed "${root}"\n`);
    process.exit(130);
  }
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const started = performance.now();
  const budgetEnd = started + options.budgetS * 1000;
  const summaries: ReceiverSummary[] = [];
  try {
    const { receivers, notes } = await chooseReceivers(options, root);
    for (const note of notes) process.stderr.write(`note: ${note}\n`);
    if (receivers.length === 0) {
      process.stderr.write("Cannot run the benchmark: no receiver is available\n");
      return 1;
    }
    const generator = await buildGenerator(root);
    const machine = `${cpus().length} CPUs (${cpus()[0]?.model ?? "unknown"}), ${
      (totalmem() / 2 ** 30).toFixed(1)
    } GiB, Linux ${release()}`;
    process.stderr.write(
      `statsd bench: ${machine}; ${options.seconds} s per trial, ${NAMES} names, mix ${MIX}, ` +
        `loss limit ${LOSS_LIMIT * 100} %\n`,
    );
    const total = options.lines.length * receivers.length;
    let trialNumber = 0;
    let searchIndex = 0;
    for (const linesPerPacket of options.lines) {
      const workload: Workload = { linesPerPacket, names: NAMES, mix: MIX };
      for (const receiver of receivers) {
        const now = performance.now();
        const deadline = now + Math.max(0, budgetEnd - now) / (total - searchIndex);
        searchIndex++;
        process.stderr.write(
          `\n== ${receiver.label}, ${linesPerPacket} line${linesPerPacket === 1 ? "" : "s"}/packet ==\n`,
        );
        const search = await findMaxRate(
          async function trialAt(pps) {
            const once = (): Promise<TrialResult> =>
              runTrial(receiver, {
                generator,
                workload,
                pps,
                seconds: options.seconds,
                dir: join(root, `trial-${++trialNumber}`),
                quietWaitMs: options.quietWaitS * 1000,
              });
            async function measure(): Promise<TrialResult> {
              const first = await once();
              if (first.passed || !first.noisy) return first;
              // Other work on the machine may have caused this failure: measure once more.
              process.stderr.write(
                `  ${formatTrial({ kind: "measured", result: first })}  (noisy, retrying)\n`,
              );
              return once();
            }
            // With --repeat N, the trial with the median loss stands for the rate.
            const results: TrialResult[] = [];
            for (let i = 0; i < options.repeat; i++) {
              const result = await measure();
              results.push(result);
              if (options.repeat > 1) {
                process.stderr.write(
                  `  ${formatTrial({ kind: "measured", result })}  (repeat ${i + 1}/${options.repeat})\n`,
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
            minPps: 500,
            bisectSteps: options.bisect,
            deadline,
            onTrial: (outcome) => process.stderr.write(`  ${formatTrial(outcome)}\n`),
          },
        );
        const summary = summariseSearch(search, {
          receiver: receiver.name,
          label: receiver.label,
          readback: receiver.readback,
          linesPerPacket,
        });
        summaries.push(summary);
        process.stderr.write(
          `  -> ${
            summary.linesPerSecond === null
              ? "nothing passed"
              : `${Math.round(summary.linesPerSecond)} lines/s`
          } (${search.stop})\n`,
        );
      }
    }

    const ratios = tallyRatios(summaries);
    const elapsedS = (performance.now() - started) / 1000;
    const out = [
      "",
      `StatsD receive benchmark, ${new Date().toISOString()}`,
      `machine: ${machine}`,
      `command: ./node_modules/.bin/bun tests/bench/statsd.ts ${process.argv.slice(2).join(" ")}`.trimEnd(),
      `workload: statsd-gen, ${NAMES} names, mix ${MIX}; ${options.seconds} s per trial; loss from counter totals; ` +
      `highest rate with < ${LOSS_LIMIT * 100} % loss`,
      ...notes.map((note) => `note: ${note}`),
      "",
      formatTable(summaries, ratios),
      "",
      "readback:",
      ...receivers.map((receiver) => `  ${receiver.name}: ${receiver.label}; ${receiver.readback}`),
      `elapsed: ${elapsedS.toFixed(0)} s`,
      "",
      JSON.stringify(
        {
          benchmark: "statsd",
          date: new Date().toISOString(),
          machine: {
            cpus: cpus().length,
            model: cpus()[0]?.model ?? "unknown",
            memBytes: totalmem(),
            kernel: release(),
          },
          command: process.argv.slice(2),
          options: { ...options, names: NAMES, mix: MIX, lossLimit: LOSS_LIMIT },
          results: summaries,
          ratios,
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
    killAllReceivers();
    await rm(root, { recursive: true, force: true });
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

process.exitCode = await main();
