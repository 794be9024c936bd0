/**
 * Where the memory of many live series goes: one worker's side and the main thread's side of a flush,
 * run in one process so each stage's live heap can be read after a full collection (Bun's `bun:jsc`
 * `heapStats()`), which RSS sampling of the running collector cannot separate from garbage not yet
 * collected. A program, not a test; it asserts nothing.
 *
 * The worker side is what `worker_main.ts` runs: StatsD frames of ten lines, as `statsd-gen` sends them,
 * into a `FrameSink`, then `handOver` with the worker's `SeriesNamer`, each message copied by
 * `structuredClone` as `postMessage` copies it. The main side is what the pipeline runs with one worker:
 * the pool's `SeriesDictionary` turns each piece back into series and `SeriesTable.finishSeries`
 * finishes them as the piece arrives. Each stage prints the heap after a full collection, its change,
 * bytes per series, and the memory the heap's objects hold outside it (typed arrays' bytes, such as the
 * sets' tables: `extraMemorySize`, both threads' sides together).
 *
 * Run: `./node_modules/.bin/bun tests/bench/series_memory.ts [--series 100000] [--samples 30]
 * [--windows 3] [--mix c=4,g=2,ms=2,s=2]` (the mix as `statsd-gen -m`: counters, gauges, timers, sets,
 * histograms).
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { FORMAT_IDS } from "../../src/model/frame.ts";
import { DEFAULT_PERCENTILES, SeriesTable } from "../../src/pipeline/aggregate/series_table.ts";
import { FrameSink } from "../../src/pipeline/frame_sink.ts";
import { handOver, SeriesDictionary, SeriesNamer } from "../../src/pipeline/_hand_over.ts";

const INTERVAL = 10_000;
const TYPES = ["c", "g", "ms", "s", "h"] as const;

interface Options {
  readonly series: number;
  readonly samples: number;
  readonly windows: number;
  readonly mix: readonly (typeof TYPES[number])[];
  readonly mixText: string;
}

function parseOptions(): Options {
  const { values } = parseArgs({
    options: {
      series: { type: "string", default: "100000" },
      samples: { type: "string", default: "30" },
      windows: { type: "string", default: "3" },
      mix: { type: "string", default: "c=4,g=2,ms=2,s=2" },
    },
  });
  const mix: (typeof TYPES[number])[] = [];
  for (const part of values.mix.split(",")) {
    const [type, weight] = part.split("=");
    const t = TYPES.find((x) => x === type);
    if (t === undefined || !(Number(weight) > 0)) throw new Error(`Cannot read --mix: bad part "${part}"`);
    for (let i = 0; i < Number(weight); i++) mix.push(t);
  }
  return {
    series: Number(values.series),
    samples: Number(values.samples),
    windows: Number(values.windows),
    mix,
    mixText: values.mix,
  };
}

/** One line of series `k`'s `i`-th sample, with statsd-gen's names and value ranges. */
function line(options: Options, k: number, i: number): string {
  const h = (Math.imul(k, 2654435761) + Math.imul(i, 40503)) >>> 0;
  switch (options.mix[k % options.mix.length]!) {
    case "c":
      return `bench.c.${k}:${1 + (h % 5)}|c`;
    case "g":
      return `bench.g.${k}:${h % 1000}|g`;
    case "ms":
      return `bench.ms.${k}:${h % 500}.${h % 10}|ms`;
    case "s":
      return `bench.s.${k}:u${h % 100}|s`;
    case "h":
      return `bench.h.${k}:${h % 1000}|h`;
  }
}

interface Jsc {
  heapStats(): { heapSize: number; objectCount: number; extraMemorySize: number };
}

async function main(): Promise<void> {
  if (!("Bun" in globalThis)) {
    process.stdout.write("series_memory: needs Bun (bun:jsc); run it with ./node_modules/.bin/bun\n");
    return;
  }
  const options = parseOptions();
  const jsc = await import("bun:jsc" as string) as Jsc;
  const bun = (globalThis as unknown as { Bun: { gc(sync: boolean): void } }).Bun;
  const rows: string[][] = [["stage", "heap MiB", "change MiB", "B/series", "objects", "outside MiB", "ms"]];
  let last = 0;
  const measure = (stage: string, ms: number): void => {
    bun.gc(true);
    const { heapSize, objectCount, extraMemorySize } = jsc.heapStats();
    const change = heapSize - last;
    last = heapSize;
    rows.push([
      stage,
      (heapSize / 1048576).toFixed(1),
      (change >= 0 ? "+" : "") + (change / 1048576).toFixed(1),
      (change / options.series).toFixed(0),
      String(objectCount),
      (extraMemorySize / 1048576).toFixed(1),
      ms.toFixed(0),
    ]);
  };

  const sink = new FrameSink({
    intervalMs: INTERVAL,
    exactLimit: 256,
    maxSeries: options.series,
    maxEvents: 100,
  });
  const namer = new SeriesNamer(2 * options.series, sink.numbers);
  const dictionary = new SeriesDictionary();
  const table = new SeriesTable({
    intervalMs: INTERVAL,
    percentiles: DEFAULT_PERCENTILES,
    maxSeries: options.series,
    idleMs: 300_000,
    exactLimit: 256,
  });
  const encoder = new TextEncoder();
  let seq = 0;
  const fill = (windowMs: number, samples: number): number => {
    const started = performance.now();
    for (let i = 0; i < samples; i++) {
      for (let k = 0; k < options.series; k += 10) {
        let text = line(options, k, i);
        for (let j = k + 1; j < Math.min(k + 10, options.series); j++) text += "\n" + line(options, j, i);
        sink.frame(0, FORMAT_IDS.statsd, ++seq, windowMs, encoder.encode(text));
      }
    }
    return performance.now() - started;
  };

  measure("start", 0);
  // One sample per series, handed over and dropped: what stays is the parser's identity cache.
  fill(0, 1);
  sink.take(0);
  measure("worker: identity cache", 0);
  let metrics = 0;
  for (let w = 1; w <= options.windows; w++) {
    const windowMs = w * INTERVAL;
    measure(`worker: window ${w} filled`, fill(windowMs, options.samples));
    const started = performance.now();
    let pieces = 0;
    // Each message is read as it arrives, as the pool reads a worker's messages: one piece in flight.
    handOver(w, sink.take(windowMs), {
      namer,
      between: () => {},
      post(message) {
        const copy = structuredClone(message);
        if (copy.kind !== "chunk" && copy.kind !== "partial") return;
        pieces++;
        dictionary.read(copy.piece, (ms, series, state) => {
          if (table.finishSeries(ms, series, state) !== undefined) metrics++;
        });
      },
    });
    measure(`  flushed in ${pieces} pieces: table, names`, performance.now() - started);
  }
  const width = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const out = rows.map((r) =>
    r.map((cell, c) => c === 0 ? cell.padEnd(width[c]!) : cell.padStart(width[c]!)).join("  ")
  );
  process.stdout.write(
    `series_memory: ${options.series} series, ${options.samples} samples each per window, mix ${options.mixText}, ${metrics} metrics finished; heap after a full collection (bun ${
      (globalThis as unknown as { Bun: { version: string } }).Bun.version
    })\n${out.join("\n")}\n`,
  );
}

await main();
