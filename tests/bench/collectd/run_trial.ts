/**
 * One trial of the collectd benchmark: wait for the machine to be quiet, start a fresh receiver, measure
 * its time to ready and idle memory, drive it with collectd-gen at one packet rate while sampling its
 * memory and CPU, read how many value lists it had processed 1 s after the load ended, then wait for its
 * count to settle, compare both with the generator's, and stop it (always, even on errors).
 *
 * **Loss** is `1 − processed at (end of load + 1 s) / sent`. Not the count it reaches eventually: collectd's
 * network plugin queues received packets without bound (its receive list) and works off a backlog for
 * seconds after the load, at twice the rate it manages while packets still arrive, so an eventual count
 * would let it pass at rates it cannot sustain. The second of grace covers reporting latency (collectd
 * reports its count once a second; the value at the moment is interpolated between its rows) and
 * packets in flight. The eventual count is kept beside it (`eventualLoss`), as is tally's check of the
 * exact sums.
 *
 * The result is the StatsD benchmark's {@link TrialResult} (so its rate search, `findMaxRate`, runs
 * unchanged) with "lines" meaning value lists, plus the collectd-specific figures in
 * {@link CollectdTrialExtra}.
 *
 * @module
 */
import { mkdir, rm } from "node:fs/promises";
import { runCollectdGenerator } from "./generator.ts";
import type { CollectdGeneratorSummary } from "./generator.ts";
import type { CollectdBenchReceiver, ReceivedCount, RunningCollectdBenchReceiver } from "./receivers.ts";
import {
  busyShare,
  CLOCK_TICKS_PER_SECOND,
  machineCpu,
  processTree,
  treeCpuSeconds,
  treeMemory,
  udpPortState,
} from "../statsd/proc_stats.ts";
import { sleep } from "../statsd/receiver_process.ts";
import { LOSS_LIMIT, QUIET_SHARE, type TrialResult } from "../statsd/run_trial.ts";

/** What each trial sends, apart from its rate. */
export interface CollectdWorkload {
  /** Distinct identifiers. */
  readonly names: number;
  /** Largest packet payload, bytes. */
  readonly maxPacketBytes: number;
}

/** Options for {@link runCollectdTrial}. */
export interface CollectdTrialOptions {
  /** The generator executable. */
  readonly generator: string;
  /** What to send. */
  readonly workload: CollectdWorkload;
  /** Target rate, packets/s. */
  readonly pps: number;
  /** Load duration, seconds. */
  readonly seconds: number;
  /** A directory for this trial, created here and removed afterwards. */
  readonly dir: string;
  /** How long to wait for the machine to fall quiet before starting, ms (0: do not wait). */
  readonly quietWaitMs: number;
}

/** What a collectd trial adds to {@link TrialResult}. */
export interface CollectdTrialExtra {
  /** Value lists per packet the generator achieved (value lists sent ÷ packets sent). */
  readonly valueListsPerPacket: number;
  /** The generator's summary. */
  readonly generator: CollectdGeneratorSummary;
  /** The receiver's final count and diagnostics. */
  readonly count: ReceivedCount;
  /** Value lists processed 1 s after the load ended (the count the loss is computed from). */
  readonly countAtGrace: number;
  /** `1 − final count / sent`: the loss once any backlog was worked off. */
  readonly eventualLoss: number;
  /**
   * tally only: `1 − Σ ABSOLUTE totals / absolute_sum`, an independent check of the loss from the values
   * themselves; `null` for collectd.
   */
  readonly absoluteLoss: number | null;
  /**
   * tally only: whether the COUNTER and DERIVE totals on /metrics equal the generator's final running
   * totals (they do whenever the last value list of each identifier arrived); `null` for collectd.
   */
  readonly finalTotalsExact: boolean | null;
}

/** A trial's outcome: the StatsD benchmark's shape ("lines" = value lists) plus the collectd figures. */
export type CollectdTrialResult = TrialResult & { readonly collectd: CollectdTrialExtra };

const IDLE_WAIT_MS = 1000;
const RSS_SAMPLE_MS = 200;
const SETTLE_POLL_MS = 200;
/**
 * The bound on waiting for the count after the load. A receiver that queues without bound (collectd's
 * receive list and write queue have no limit by default) could otherwise drain a backlog far past the
 * load and pass at a rate it cannot sustain; what it has not counted 10 s after the load is lost.
 */
