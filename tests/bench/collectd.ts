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
 *     [--budget 900] [--quiet-wait 20] [--names 1000] [--warm-up-input] [--tally-arg=--workers --tally-arg=2]
 *
 * Every trial starts a fresh receiver on a free loopback port in its own temporary directory and stops it
 * by PID (SIGTERM to its process group, then SIGKILL) afterwards, whatever happened. How each receiver's
 * count is read back: `collectd/receivers.ts` and `collectd/README.md`. The rate search, trial runner, `/proc`
 * sampling, process handling, report layout and the program around it are shared with the StatsD
 * benchmark (`_shared/`).
 *
 * @module
 */
import { existsSync } from "node:fs";
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
import { buildCollectdGenerator, COLLECTD_GENERATOR_SOURCE } from "./collectd/generator.ts";
import {
  type CollectdBenchReceiver,
  type CollectdBenchReceiverName,
  collectdNetworkReceiver,
  tallyCollectdReceiver,
} from "./collectd/receivers.ts";
import {
  type CollectdReceiverSummary,
  formatCollectdTable,
  formatCollectdTrial,
  summariseCollectdSearch,
} from "./collectd/report.ts";
import { type CollectdWorkload, runCollectdTrial } from "./collectd/run_trial.ts";

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
  --warm-up-input    give tally's collectd input warm_up = true (its parsing path compiled before it binds)
  --collectd PATH    the collectd daemon (default /usr/sbin/collectd)
  -h, --help         this text`;

const ALL_RECEIVERS: readonly CollectdBenchReceiverName[] = ["tally", "collectd"];
/** collectd's default MaxPacketSize, the packets the issue asks for. */
const PACKET_BYTES = 1452;
/** The target for tally on a 2-core machine. */
const TARGET_VALUE_LISTS_PER_SECOND = 300_000;

interface Options extends CommonOptions<CollectdBenchReceiverName> {
  readonly names: number;
  readonly warmUpInput: boolean;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: { ...COMMON_FLAGS, names: { type: "string" }, "warm-up-input": { type: "boolean" } },
    strict: true,
  });
  if (values.help === true) return undefined;
  return {
    ...commonOptions(values, { receivers: ALL_RECEIVERS, startPps: "2000", maxPps: "400000" }),
    names: Math.floor(positive("--names", values.names ?? "1000")),
    warmUpInput: values["warm-up-input"] === true,
  };
}

/** The receivers to run, and notes on any skipped. */
async function chooseReceivers(
  options: Options,
  root: string,
): Promise<{ readonly receivers: CollectdBenchReceiver[]; readonly notes: string[] }> {
  const receivers: CollectdBenchReceiver[] = [];
  const notes: string[] = [];
  for (const name of options.only ?? ALL_RECEIVERS) {
    if (name === "tally") {
      const tally = await snapshotTally(options, root, notes);
      if (tally !== undefined) {
        receivers.push(tallyCollectdReceiver({
          ...tally,
          extraArgs: options.tallyArgs,
          warmUpInput: options.warmUpInput,
        }));
      }
    } else if (collectdAvailable(options, notes)) {
      receivers.push(collectdNetworkReceiver({ executable: options.collectd }));
    }
  }
  return { receivers, notes };
}

async function run(options: Options, root: string): Promise<number> {
  if (!existsSync(COLLECTD_GENERATOR_SOURCE)) {
    process.stderr.write(`Cannot run the benchmark: "${COLLECTD_GENERATOR_SOURCE}" does not exist\n`);
    return 1;
  }
  const started = performance.now();
  const budgetEnd = started + options.budgetS * 1000;
  const summaries: CollectdReceiverSummary[] = [];
  const { receivers, notes } = await chooseReceivers(options, root);
  for (const note of notes) process.stderr.write(`note: ${note}\n`);
  if (receivers.length === 0) {
    process.stderr.write("Cannot run the benchmark: no receiver is available\n");
    return 1;
  }
  const generator = await buildCollectdGenerator(root);
  const workload: CollectdWorkload = { names: options.names, maxPacketBytes: PACKET_BYTES };
  process.stderr.write(
    `collectd bench: ${describeMachine()}; ${options.seconds} s per trial, ${options.names} identifiers, ` +
      `${PACKET_BYTES}-byte packets, loss limit ${LOSS_LIMIT * 100} %\n`,
  );
  const nextTrial = trialSettings(options, root);
  for (const [index, receiver] of receivers.entries()) {
    const now = performance.now();
    const deadline = now + Math.max(0, budgetEnd - now) / (receivers.length - index);
    process.stderr.write(`\n== ${receiver.label} ==\n`);
    const search = await searchReceiver({
      options,
      minPps: 100,
      deadline,
      format: formatCollectdTrial,
      trial: (pps) => runCollectdTrial(receiver, { ...nextTrial(pps), generator, workload }),
    });
    const summary = summariseCollectdSearch(search, {
      receiver: receiver.name,
      label: receiver.label,
      readback: receiver.readback,
    });
    summaries.push(summary);
    reportSearchEnd(summary.valueListsPerSecond, "value lists", search.stop);
  }

  process.stdout.write(formatReport({
    name: "collectd",
    title: "collectd receive benchmark",
    workload:
      `workload: collectd-gen, ${options.names} identifiers (counter, gauge, derive, absolute in equal ` +
      `parts), ${PACKET_BYTES}-byte packets; ${options.seconds} s per trial; loss = 1 - value lists processed ` +
      `1 s after the load / sent; highest rate with < ${LOSS_LIMIT * 100} % loss`,
    notes,
    table: formatCollectdTable(summaries, TARGET_VALUE_LISTS_PER_SECOND),
    receivers,
    started,
    json: {
      options: { ...options, packetBytes: PACKET_BYTES, lossLimit: LOSS_LIMIT },
      targetValueListsPerSecond: TARGET_VALUE_LISTS_PER_SECOND,
      results: summaries,
    },
  }));
  return summaries.every((summary) => summary.stop !== "errors") ? 0 : 1;
}

process.exitCode = await runBench({ name: "collectd", usage: USAGE, parse: parseOptions, run });
