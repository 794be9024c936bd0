/**
 * The part of a trial every receive benchmark shares: wait for the machine to be quiet, start a fresh
 * receiver, measure its time to ready and idle memory, drive it with a generator at one rate while
 * sampling its memory and CPU (and the generator's), let the benchmark read its count back, and stop it
 * (always, even on errors). What is sent and how the count is read back are the caller's: `load` and
 * `settle`.
 *
 * @module
 */
import { mkdir, rm } from "node:fs/promises";
import {
  CLOCK_TICKS_PER_SECOND,
  machineCpu,
  processTree,
  treeCpuSeconds,
  treeMemory,
  udpPortState,
} from "./proc_stats.ts";
import type { RunningBase } from "./bench_receiver.ts";
import { sleep } from "./receiver_process.ts";
import { QUIET_SHARE, type TrialResult } from "./trial_result.ts";
import { waitForQuiet } from "./wait_for_quiet.ts";

/** The fields of a generator's summary the trial runner reads. */
export interface LoadSummary {
  /** The target rate, packets/s. */
  readonly targetPps: number;
  /** The rate it achieved, packets/s. */
  readonly achievedPps: number;
}

/** What every trial of a run is given besides the benchmark's own generator and workload. */
export interface TrialSettings {
  /** Target rate, packets/s. */
  readonly pps: number;
  /** Load duration, seconds. */
  readonly seconds: number;
  /** A directory for this trial, created by the trial and removed afterwards. */
  readonly dir: string;
  /** How long to wait for the machine to fall quiet before starting, ms. */
  readonly quietWaitMs: number;
}

/** Options for one trial of a benchmark: the settings, its generator and its workload. */
export interface TrialOptions<Workload> extends TrialSettings {
  /** The generator executable. */
  readonly generator: string;
  /** What to send, apart from the rate. */
  readonly workload: Workload;
}

/** Options for {@link measureTrial}. */
export interface MeasureTrialOptions<Run extends RunningBase, S extends LoadSummary, B, D>
  extends Pick<TrialSettings, "dir" | "quietWaitMs"> {
  /**
   * Runs before the measured load, once idle memory is read, e.g. the same load for a few seconds so the
   * load that is measured meets a receiver that is already running hot; its CPU and time are not counted.
   */
  readonly warmUp?: (live: Run) => Promise<void>;
  /** Runs the generator against the receiver, calling `onSpawn` with its PID. */
  readonly load: (live: Run, onSpawn: (pid: number) => void) => Promise<S>;
  /** Reads the receiver's count back once the load has ended (`loadEndedWallMs`, ms since the epoch). */
  readonly settle: (live: Run, summary: S, loadEndedWallMs: number) => Promise<B>;
  /** Reads further figures after the kernel's drop count, e.g. the receiver's own loss counters. */
  readonly diagnose: (live: Run) => Promise<D>;
}

/** What {@link measureTrial} measured: the shared figures of a {@link TrialResult}, plus the readings. */
export type TrialMeasurements<S, B, D> =
  & Pick<
    TrialResult,
    | "kernelDrops"
    | "crashed"
    | "generatorShort"
    | "readyMs"
    | "idleRssBytes"
    | "peakRssBytes"
    | "sampledPeakRssBytes"
    | "settleMs"
    | "receiverCores"
    | "backgroundShare"
    | "loadBackgroundShare"
    | "noisy"
  >
  & {
    /** The generator's summary. */
    readonly summary: S;
    /** What `settle` read back. */
    readonly settled: B;
    /** What `diagnose` read. */
    readonly diagnosed: D;
  };

/** The pause after ready before reading idle memory: lets a receiver finish its start-up work. */
const IDLE_WAIT_MS = 1000;
/** How often memory is sampled under load. */
const RSS_SAMPLE_MS = 200;

/**
 * Runs one trial; see the module doc.
 *
 * @param receiver The receiver to start.
 * @param options The directory, quiet wait, and the load and readback steps.
 * @returns The measurements.
 * @throws {Error} Whatever `start`, `load` or `settle` throws; the receiver is stopped and the directory
 *   removed in every case.
 */
export async function measureTrial<Run extends RunningBase, S extends LoadSummary, B, D>(
  receiver: { start(dir: string): Promise<Run> },
  options: MeasureTrialOptions<Run, S, B, D>,
): Promise<TrialMeasurements<S, B, D>> {
  await mkdir(options.dir, { recursive: true });
  let running: Run | undefined;
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
    if (options.warmUp !== undefined) await options.warmUp(live);

    const receiverCpuBefore = treeCpuSeconds(pids);
    const loadCpuBefore = machineCpu();
    const loadStarted = performance.now();
    const summary = await options.load(live, function onSpawn(pid) {
      generatorPid = pid;
    });
    const loadEnded = performance.now();
    const loadEndedWallMs = Date.now();
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
    const settled = await options.settle(live, summary, loadEndedWallMs);
    const settleMs = performance.now() - loadEnded;
    const kernelDrops = udpPortState(live.port).drops;
    const diagnosed = await options.diagnose(live);
    const crashed = live.hasExited();
    clearInterval(sampler);
    sampler = undefined;
    const memory = treeMemory(pids);
    sampledPeakRssBytes = Math.max(sampledPeakRssBytes, memory.rssBytes);
    return {
      summary,
      settled,
      diagnosed,
      kernelDrops,
      crashed,
      generatorShort: summary.achievedPps < summary.targetPps * 0.97,
      readyMs: live.readyMs,
      idleRssBytes,
      peakRssBytes: Math.max(memory.hwmBytes, sampledPeakRssBytes),
      sampledPeakRssBytes,
      settleMs,
      receiverCores,
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