const SETTLE_CAP_MS = 10_000;
const QUIET_WINDOW_MS = 500;
/** How long after the load the count is taken (reporting latency and packets in flight). */
export const GRACE_MS = 1000;

/**
 * Runs one trial; see the module doc.
 *
 * @param receiver The receiver to start.
 * @param options The generator, workload, rate, duration and directory.
 * @returns The measurements.
 * @throws {Error} When the receiver cannot start, the generator fails or the readback keeps failing; the
 *   receiver is stopped and the directory removed in every case.
 */
export async function runCollectdTrial(
  receiver: CollectdBenchReceiver,
  options: CollectdTrialOptions,
): Promise<CollectdTrialResult> {
  await mkdir(options.dir, { recursive: true });
  let running: RunningCollectdBenchReceiver | undefined;
  let sampler: ReturnType<typeof setInterval> | undefined;
  try {
    const quietShare = await waitForQuiet(options.quietWaitMs);
    running = await receiver.start(options.dir);
    const live = running;
    const idleCpuBefore = machineCpu();
    const idleReceiverBefore = treeCpuSeconds(processTree(live.pid));
    await sleep(IDLE_WAIT_MS);
    const pids = processTree(live.pid);
    const idleCpuAfter = machineCpu();
    const idleReceiverTicks = (treeCpuSeconds(pids) - idleReceiverBefore) * CLOCK_TICKS_PER_SECOND;
    const idleBackground = Math.max(
      0,
      (idleCpuAfter.busy - idleCpuBefore.busy - idleReceiverTicks) /
        Math.max(1, idleCpuAfter.total - idleCpuBefore.total),
    );
    const idleRssBytes = treeMemory(pids).rssBytes;
    let sampledPeakRssBytes = idleRssBytes;
    let generatorPid = -1;
    let generatorCpuSeconds = 0;
    sampler = setInterval(function sampleRssAndGenerator() {
      sampledPeakRssBytes = Math.max(sampledPeakRssBytes, treeMemory(pids).rssBytes);
      if (generatorPid > 0) {
        generatorCpuSeconds = Math.max(generatorCpuSeconds, treeCpuSeconds([generatorPid]));
      }
    }, RSS_SAMPLE_MS);

    const receiverCpuBefore = treeCpuSeconds(pids);
    const loadCpuBefore = machineCpu();
    const loadStarted = performance.now();
    const summary = await runCollectdGenerator(options.generator, {
      port: live.port,
      pps: options.pps,
      seconds: options.seconds,
      names: options.workload.names,
      maxPacketBytes: options.workload.maxPacketBytes,
      onSpawn: (pid) => {
        generatorPid = pid;
      },
    });
    const loadEnded = performance.now();
    const loadEndedWallMs = Date.now();
    const loadCpuAfter = machineCpu();
    const receiverCpuSeconds = treeCpuSeconds(pids) - receiverCpuBefore;
    const receiverCores = receiverCpuSeconds / ((loadEnded - loadStarted) / 1000);
    const loadBackground = Math.max(
      0,
      (loadCpuAfter.busy - loadCpuBefore.busy -
        (receiverCpuSeconds + generatorCpuSeconds + RSS_SAMPLE_MS / 1000) * CLOCK_TICKS_PER_SECOND) /
        Math.max(1, loadCpuAfter.total - loadCpuBefore.total),
    );
    const countAtGrace = await live.countAt(loadEndedWallMs + GRACE_MS);
    const count = await settledCount(live, summary.valueListsSent, receiver);
    const settleMs = performance.now() - loadEnded;
    const kernelDrops = udpPortState(live.port).drops;
    const crashed = live.hasExited();
    clearInterval(sampler);
    sampler = undefined;
    const memory = treeMemory(pids);
    sampledPeakRssBytes = Math.max(sampledPeakRssBytes, memory.rssBytes);

    const expected = summary.valueListsSent;
    const received = countAtGrace;
    const loss = expected > 0 ? 1 - received / expected : 0;
    const eventualLoss = expected > 0 ? 1 - count.valueLists / expected : 0;
    const isTally = receiver.name === "tally";
    const absoluteLoss = isTally && summary.absoluteSum > 0
      ? 1 - (count.diagnostics["absolute_sum"] ?? 0) / summary.absoluteSum
      : null;
    const finalTotalsExact = isTally
      ? count.diagnostics["counter_final_sum"] === summary.counterFinalSum &&
        count.diagnostics["derive_final_sum"] === summary.deriveFinalSum
      : null;
    // Counting more than was sent, or more ABSOLUTE than was sent, is a correctness failure.
    const overcount = count.valueLists > expected || (absoluteLoss !== null && absoluteLoss < 0);
    return {
      targetPps: options.pps,
      achievedPps: summary.achievedPps,
      linesPerSecond: summary.valueListsSent / summary.durationS,
      packetsSent: summary.packetsSent,
      linesSent: summary.valueListsSent,
      expected,
      received,
      loss,
      namesExpected: options.workload.names,
      namesSeen: options.workload.names,
      namesWrong: finalTotalsExact === false ? 1 : 0,
      overcount,
      crashed,
      passed: loss < LOSS_LIMIT && (absoluteLoss === null || absoluteLoss < LOSS_LIMIT) && !overcount &&
        !crashed,
      generatorShort: summary.achievedPps < summary.targetPps * 0.97,
      kernelDrops,
      readyMs: live.readyMs,
      idleRssBytes,
      peakRssBytes: Math.max(memory.hwmBytes, sampledPeakRssBytes),
      sampledPeakRssBytes,
      settleMs,
      receiverCores,
      backgroundShare: Math.max(quietShare, idleBackground),
      diagnostics: count.diagnostics,
      loadBackgroundShare: loadBackground,
      noisy: Math.max(quietShare, idleBackground, loadBackground) >= QUIET_SHARE,
      collectd: {
        valueListsPerPacket: summary.packetsSent > 0 ? summary.valueListsSent / summary.packetsSent : 0,
        generator: summary,
        count,
        countAtGrace,
        eventualLoss,
        absoluteLoss,
        finalTotalsExact,
      },
    };
  } finally {
    if (sampler !== undefined) clearInterval(sampler);
    if (running !== undefined) await running.stop();
    await rm(options.dir, { recursive: true, force: true });
  }
}

