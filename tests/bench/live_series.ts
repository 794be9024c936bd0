/**
 * Memory with many live series: one freshly started `tally run` (default config but for its ports, so one
 * worker reading the StatsD socket, 10 s flushes) held under a steady StatsD load over N distinct names
 * for a while, its resident memory sampled (every 0.5 s by default) throughout and for 11 s after. It prints, for each
 * run, the peak (`VmHWM`, read after the last flush of the load, and again after one scrape of `/metrics`,
 * which renders every live series), the median and 90th percentile of `VmRSS`
 * while loaded, the highest `VmRSS` sampled and when, and the lines lost. Issue 10's target is ≤ 300 MB with 100 000 live series. A benchmark program, not a test; it
 * asserts nothing.
 *
 * ```sh
 * ./node_modules/.bin/bun tests/bench/live_series.ts [--tally dist/tally] [--series 100000] [--pps 30000]
 *   [--lines 10] [--seconds 45] [--mix c=4,g=2,ms=2,s=2] [--runs 1] [--sample-ms 500] [--tally-arg=--flush-interval --tally-arg=1s]
 * ```
 *
 * The load is `statsd-gen -l LINES -n SERIES -m MIX` at PPS packets/s (300 000 lines/s by default, well
 * under what one worker takes at this many series, so memory is what is measured, not overload). Loss is
 * `1 - lines parsed / lines sent`, lines parsed read from `tally_component_received_events_total`.
 *
 * @module
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { freePort } from "../harness/free_port.ts";
import { REPO_ROOT } from "../harness/spawn_tally.ts";
import { describeMachine, positive } from "./_shared/bench_cli.ts";
import { treeMemory } from "./_shared/proc_stats.ts";
import { sleep } from "./_shared/receiver_process.ts";
import { readyzAnswers200, scrapeMetrics, startReceiver } from "./_shared/start_receiver.ts";
import { buildGenerator, type GeneratorSummary, runGenerator } from "./statsd/generator.ts";
import { parseTallyDiagnostics } from "./statsd/tally_receiver.ts";

const MIB = 1024 * 1024;
/** After the load, long enough for one more 10 s flush to take the last window's series. */
const AFTER_LOAD_MS = 11_000;

interface Options {
  readonly tally: string;
  readonly series: number;
  readonly pps: number;
  readonly lines: number;
  readonly seconds: number;
  readonly mix: string;
  readonly runs: number;
  /** How often `VmRSS` is read, ms. */
  readonly sampleMs: number;
  readonly tallyArgs: readonly string[];
}

interface RunFigures {
  readonly hwmMiB: number;
  /** `VmHWM` after one scrape of `/metrics`. */
  readonly hwmScrapedMiB: number;
  readonly p50MiB: number;
  readonly p90MiB: number;
  /** The highest `VmRSS` sampled, and when: seconds after the load started. */
  readonly maxMiB: number;
  readonly maxAtS: number;
  readonly linesSent: number;
  readonly linesParsed: number;
  readonly seriesLive: number;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      tally: { type: "string" },
      series: { type: "string" },
      pps: { type: "string" },
      lines: { type: "string" },
      seconds: { type: "string" },
      mix: { type: "string" },
      runs: { type: "string" },
      "sample-ms": { type: "string" },
      "tally-arg": { type: "string", multiple: true },
    },
    strict: true,
  });
  return {
    tally: resolve(REPO_ROOT, values.tally ?? "dist/tally"),
    series: Math.floor(positive("--series", values.series ?? "100000")),
    pps: positive("--pps", values.pps ?? "30000"),
    lines: Math.floor(positive("--lines", values.lines ?? "10")),
    seconds: positive("--seconds", values.seconds ?? "45"),
    mix: values.mix ?? "c=4,g=2,ms=2,s=2",
    runs: Math.floor(positive("--runs", values.runs ?? "1")),
    sampleMs: positive("--sample-ms", values["sample-ms"] ?? "500"),
    tallyArgs: values["tally-arg"] ?? [],
  };
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

