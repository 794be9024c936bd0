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
 *     [--repeat 1] [--budget 900] [--quiet-wait 20] [--warm-up 0] [--tally-arg=--workers --tally-arg=2]
 *
 * Every trial starts a fresh receiver on free loopback ports in its own temporary directory and stops it
 * by PID (SIGTERM, then SIGKILL) afterwards, whatever happened. Progress goes to stderr, results to
 * stdout. How each receiver's counters are read back is documented in `statsd/*_receiver.ts` and
 * `statsd/README.md`.
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import {
  collectdAvailable,
  COMMON_FLAGS,
  type CommonOptions,
  commonOptions,
  describeMachine,
  formatReport,
  positive,
  reportSearchEnd,
  runBench,
  searchReceiver,
  snapshotTally,
  trialSettings,
} from "./_shared/bench_cli.ts";
import { LOSS_LIMIT } from "./_shared/trial_result.ts";
import { collectdReceiver } from "./statsd/collectd_receiver.ts";
import { etsyReceiver } from "./statsd/etsy_receiver.ts";
import { buildGenerator } from "./statsd/generator.ts";
import type { Receiver, ReceiverName } from "./statsd/receiver.ts";
import {
  formatTable,
  formatTrial,
  type ReceiverSummary,
  summariseSearch,
  tallyRatios,
} from "./statsd/report.ts";
import { runTrial, type Workload } from "./statsd/run_trial.ts";
import { tallyReceiver } from "./statsd/tally_receiver.ts";

const USAGE = `Usage: bun tests/bench/statsd.ts [options]

  --seconds N        load per trial, seconds (default 5)
  --only LIST        receivers to run, comma-separated: tally,etsy,collectd (default all available)
  --tally PATH       the tally executable (default dist/tally)
  --tally-arg ARG    an extra 'tally run' argument (repeatable), e.g. --tally-arg=--workers --tally-arg=2
  --lines LIST       lines per packet to test, comma-separated (default 10,1)
  --warm-up N        before each trial's measured load, send the same load for N s and read it back
                     (default 0: the measured load meets a receiver that has just started)
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

interface Options extends CommonOptions<ReceiverName> {
  readonly lines: readonly number[];
  readonly warmUpSeconds: number;
  readonly node: string;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...COMMON_FLAGS,
      lines: { type: "string" },
      "warm-up": { type: "string" },
      node: { type: "string" },
    },
    strict: true,
  });
  if (values.help === true) return undefined;
  return {
    ...commonOptions(values, { receivers: ALL_RECEIVERS, startPps: "20000", maxPps: "500000" }),
    lines: (values.lines ?? "10,1").split(",").map((n) => positive("--lines", n)),
    warmUpSeconds: values["warm-up"] === undefined ? 0 : positive("--warm-up", values["warm-up"], true),
    node: values.node ?? "node",
  };
}

/** The receivers to run, and notes on any skipped. */
async function chooseReceivers(
  options: Options,
  root: string,
): Promise<{ readonly receivers: Receiver[]; readonly notes: string[] }> {
  const receivers: Receiver[] = [];
  const notes: string[] = [];
  for (const name of options.only ?? ALL_RECEIVERS) {
    switch (name) {
      case "tally": {
        const tally = await snapshotTally(options, root, notes);
        if (tally !== undefined) receivers.push(tallyReceiver({ ...tally, extraArgs: options.tallyArgs }));
        break;
      }
      case "etsy":
        receivers.push(etsyReceiver({ node: options.node }));
        break;
      case "collectd":
        if (collectdAvailable(options, notes)) {
          receivers.push(collectdReceiver({ executable: options.collectd }));
        }
        break;
    }
  }
  return { receivers, notes };
}

async function run(options: Options, root: string): Promise<number> {
  const started = performance.now();
  const budgetEnd = started + options.budgetS * 1000;
  const summaries: ReceiverSummary[] = [];
  const { receivers, notes } = await chooseReceivers(options, root);
  for (const note of notes) process.stderr.write(`note: ${note}\n`);
  if (receivers.length === 0) {
    process.stderr.write("Cannot run the benchmark: no receiver is available\n");
    return 1;
  }
  const generator = await buildGenerator(root);
  process.stderr.write(
    `statsd bench: ${describeMachine()}; ${options.seconds} s per trial${
      options.warmUpSeconds > 0 ? ` after ${options.warmUpSeconds} s of warm-up` : ""
    }, ${NAMES} names, mix ${MIX}, ` +
      `loss limit ${LOSS_LIMIT * 100} %\n`,
  );
  const total = options.lines.length * receivers.length;
  const nextTrial = trialSettings(options, root);
  let searchIndex = 0;
  for (const linesPerPacket of options.lines) {
    const workload: Workload = {
      linesPerPacket,
      names: NAMES,
      mix: MIX,
      warmUpSeconds: options.warmUpSeconds,
    };
    for (const receiver of receivers) {
      const now = performance.now();
      const deadline = now + Math.max(0, budgetEnd - now) / (total - searchIndex);
      searchIndex++;
      process.stderr.write(
        `\n== ${receiver.label}, ${linesPerPacket} line${linesPerPacket === 1 ? "" : "s"}/packet ==\n`,
      );
      const search = await searchReceiver({
        options,
        minPps: 500,
        deadline,
        format: formatTrial,
        trial: (pps) => runTrial(receiver, { ...nextTrial(pps), generator, workload }),
      });
      const summary = summariseSearch(search, {
        receiver: receiver.name,
        label: receiver.label,
        readback: receiver.readback,
        linesPerPacket,
      });
      summaries.push(summary);
      reportSearchEnd(summary.linesPerSecond, "lines", search.stop);
    }
  }

  const ratios = tallyRatios(summaries);
  process.stdout.write(formatReport({
    name: "statsd",
    title: "StatsD receive benchmark",
    workload:
      `workload: statsd-gen, ${NAMES} names, mix ${MIX}; ${options.seconds} s per trial${
        options.warmUpSeconds > 0 ? ` after ${options.warmUpSeconds} s of the same load, not counted` : ""
      }; loss from ` +
      `counter totals; highest rate with < ${LOSS_LIMIT * 100} % loss`,
    notes,
    table: formatTable(summaries, ratios),
    receivers,
    started,
    json: {
      options: { ...options, names: NAMES, mix: MIX, lossLimit: LOSS_LIMIT },
      results: summaries,
      ratios,
    },
  }));
  return summaries.every((summary) => summary.stop !== "errors") ? 0 : 1;
}

process.exitCode = await runBench({ name: "statsd", usage: USAGE, parse: parseOptions, run });
