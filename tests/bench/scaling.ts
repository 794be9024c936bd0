/**
 * How tally's cost grows: a sweep of live series (1 k, 10 k, 100 k distinct names), workers (0, 1, auto)
 * and StatsD lines per packet (10, 1). Each cell is one trial of the compiled tally driven by
 * `../shared/tools/statsd-gen` at a fixed offered rate (by default more than one core can take, so the
 * figure is tally's capacity); it prints lines parsed per second, CPU per million lines, idle and peak
 * RSS and the loss, as a table and one JSON document, and writes an SVG plot of the three curves
 * (`docs/bench_scaling.svg` by default). A program, not a test; it asserts nothing.
 *
 * Run from the repository root, after `npm run build`:
 *
 *   ./node_modules/.bin/bun tests/bench/scaling.ts [--seconds 5] [--series 1000,10000,100000]
 *     [--workers 0,1,auto] [--lines 10,1] [--pps10 300000] [--pps1 400000] [--svg docs/bench_scaling.svg]
 *     [--tally dist/tally] [--quiet-wait 5]
 *
 * Method and reading: `scaling/README.md`.
 *
 * @module
 */
import { writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { REPO_ROOT } from "../harness/spawn_tally.ts";
import { describeMachine, formatReport, positive, runBench, snapshotTally } from "./_shared/bench_cli.ts";
import { measureTrial } from "./_shared/measure_trial.ts";
import { pollUntilSettled } from "./_shared/poll_until_settled.ts";
import { formatGrid, mb, si } from "./_shared/report.ts";
import { type PlotPoint, plotScaling } from "./scaling/plot.ts";
import { buildGenerator, runGenerator } from "./statsd/generator.ts";
import { tallyReceiver } from "./statsd/tally_receiver.ts";

const USAGE = `Usage: bun tests/bench/scaling.ts [options]

  --seconds N        load per cell, seconds (default 5)
  --series LIST      live series (distinct names) per cell, comma-separated (default 1000,10000,100000)
  --workers LIST     tally --workers values (default 0,1,auto)
  --lines LIST       lines per packet (default 10,1)
  --pps10 N          offered packets/s at 10 lines/packet (default 300000)
  --pps1 N           offered packets/s at 1 line/packet (default 400000)
  --svg PATH         where the plot goes (default docs/bench_scaling.svg)
  --tally PATH       the tally executable (default dist/tally)
  --quiet-wait N     before each cell, wait up to N s for other load to stop (default 5)
  -h, --help         this text`;

const MIX = "c=4,g=2,ms=2,s=1";

interface Options {
  readonly seconds: number;
  readonly series: readonly number[];
  readonly workers: readonly string[];
  readonly lines: readonly number[];
  readonly pps10: number;
  readonly pps1: number;
  readonly svg: string;
  readonly tally: string;
  readonly quietWaitS: number;
}

/** One cell's figures. */
interface Cell extends PlotPoint {
  readonly offeredPps: number;
  readonly achievedPps: number;
  readonly loss: number;
  readonly cores: number;
  readonly idleRssBytes: number;
  readonly seriesLive: number;
  readonly kernelDrops: number;
  readonly ringFull: number;
  readonly error?: string;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seconds: { type: "string" },
      series: { type: "string" },
      workers: { type: "string" },
      lines: { type: "string" },
      pps10: { type: "string" },
      pps1: { type: "string" },
      svg: { type: "string" },
      tally: { type: "string" },
      "quiet-wait": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help === true) return undefined;
  const list = (flag: string, raw: string): number[] => raw.split(",").map((n) => positive(flag, n));
  const workers = (values.workers ?? "0,1,auto").split(",");
  for (const w of workers) {
    if (w !== "auto" && !/^\d+$/.test(w)) {
      throw new Error(`Invalid --workers: expected numbers or auto, found "${w}"`);
    }
  }
  return {
    seconds: positive("--seconds", values.seconds ?? "5"),
    series: list("--series", values.series ?? "1000,10000,100000"),
    workers,
    lines: list("--lines", values.lines ?? "10,1"),
    pps10: positive("--pps10", values.pps10 ?? "300000"),
    pps1: positive("--pps1", values.pps1 ?? "400000"),
    svg: resolve(REPO_ROOT, values.svg ?? "docs/bench_scaling.svg"),
    tally: values.tally ?? "dist/tally",
    quietWaitS: positive("--quiet-wait", values["quiet-wait"] ?? "5", true),
  };
}

async function runCell(
  options: Options,
  root: string,
  generator: string,
  executable: string,
  cell: { readonly series: number; readonly workers: string; readonly linesPerPacket: number },
): Promise<Cell> {
  const offeredPps = cell.linesPerPacket === 1 ? options.pps1 : options.pps10;
  const receiver = tallyReceiver({ executable, extraArgs: ["--workers", cell.workers] });
  const dir = join(root, `cell-${cell.series}-${cell.workers}-${cell.linesPerPacket}`);
  const m = await measureTrial(receiver, {
    dir,
    quietWaitMs: options.quietWaitS * 1000,
    load: (live, onSpawn) =>
      runGenerator(generator, {
        port: live.port,
        pps: offeredPps,
        seconds: options.seconds,
        linesPerPacket: cell.linesPerPacket,
        names: cell.series,
        mix: MIX,
        sumsFile: join(dir, "sums.json"),
        onSpawn,
      }),
    settle: (live, summary) =>
      pollUntilSettled(live, () => live.readCounters(), {
        total: (counters) => [...counters.values()].reduce((a, b) => a + b, 0),
        expected: summary.counterSumExpected,
        stableMs: receiver.settleMs,
        capMs: 30_000,
        what: "counters",
      }),
    diagnose: (live) => live.readDiagnostics(),
  });
  const received = [...m.settled.values()].reduce((a, b) => a + b, 0);
  const lines = m.diagnosed["lines_received"] ?? 0;
  const seconds = m.summary.durationS;
  return {
    ...cell,
    offeredPps,
    achievedPps: m.summary.achievedPps,
    linesPerSecond: lines / seconds,
    cpuPerMillionLines: lines > 0 ? m.receiverCores * seconds / lines * 1e6 : Number.NaN,
    peakRssBytes: m.peakRssBytes,
    idleRssBytes: m.idleRssBytes,
    loss: m.summary.counterSumExpected > 0 ? 1 - received / m.summary.counterSumExpected : 0,
    cores: m.receiverCores,
    seriesLive: m.diagnosed["series_live"] ?? 0,
    kernelDrops: m.kernelDrops,
    ringFull: m.diagnosed["dropped_ring_full"] ?? 0,
  };
}

