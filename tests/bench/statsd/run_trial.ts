/**
 * One StatsD benchmark trial: the shared trial runner (`../_shared/measure_trial.ts`: quiet wait, fresh
 * receiver, ready time, idle and peak memory, CPU) with statsd-gen as the load, then the receiver's
 * counter totals, polled until they settle, compared name by name with the generator's exact sums.
 *
 * @module
 */
import { join } from "node:path";
import { measureTrial, type TrialOptions as SharedTrialOptions } from "../_shared/measure_trial.ts";
import { pollUntilSettled } from "../_shared/poll_until_settled.ts";
import { LOSS_LIMIT, type TrialResult } from "../_shared/trial_result.ts";
import { runGenerator } from "./generator.ts";
import type { Receiver, RunningReceiver } from "./receiver.ts";

/** What each trial sends, apart from its rate. */
export interface Workload {
  /** StatsD lines per datagram. */
  readonly linesPerPacket: number;
  /** Distinct metric names. */
  readonly names: number;
  /** Type weights for the generator's `-m`. */
  readonly mix: string;
  /**
   * Seconds of the same load sent, and read back, before the measured load (0: none). The measured
   * loss then leaves out the receiver's start (its compilers warming up beside the load), which a
   * collector that runs for days meets once.
   */
  readonly warmUpSeconds: number;
}

/** Options for {@link runTrial}. */
export type TrialOptions = SharedTrialOptions<Workload>;

/** The bound on waiting for counters to settle. */
const SETTLE_CAP_MS = 20_000;

/**
 * Runs one trial; see the module doc. A unit is a StatsD line; `expected` and `received` are counter
 * totals.
 *
 * @param receiver The StatsD receiver to start.
 * @param options The generator, workload, rate, duration and directory.
 * @returns The measurements.
 * @throws {Error} When the receiver cannot start, the generator fails or the readback keeps failing; the
 *   receiver is stopped and the directory removed in every case.
 */
export async function runTrial(receiver: Receiver, options: TrialOptions): Promise<TrialResult> {
  let before: ReadonlyMap<string, number> = new Map();
  const generate = (live: RunningReceiver, seconds: number, sums: string, onSpawn: (pid: number) => void) =>
    runGenerator(options.generator, {
      port: live.port,
      pps: options.pps,
      seconds,
      linesPerPacket: options.workload.linesPerPacket,
      names: options.workload.names,
      mix: options.workload.mix,
      sumsFile: join(options.dir, sums),
      onSpawn,
    });
  const { summary, settled: counters, diagnosed, ...measured } = await measureTrial(receiver, {
    dir: options.dir,
    quietWaitMs: options.quietWaitMs,
    ...options.workload.warmUpSeconds > 0 && {
      warmUp: async function warmUp(live: RunningReceiver) {
        const warm = await generate(live, options.workload.warmUpSeconds, "warm_up_sums.json", () => {});
        before = await pollUntilSettled(live, () => live.readCounters(), {
          total: sumValues,
          expected: warm.counterSumExpected,
          stableMs: receiver.settleMs,
          capMs: SETTLE_CAP_MS,
          what: "counters after the warm-up",
        });
      },
    },
    load: (live, onSpawn) => generate(live, options.seconds, "sums.json", onSpawn),
    settle: (live, summary) =>
      pollUntilSettled(live, async () => since(before, await live.readCounters()), {
        total: sumValues,
        expected: summary.counterSumExpected,
        stableMs: receiver.settleMs,
        capMs: SETTLE_CAP_MS,
        what: "counters",
      }),
    diagnose: (live) =>
      live.readDiagnostics().catch((error: unknown) => ({
        [`readback_error: ${error instanceof Error ? error.message : String(error)}`]: 1,
      })),
  });
  let namesWrong = 0;
  let overcount = false;
  for (const [name, expected] of summary.sums) {
    const got = counters.get(name) ?? 0;
    if (got !== expected) namesWrong++;
    if (got > expected) overcount = true;
  }
  const expected = summary.counterSumExpected;
  const received = sumValues(counters);
  const loss = expected > 0 ? 1 - received / expected : 0;
  return {
    targetPps: options.pps,
    achievedPps: summary.achievedPps,
    unitsPerSecond: summary.linesSent / summary.durationS,
    packetsSent: summary.packetsSent,
    unitsSent: summary.linesSent,
    expected,
    received,
    loss,
    namesExpected: summary.sums.size,
    namesSeen: counters.size,
    namesWrong,
    overcount,
    passed: loss < LOSS_LIMIT && !overcount && !measured.crashed,
    diagnostics: diagnosed,
    ...measured,
  };
}

/** Each name's count since `before`: what the measured load added. */
function since(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, total] of after) {
    const added = total - (before.get(name) ?? 0);
    if (added !== 0) out.set(name, added);
  }
  return out;
}

function sumValues(counters: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const value of counters.values()) total += value;
  return total;
}
