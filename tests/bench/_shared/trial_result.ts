/**
 * The outcome of one benchmark trial, as the rate search (`find_max_rate.ts`) and the reports of both
 * receive benchmarks see it. A "unit" is what the workload counts: a StatsD line, or a collectd value list.
 *
 * @module
 */

/** The loss at and above which a trial fails. */
export const LOSS_LIMIT = 0.01;
/** The machine counts as quiet below this busy share (0.1 = a fifth of one core on 2 CPUs). */
export const QUIET_SHARE = 0.1;

/** The outcome of one trial. */
export interface TrialResult {
  /** Target rate, packets/s. */
  readonly targetPps: number;
  /** The rate the generator achieved, packets/s. */
  readonly achievedPps: number;
  /** Units (StatsD lines, collectd value lists) per second the generator achieved. */
  readonly unitsPerSecond: number;
  /** Packets sent. */
  readonly packetsSent: number;
  /** Units sent. */
  readonly unitsSent: number;
  /** What a lossless receiver reports (the generator's counter sum, or the units sent). */
  readonly expected: number;
  /** What the receiver reported, read back. */
  readonly received: number;
  /** `1 − received / expected`; negative when the receiver over-counts. */
  readonly loss: number;
  /** Names (or identifiers) the generator sent. */
  readonly namesExpected: number;
  /** Names the receiver reported. */
  readonly namesSeen: number;
  /** Names whose total differs from the generator's. */
  readonly namesWrong: number;
  /** Whether something was over-counted (a correctness failure, never a pass). */
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
  /** The receiver's own loss-related counters. */
  readonly diagnostics: Readonly<Record<string, number>>;
  /**
   * The share of the machine (0..1) busy with other work during the load: busy time minus the receiver's
   * and the generator's (the generator's is sampled, so this errs one sample period low).
   */
  readonly loadBackgroundShare: number;
  /** `backgroundShare` or `loadBackgroundShare` reached {@link QUIET_SHARE}: other work competed with the trial. */
  readonly noisy: boolean;
}
