/**
 * Micro-benchmark of a worker's cost per StatsD line without the socket: `FrameSink.datagram()` (parse and
 * aggregate, the path a worker runs on each datagram of a `recvmmsg` batch) over the packets
 * `../shared/tools/statsd-gen` sends, with a window change and a `take()` every `--window` lines, as a
 * worker sees with 1 s flushes. Prints CPU seconds per million lines (the figure the scaling benchmark
 * prints, less `recvmmsg`, the hand-over and the main thread) for each name count. Not a test; it
 * asserts nothing.
 *
 * Run: `./node_modules/.bin/bun tests/bench/frame_sink.ts [--names 1000,10000,100000] [--lines 12000000]
 * [--window 1000000] [--warm-up]`.
 *
 * The packets are statsd-gen's: 10 lines each, name `bench.TYPE.K` for line `i` with `K = i % names`, the
 * mix `c=4,g=2,ms=2,s=1` over `K`, values varying with `i`; they sit back to back in one buffer, as a
 * batch's datagrams do. The first window of each name count warms the JIT up and is left out (its cost is printed apart:
 * the first name count's is what a cold worker pays, JIT threads included); `--warm-up` runs a worker's
 * warm-up (`src/pipeline/_warm_up.ts`) first.
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { FORMAT_IDS } from "../../src/model/frame.ts";
import { FrameSink } from "../../src/pipeline/frame_sink.ts";
import { warmUp } from "../../src/pipeline/_warm_up.ts";

const LINES_PER_PACKET = 10;
const SINK = { intervalMs: 1000, exactLimit: 256, maxSeries: 100_000, maxEvents: 10_000 };
const MIX = ["c", "c", "c", "c", "g", "g", "ms", "ms", "s"] as const;

/** Packets of lines `0 .. names` (at least 256 packets), back to back, with each one's start. */
interface Packets {
  readonly bytes: Uint8Array;
  readonly starts: readonly number[];
}

/** Builds statsd-gen's template ring for `names` names. */
function makePackets(names: number): Packets {
  let packets = names / LINES_PER_PACKET;
  while (packets < 256) packets *= 2;
  const text: string[] = [];
  const starts: number[] = [];
  let offset = 0;
  for (let p = 0; p < packets; p++) {
    const lines: string[] = [];
    for (let j = 0; j < LINES_PER_PACKET; j++) {
      const i = p * LINES_PER_PACKET + j;
      const k = i % names;
      const h = (Math.imul(i, 2654435761) >>> 0) + 12345;
      switch (MIX[k % MIX.length]) {
        case "c":
          lines.push(`bench.c.${k}:${1 + (i % 5)}|c`);
          break;
        case "g":
          lines.push(`bench.g.${k}:${h % 1000}|g`);
          break;
        case "ms":
          lines.push(`bench.ms.${k}:${h % 500}.${h % 10}|ms`);
          break;
        default:
          lines.push(`bench.s.${k}:u${h % 100}|s`);
      }
    }
    const packet = lines.join("\n");
    starts.push(offset);
    text.push(packet);
    offset += packet.length;
  }
  starts.push(offset);
  return { bytes: new TextEncoder().encode(text.join("")), starts };
}

/** What one name count cost: CPU seconds per million lines, the first window's (JIT included) apart. */
interface Measured {
  readonly cpu: number;
  readonly firstCpu: number;
  readonly series: number;
}

/** Feeds `total` lines of `names` names through one sink, after the first window. */
function measure(names: number, total: number, window: number): Measured {
  const { bytes, starts } = makePackets(names);
  const sink = new FrameSink(SINK);
  const packets = starts.length - 1;
  let windowMs = 1_700_000_000_000;
  let seq = 0;
  let p = 0;
  let inWindow = 0;
  let measured = 0;
  let series = 0;
  let cpu = 0;
  let firstCpu = 0;
  let warm = false;
  let t0 = process.cpuUsage();
  for (let lines = 0; lines < total + window; lines += LINES_PER_PACKET) {
    sink.datagram(0, FORMAT_IDS.statsd, seq++, windowMs, bytes, starts[p]!, starts[p + 1]!);
    if (++p === packets) p = 0;
    inWindow += LINES_PER_PACKET;
    if (inWindow >= window) {
      series = sink.take(windowMs).aggregate.buckets[0]?.series.length ?? 0;
      windowMs += 1000;
      const used = process.cpuUsage(t0);
      if (warm) {
        cpu += (used.user + used.system) / 1e6;
        measured += inWindow;
      } else {
        firstCpu = (used.user + used.system) / 1e6 / (inWindow / 1e6);
      }
      warm = true;
      inWindow = 0;
      t0 = process.cpuUsage();
    }
  }
  return { cpu: cpu / (measured / 1e6), firstCpu, series };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      names: { type: "string", default: "1000,10000,100000" },
      lines: { type: "string", default: "12000000" },
      window: { type: "string", default: "1000000" },
      "warm-up": { type: "boolean", default: false },
    },
  });
  if (values["warm-up"]) {
    // As a worker does before it takes its sockets (`_warm_up.ts`); the process's CPU, JIT threads included.
    const t0 = process.cpuUsage();
    const started = performance.now();
    const { lines } = warmUp(SINK);
    const used = process.cpuUsage(t0);
    console.log(
      `frame_sink: warm-up of ${lines} lines took ${(performance.now() - started).toFixed(0)} ms, ` +
        `${((used.user + used.system) / 1000).toFixed(0)} ms CPU`,
    );
  }
  const total = Number(values.lines);
  const window = Number(values.window);
  for (const names of values.names.split(",").map(Number)) {
    const { cpu, firstCpu, series } = measure(names, total, window);
    console.log(
      `frame_sink: ${names} names, ${series} series a window of ${window} lines: ` +
        `${cpu.toFixed(3)} CPU s per M lines (${(1 / cpu).toFixed(2)} M lines/s a core); ` +
        `first window ${firstCpu.toFixed(3)}`,
    );
  }
}

main();
