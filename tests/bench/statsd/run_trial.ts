/**
 * One benchmark trial: wait for the machine to be quiet, start a fresh receiver, measure its time to
 * ready and idle memory, drive it with the generator at one rate while sampling its memory and CPU, wait
 * for its counter totals to settle, compare them with the generator's, and stop it (always, even on
 * errors).
 *
 * @module
 */
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { runGenerator } from "./generator.ts";
import {
  busyShare,
  CLOCK_TICKS_PER_SECOND,
  machineCpu,
  processTree,
  treeCpuSeconds,
  treeMemory,
  udpPortState,
} from "./proc_stats.ts";
import type { Receiver, RunningReceiver } from "./receiver.ts";
import { sleep } from "./receiver_process.ts";

/** What each trial sends, apart from its rate. */
export interface Workload {
  /** StatsD lines per datagram. */
  readonly linesPerPacket: number;
  /** Distinct metric names. */
  readonly names: number;
  /** Type weights for the generator's `-m`. */
  readonly mix: string;
}

/** Options for {@link runTrial}. */
export interface TrialOptions {
  /** The generator executable. */
  readonly generator: string;
  /** What to send. */
  readonly workload: Workload;
  /** Target rate, packets/s. */
  readonly pps: number;
  /** Load duration, seconds. */
  readonly seconds: number;
  /** A directory for this trial, created here and removed afterwards. */
  readonly dir: string;
  /** How long to wait for the machine to fall quiet before starting, ms (0: do not wait). */
  readonly quietWaitMs: number;
}

/** The outcome of one trial. */
export interface TrialResult {
  /** Target rate, packets/s. */
  readonly targetPps: number;
  /** The rate the generator achieved, packets/s. */
  readonly achievedPps: number;
  /** Lines per second the generator achieved (all types). */
  readonly linesPerSecond: number;
  /** Packets sent. */
  readonly packetsSent: number;
  /** Lines sent. */
  readonly linesSent: number;
  /** The generator's `counter_sum_expected`. */
  readonly expected: number;
  /** The receiver's counter total, read back. */
  readonly received: number;
  /** `1 − received / expected`; negative when the receiver over-counts. */
  readonly loss: number;
  /** Counter names the generator sent. */
  readonly namesExpected: number;
  /** Counter names the receiver reported. */
  readonly namesSeen: number;
  /** Counter names whose total differs from the generator's. */
  readonly namesWrong: number;
  /** Whether some name was over-counted (a correctness failure, never a pass). */
  readonly overcount: boolean;
  /** The receiver exited during the trial. */
  readonly crashed: boolean;
  /** Loss < 1 %, no over-count, no crash. */
  readonly passed: boolean;
  /** The generator fell more than 3 % short of the target rate: it, not the receiver, set the pace. */
  readonly generatorShort: boolean;
  /** Datagrams the kernel dropped on the receiver's socket (`/proc/net/udp`). */
  readonly kernelDrops: number;
  /** Milliseconds from spawn to ready. */
  readonly readyMs: number;
  /** Resident memory 1 s after ready, before any load, bytes. */
  readonly idleRssBytes: number;
  /** Peak resident memory (`VmHWM`) at the end of the trial, bytes. */
  readonly peakRssBytes: number;
  /** The highest `VmRSS` sampled during load and settle, bytes. */
  readonly sampledPeakRssBytes: number;
  /** Milliseconds from the end of the load until the totals were final. */
  readonly settleMs: number;
  /** CPU cores the receiver used during the load (user + system over all its threads ÷ seconds). */
  readonly receiverCores: number;
  /**
   * The share of the machine (0..1) busy with other work just before the trial and during the idle
   * second, whichever is higher; the receiver's own CPU is excluded.
   */
  readonly backgroundShare: number;
  /** The receiver's own loss-related counters (see {@link RunningReceiver.readDiagnostics}). */
  readonly diagnostics: Readonly<Record<string, number>>;
  /**
   * The share of the machine (0..1) busy with other work during the load: busy time minus the receiver's
   * and the generator's (the generator's is sampled, so this errs one sample period low).
   */
  readonly loadBackgroundShare: number;
  /** `backgroundShare` or `loadBackgroundShare` reached {@link QUIET_SHARE}: other work competed with the trial. */
  readonly noisy: boolean;
}

/** The pause after ready before reading idle memory: lets a receiver finish its start-up work. */
const IDLE_WAIT_MS = 1000;
/** How often memory is sampled under load. */
const RSS_SAMPLE_MS = 200;
/** How often counters are polled while they settle. */
const SETTLE_POLL_MS = 200;
/** The bound on waiting for counters to settle. */
const SETTLE_CAP_MS = 20_000;
/** The loss at and above which a trial fails. */
export const LOSS_LIMIT = 0.01;
/** The machine counts as quiet below this busy share (0.1 = a fifth of one core on 2 CPUs). */
export const QUIET_SHARE = 0.1;
/** The window over which quietness is measured. */
const QUIET_WINDOW_MS = 500;

/**
 * Runs one trial; see the module doc.
 *
 * @param receiver The receiver to start.
 * @param options The generator, workload, rate, duration and directory.
 * @returns The measurements.
 * @throws {Error} When the receiver cannot start, the generator fails or the readback keeps failing; the
 *   receiver is stopped and the directory removed in every case.
 */