async function runOnce(options: Options, generator: string, root: string, run: number): Promise<RunFigures> {
  const dir = join(root, `run-${run}`);
  await mkdir(dir);
  const port = await freePort("udp");
  const httpPort = await freePort("tcp");
  const base = `http://127.0.0.1:${httpPort}`;
  const tally = await startReceiver(options.tally, [
    "run",
    "--statsd",
    `udp:127.0.0.1:${port}`,
    "--http",
    `127.0.0.1:${httpPort}`,
    "--data-dir",
    join(dir, "data"),
    ...options.tallyArgs,
  ], { cwd: root, port, isReady: readyzAnswers200(base) });
  try {
    const samples: number[] = [];
    // tally runs no child process; its threads are in its own status.
    const pids = [tally.pid];
    // Sampled after the load too: the last windows' flushes come then.
    const sampler = setInterval(() => samples.push(treeMemory(pids).rssBytes), options.sampleMs);
    let summary: GeneratorSummary;
    let loadedSamples: number;
    try {
      summary = await runGenerator(generator, {
        port,
        pps: options.pps,
        seconds: options.seconds,
        linesPerPacket: options.lines,
        names: options.series,
        mix: options.mix,
        sumsFile: join(dir, "sums.json"),
      });
      loadedSamples = samples.length;
      await sleep(AFTER_LOAD_MS);
    } finally {
      clearInterval(sampler);
    }
    // The peak before any scrape: rendering /metrics over every live series has a peak of its own.
    const hwm = treeMemory(pids).hwmBytes;
    const diagnostics = parseTallyDiagnostics(await scrapeMetrics(base));
    const hwmScraped = treeMemory(pids).hwmBytes;
    const sorted = samples.slice(0, loadedSamples).toSorted((a, b) => a - b);
    const max = Math.max(...samples);
    return {
      hwmMiB: hwm / MIB,
      hwmScrapedMiB: hwmScraped / MIB,
      p50MiB: quantile(sorted, 0.5) / MIB,
      p90MiB: quantile(sorted, 0.9) / MIB,
      maxMiB: max / MIB,
      maxAtS: (samples.indexOf(max) + 1) * options.sampleMs / 1000,
      linesSent: summary.linesSent,
      linesParsed: diagnostics["lines_received"] ?? 0,
      seriesLive: diagnostics["series_live"] ?? 0,
    };
  } finally {
    await tally.stop();
  }
}

function loadText(): string {
  return loadavg().map((value) => value.toFixed(2)).join(" ");
}

async function main(): Promise<void> {
  const options = parseOptions();
  const root = await mkdtemp(join(tmpdir(), "tally-live-series-"));
  try {
    const generator = await buildGenerator(root);
    process.stdout.write(
      `live series: ${describeMachine()}\n` +
        `tally ${options.tally} run ${options.tallyArgs.join(" ")}\n` +
        `load: statsd-gen ${options.pps} packets/s × ${options.lines} lines over ${options.series} names ` +
        `(${options.mix}) for ${options.seconds} s\n\n` +
        "| run | start (UTC) | load average before / after | VmHWM | VmHWM after a scrape | p50 / p90 VmRSS loaded | highest VmRSS sampled | loss | " +
        "series live at the end |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- |\n",
    );
    for (let run = 1; run <= options.runs; run++) {
      const start = new Date().toISOString().slice(11, 19);
      const before = loadText();
      const figures = await runOnce(options, generator, root, run);
      const loss = figures.linesSent === 0 ? 0 : 1 - figures.linesParsed / figures.linesSent;
      process.stdout.write(
        `| ${run} | ${start} | ${before} / ${loadText()} | ${figures.hwmMiB.toFixed(1)} MiB | ` +
          `${figures.hwmScrapedMiB.toFixed(1)} MiB | ` +
          `${figures.p50MiB.toFixed(0)} / ${figures.p90MiB.toFixed(0)} MiB | ${
            figures.maxMiB.toFixed(1)
          } MiB at ` +
          `+${figures.maxAtS.toFixed(1)} s | ${(loss * 100).toFixed(3)} % ` +
          `(${figures.linesParsed} of ${figures.linesSent}) | ${figures.seriesLive} |\n`,
      );
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

await main();
