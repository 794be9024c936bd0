/**
 * The forwarding benchmark's units: CPU time of this process and of another, rates and sizes as printed.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import type { Metric } from "../../src/model/metric.ts";
import { CLOCK_TICKS_PER_SECOND } from "./_shared/proc_stats.ts";

/**
 * This process's CPU time (user + system) since a `process.cpuUsage()` reading.
 *
 * @param before The reading.
 * @returns Milliseconds.
 */
export function cpuMsSince(before: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/**
 * A process's CPU time so far (user + system), from `/proc/PID/stat`.
 *
 * @param pid The process.
 * @returns Milliseconds.
 */
export function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * (1000 / CLOCK_TICKS_PER_SECOND);
}

/**
 * A rate as printed: `1.23 M/s` or `456.7 k/s`.
 *
 * @param n How many.
 * @param ms In how long.
 * @returns The text.
 */
export function rate(n: number, ms: number): string {
  const perSecond = n / (ms / 1000);
  return perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)} M/s` : `${(perSecond / 1e3).toFixed(1)} k/s`;
}

/**
 * A size as printed: `12.3 MiB`.
 *
 * @param bytes The size.
 * @returns The text.
 */
export function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** What the forwarding benchmark's parts share: how to print, the workload, and a scratch directory. */
export interface ForwardBenchContext {
  /** Prints a line and keeps it for the report. */
  readonly say: (line: string) => void;
  /** One flush of the workload's series stamped `timeMs` (`flush` varies the values). */
  readonly flushOf: (flush: number, timeMs: number) => Metric[];
  /** How many flushes each measurement encodes. */
  readonly flushes: number;
  /** A directory the part may use. */
  readonly root: string;
}

/** The flushes a part encodes, and the one it warms up with. */
export interface BenchFlushes {
  /** The window every flush is aligned to: the current 10 s window. */
  readonly now: number;
  /** `flushes` consecutive 10 s windows ending at `now`. */
  readonly flushes: Metric[][];
  /** A flush an hour back: it fills the caches and settles the JIT, and is not measured. */
  readonly warmUp: Metric[];
}

/**
 * Builds the workload of one part: each flush's metrics are fresh objects, but a series' name, labels and
 * key are the same objects every flush, as tally's series table hands them out.
 *
 * @param ctx The workload.
 * @returns The flushes and the warm-up flush.
 */
export function benchFlushes(ctx: Pick<ForwardBenchContext, "flushOf" | "flushes">): BenchFlushes {
  const now = Math.floor(Date.now() / 10_000) * 10_000;
  const flushes = Array.from(
    { length: ctx.flushes },
    (_, f) => ctx.flushOf(f, now - (ctx.flushes - f) * 10_000),
  );
  return { now, flushes, warmUp: ctx.flushOf(0, now - 3_600_000) };
}