export async function runTrial(receiver: Receiver, options: TrialOptions): Promise<TrialResult> {
  await mkdir(options.dir, { recursive: true });
  let running: RunningReceiver | undefined;
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
    // The generator exits before the last sample could read it, so its CPU is known to within one period.
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
    const summary = await runGenerator(options.generator, {
      port: live.statsdPort,
      pps: options.pps,
      seconds: options.seconds,
      linesPerPacket: options.workload.linesPerPacket,
      names: options.workload.names,
      mix: options.workload.mix,
      sumsFile: join(options.dir, "sums.json"),
      onSpawn: (pid) => {
        generatorPid = pid;
      },
    });
    const loadEnded = performance.now();
    const loadCpuAfter = machineCpu();
    const receiverCpuSeconds = treeCpuSeconds(pids) - receiverCpuBefore;
    const receiverCores = receiverCpuSeconds / ((loadEnded - loadStarted) / 1000);
    // What the machine did beyond the receiver and the generator during the load.
    const loadBackground = Math.max(
      0,
      (loadCpuAfter.busy - loadCpuBefore.busy -
        (receiverCpuSeconds + generatorCpuSeconds + RSS_SAMPLE_MS / 1000) * CLOCK_TICKS_PER_SECOND) /
        Math.max(1, loadCpuAfter.total - loadCpuBefore.total),
    );
    const counters = await settledCounters(live, summary.counterSumExpected, receiver.settleMs);
    const settleMs = performance.now() - loadEnded;
    const kernelDrops = udpPortState(live.statsdPort).drops;
    const diagnostics = await live.readDiagnostics().catch((error: unknown) => ({
      [`readback_error: ${error instanceof Error ? error.message : String(error)}`]: 1,
    }));
    const crashed = live.hasExited();
    clearInterval(sampler);
    sampler = undefined;
    const memory = treeMemory(pids);
    sampledPeakRssBytes = Math.max(sampledPeakRssBytes, memory.rssBytes);

    let received = 0;
    let namesWrong = 0;
    let overcount = false;
    for (const value of counters.values()) received += value;
    for (const [name, expected] of summary.sums) {
      const got = counters.get(name) ?? 0;
      if (got !== expected) namesWrong++;
      if (got > expected) overcount = true;
    }
    const expected = summary.counterSumExpected;
    const loss = expected > 0 ? 1 - received / expected : 0;
    return {
      targetPps: options.pps,
      achievedPps: summary.achievedPps,
      linesPerSecond: summary.linesSent / summary.durationS,
      packetsSent: summary.packetsSent,
      linesSent: summary.linesSent,
      expected,
      received,
      loss,
      namesExpected: summary.sums.size,
      namesSeen: counters.size,
      namesWrong,
      overcount,
      crashed,
      passed: loss < LOSS_LIMIT && !overcount && !crashed,
      generatorShort: summary.achievedPps < summary.targetPps * 0.97,
      kernelDrops,
      readyMs: live.readyMs,
      idleRssBytes,
      peakRssBytes: Math.max(memory.hwmBytes, sampledPeakRssBytes),
      sampledPeakRssBytes,
      settleMs,
      receiverCores,
      diagnostics,
      backgroundShare: Math.max(quietShare, idleBackground),
      loadBackgroundShare: loadBackground,
      noisy: Math.max(quietShare, idleBackground, loadBackground) >= QUIET_SHARE,
    };
  } finally {
    if (sampler !== undefined) clearInterval(sampler);
    if (running !== undefined) await running.stop();
    await rm(options.dir, { recursive: true, force: true });
  }
}

/**
 * Waits until the machine is quiet (busy share below {@link QUIET_SHARE} over half a second), at most
 * `maxWaitMs`: other processes on a small machine skew the result more than anything else.
 *
 * @returns The last busy share measured.
 */
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
 * Polls the receiver's counters until their total equals `expected` (nothing lost), exceeds it (nothing
 * more can change the verdict), or stays unchanged for `stableMs`.
 */
async function settledCounters(
  running: RunningReceiver,
  expected: number,
  stableMs: number,
): Promise<ReadonlyMap<string, number>> {
  const started = performance.now();
  let lastTotal = Number.NaN;
  let lastChange = started;
  let lastError: unknown;
  let counters: ReadonlyMap<string, number> | undefined;
  for (;;) {
    const now = performance.now();
    try {
      counters = await running.readCounters();
      let total = 0;
      for (const value of counters.values()) total += value;
      if (total >= expected) return counters;
      if (total !== lastTotal) {
        lastTotal = total;
        lastChange = now;
      } else if (now - lastChange >= stableMs) {
        return counters;
      }
    } catch (error) {
      lastError = error;
      if (running.hasExited()) {
        throw new Error(
          `Cannot read the receiver's counters: it exited during the trial\noutput:\n${running.outputTail()}`,
          {
            cause: error,
          },
        );
      }
    }
    if (now - started > SETTLE_CAP_MS) {
      if (counters !== undefined) return counters;
      throw new Error(
        `Cannot read the receiver's counters: every readback failed for ${SETTLE_CAP_MS} ms` +
          (lastError instanceof Error ? `; last error: ${lastError.message}` : "") +
          `\noutput:\n${running.outputTail()}`,
        { cause: lastError },
      );
    }
    await sleep(SETTLE_POLL_MS);
  }
}