function formatTable(cells: readonly Cell[]): string {
  const header = [
    "series",
    "workers",
    "lines/pkt",
    "offered pps",
    "sent pps",
    "lines/s parsed",
    "cores",
    "CPU s per M lines",
    "loss",
    "idle RSS",
    "peak RSS",
    "kernel drops",
    "ring_full",
  ];
  const rows = cells.map((c) =>
    c.error !== undefined ? [String(c.series), c.workers, String(c.linesPerPacket), `error: ${c.error}`] : [
      si(c.series),
      c.workers,
      String(c.linesPerPacket),
      si(c.offeredPps),
      si(c.achievedPps),
      si(c.linesPerSecond),
      c.cores.toFixed(2),
      c.cpuPerMillionLines.toFixed(3),
      `${(c.loss * 100).toFixed(2)} %`,
      mb(c.idleRssBytes),
      mb(c.peakRssBytes),
      String(c.kernelDrops),
      String(c.ringFull),
    ]
  );
  return formatGrid(header, rows).join("\n");
}

async function run(options: Options, root: string): Promise<number> {
  const started = performance.now();
  const notes: string[] = [];
  // Only `tally` and `only` matter to the copy; the search settings are the other benchmarks'.
  const tally = await snapshotTally(
    {
      seconds: options.seconds,
      only: ["tally"],
      tally: resolve(REPO_ROOT, options.tally),
      tallyArgs: [],
      startPps: 0,
      maxPps: 0,
      bisect: 0,
      repeat: 1,
      budgetS: 0,
      quietWaitS: options.quietWaitS,
      collectd: "",
    },
    root,
    notes,
  );
  const generator = await buildGenerator(root);
  process.stderr.write(`scaling bench: ${describeMachine()}; load average ${loadAverage()}\n`);
  const cells: Cell[] = [];
  for (const linesPerPacket of options.lines) {
    for (const workers of options.workers) {
      for (const series of options.series) {
        const cell = { series, workers, linesPerPacket };
        process.stderr.write(
          `cell: ${series} series, workers ${workers}, ${linesPerPacket} line(s)/packet ... `,
        );
        try {
          const result = await runCell(options, root, generator, tally!.executable, cell);
          cells.push(result);
          process.stderr.write(
            `${si(result.linesPerSecond)} lines/s, ${result.cpuPerMillionLines.toFixed(3)} CPU s/M lines, ` +
              `peak ${mb(result.peakRssBytes)}, loss ${(result.loss * 100).toFixed(2)} %\n`,
          );
        } catch (error) {
          const message = error instanceof Error ? error.message.split("\n")[0]! : String(error);
          cells.push({
            ...cell,
            offeredPps: 0,
            achievedPps: 0,
            linesPerSecond: Number.NaN,
            cpuPerMillionLines: Number.NaN,
            peakRssBytes: Number.NaN,
            idleRssBytes: Number.NaN,
            loss: Number.NaN,
            cores: Number.NaN,
            seriesLive: 0,
            kernelDrops: 0,
            ringFull: 0,
            error: message,
          });
          process.stderr.write(`error: ${message}\n`);
        }
      }
    }
  }
  const loadAfter = loadAverage();
  const caption =
    `tally ${options.tally}, ${describeMachine()}, ${new Date().toISOString().slice(0, 16)}Z, ` +
    `load average ${loadAfter}, ${options.seconds} s per cell`;
  await writeFile(options.svg, plotScaling(cells, caption));
  notes.push(`plot written to ${options.svg}`, `load average at the end: ${loadAfter}`);
  process.stdout.write(formatReport({
    name: "scaling",
    title: "Scaling benchmark: tally's throughput, CPU and memory by series, workers and lines/packet",
    workload:
      `workload: statsd-gen, mix ${MIX}, ${options.seconds} s per cell at ${si(options.pps10)} packets/s ` +
      `(10 lines) or ${
        si(options.pps1)
      } packets/s (1 line); lines/s parsed from tally_component_received_events_total`,
    notes,
    table: formatTable(cells),
    receivers: [{
      name: "tally",
      label: tally!.label,
      readback: "GET /metrics: counter totals, lines parsed, live series, drops by reason",
    }],
    started,
    json: { options, results: cells },
  }));
  return cells.every((c) => c.error === undefined) ? 0 : 1;
}

function loadAverage(): string {
  return loadavg().map((n) => n.toFixed(2)).join(" ");
}

process.exitCode = await runBench({ name: "scaling", usage: USAGE, parse: parseOptions, run });
