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
 * The quiet wait, receiver start, memory and CPU sampling are the shared trial runner's
 * (`../_shared/measure_trial.ts`). The result is the shared {@link TrialResult} (so the shared rate search
 * runs unchanged) with value lists as its unit, plus the collectd-specific figures in
 * {@link CollectdTrialExtra}.
 *
 * @module
 */
import { sleep } from "../_shared/receiver_process.ts";
import { measureTrial, type TrialOptions } from "../_shared/measure_trial.ts";
import { pollUntilSettled } from "../_shared/poll_until_settled.ts";
import { LOSS_LIMIT, type TrialResult } from "../_shared/trial_result.ts";
import { type CollectdGeneratorSummary, runCollectdGenerator } from "./generator.ts";
import type { CollectdBenchReceiver, ReceivedCount } from "./receivers.ts";

/** What each trial sends, apart from its rate. */
export interface CollectdWorkload {
  /** Distinct identifiers. */
  readonly names: number;
  /** Largest packet payload, bytes. */
  readonly maxPacketBytes: number;
}

/** Options for {@link runCollectdTrial}. */
export type CollectdTrialOptions = TrialOptions<CollectdWorkload>;

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

/** A trial's outcome: the shared shape (units = value lists) plus the collectd figures. */
export type CollectdTrialResult = TrialResult & { readonly collectd: CollectdTrialExtra };

/**
 * The bound on waiting for the count after the load. A receiver that queues without bound (collectd's
 * receive list and write queue have no limit by default) could otherwise drain a backlog far past the
 * load and pass at a rate it cannot sustain; what it has not counted 10 s after the load is lost.
 */
const SETTLE_CAP_MS = 10_000;
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
  let countAtGrace = 0;
  const { summary, settled: count, diagnosed: _none, ...measured } = await measureTrial(receiver, {
    dir: options.dir,
    quietWaitMs: options.quietWaitMs,
    load: (live, onSpawn) =>
      runCollectdGenerator(options.generator, {
        port: live.port,
        pps: options.pps,
        seconds: options.seconds,
        names: options.workload.names,
        maxPacketBytes: options.workload.maxPacketBytes,
        onSpawn,
      }),
    settle: async (live, summary, loadEndedWallMs) => {
      countAtGrace = await live.countAt(loadEndedWallMs + GRACE_MS);
      return pollUntilSettled(live, () => live.readCount(), {
        total: (count) => count.valueLists,
        expected: summary.valueListsSent,
        stableMs: receiver.settleMs,
        capMs: SETTLE_CAP_MS,
        what: "count",
        ...(receiver.finalReadDelayMs === 0 ? {} : {
          onReached: async () => {
            await sleep(receiver.finalReadDelayMs);
            return live.readCount();
          },
        }),
      });
    },
    diagnose: () => Promise.resolve(undefined),
  });
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
    unitsPerSecond: summary.valueListsSent / summary.durationS,
    packetsSent: summary.packetsSent,
    unitsSent: summary.valueListsSent,
    expected,
    received,
    loss,
    namesExpected: options.workload.names,
    namesSeen: options.workload.names,
    namesWrong: finalTotalsExact === false ? 1 : 0,
    overcount,
    passed: loss < LOSS_LIMIT && (absoluteLoss === null || absoluteLoss < LOSS_LIMIT) && !overcount &&
      !measured.crashed,
    diagnostics: count.diagnostics,
    ...measured,
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
}