/** Waits until the machine is quiet (busy share below {@link QUIET_SHARE} over half a second), at most `maxWaitMs`. */
async function waitForQuiet(maxWaitMs: number): Promise<number> {
  const deadline = performance.now() + maxWaitMs;
  for (;;) {
    const before = machineCpu();
    await sleep(QUIET_WINDOW_MS);
    const share = busyShare(before, machineCpu());
    if (share < QUIET_SHARE || performance.now() >= deadline) return share;
  }
}

/**
 * Polls the receiver's count until it reaches `expected` (then reads once more after the receiver's
 * final-read delay), stays unchanged for its settle time, or {@link SETTLE_CAP_MS} passes.
 */
async function settledCount(
  running: RunningCollectdBenchReceiver,
  expected: number,
  receiver: CollectdBenchReceiver,
): Promise<ReceivedCount> {
  const stableMs = receiver.settleMs;
  const started = performance.now();
  let lastTotal = Number.NaN;
  let lastChange = started;
  let lastError: unknown;
  let count: ReceivedCount | undefined;
  for (;;) {
    const now = performance.now();
    try {
      count = await running.readCount();
      if (count.valueLists >= expected) {
        if (receiver.finalReadDelayMs === 0) return count;
        await sleep(receiver.finalReadDelayMs);
        return await running.readCount();
      }
      if (count.valueLists !== lastTotal) {
        lastTotal = count.valueLists;
        lastChange = now;
      } else if (now - lastChange >= stableMs) {
        return count;
      }
    } catch (error) {
      lastError = error;
      if (running.hasExited()) {
        throw new Error(
          `Cannot read the receiver's count: it exited during the trial\noutput:\n${running.outputTail()}`,
          { cause: error },
        );
      }
    }
    if (now - started > SETTLE_CAP_MS) {
      if (count !== undefined) return count;
      throw new Error(
        `Cannot read the receiver's count: every readback failed for ${SETTLE_CAP_MS} ms` +
          (lastError instanceof Error ? `; last error: ${lastError.message}` : "") +
          `\noutput:\n${running.outputTail()}`,
        { cause: lastError },
      );
    }
    await sleep(SETTLE_POLL_MS);
  }
}
