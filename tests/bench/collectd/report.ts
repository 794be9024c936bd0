/**
 * Turns the collectd benchmark's rate searches into its output: one summary per receiver, tally's ratio
 * to collectd, the check against the target, a plain-text table and the progress line of each trial. The
 * figures, the table layout and the line format are the shared ones (`../_shared/report.ts`), with value
 * lists as the unit.
 *
 * @module
 */
import type { SearchResult, TrialOutcome } from "../_shared/find_max_rate.ts";
import {
  boundText,
  compactTrial,
  type CompactTrialBase,
  formatGrid,
  formatTrialLine,
  rateCells,
  ratioMark,
  ratioQualifier,
  type SearchSummaryBase,
  si,
  summariseRates,
} from "../_shared/report.ts";
import type { CollectdBenchReceiverName } from "./receivers.ts";
import type { CollectdTrialResult } from "./run_trial.ts";

/** What one search found for one receiver. */
export interface CollectdReceiverSummary extends SearchSummaryBase<CollectdBenchReceiverName> {
  /** Highest value lists/s with < 1 % loss (as the generator achieved it), or `null` when nothing passed. */
  readonly valueListsPerSecond: number | null;
  /** Value lists per packet in that trial. */
  readonly valueListsPerPacket: number | null;
  /** The lowest failing trial, for context. */
  readonly firstFailure:
    | { readonly valueListsPerSecond: number; readonly loss: number }
    | { readonly error: string }
    | null;
  /** Every trial, compactly. */
  readonly trials: readonly CompactCollectdTrial[];
}

/** One trial in the JSON output: the shared fields plus the collectd ones. */
export type CompactCollectdTrial = CompactTrialBase & {
  /** Achieved value lists/s. */
  readonly valueListsPerSecond?: number;
  /** Value lists sent. */
  readonly valueListsSent?: number;
  /** Value lists the receiver had processed 1 s after the load. */
  readonly valueListsReceived?: number;
  /** Value lists it counted in the end. */
  readonly valueListsEventually?: number;
  /** Loss once any backlog was worked off. */
  readonly eventualLoss?: number;
  /** tally: loss measured on the ABSOLUTE sums. */
  readonly absoluteLoss?: number;
  /** tally: COUNTER and DERIVE final totals exact. */
  readonly finalTotalsExact?: boolean;
  /** Other work competed with the trial. */
  readonly noisy?: boolean;
};

/**
 * Summarises one search.
 *
 * @param search The search result.
 * @param meta The receiver it ran.
 * @returns The summary.
 */
export function summariseCollectdSearch(
  search: SearchResult<CollectdTrialResult>,
  meta: { readonly receiver: CollectdBenchReceiverName; readonly label: string; readonly readback: string },
): CollectdReceiverSummary {
  const { best, unitsPerSecond, firstFailure, bestNoisy: _bestNoisy, ...rates } = summariseRates(
    search,
    null,
  );
  return {
    ...meta,
    valueListsPerSecond: unitsPerSecond,
    valueListsPerPacket: best === undefined ? null : Number(best.collectd.valueListsPerPacket.toFixed(2)),
    ...rates,
    firstFailure: firstFailure === null || "error" in firstFailure
      ? firstFailure
      : { valueListsPerSecond: firstFailure.unitsPerSecond, loss: firstFailure.loss },
    trials: search.outcomes.map((outcome) => compactTrial(outcome, compactValueLists)),
  };
}

/**
 * Formats the summaries as a plain-text table, with tally's ratio to collectd and the target check.
 *
 * @param summaries All summaries.
 * @param targetValueListsPerSecond tally's target (the issue's 300 k).
 * @returns The table, lines joined with `\n`.
 */
export function formatCollectdTable(
  summaries: readonly CollectdReceiverSummary[],
  targetValueListsPerSecond: number,
): string {
  const header = [
    "receiver",
    "value lists/s",
    "packets/s",
    "vl/packet",
    "loss",
    "bound",
    "cpu",
    "idle RSS",
    "peak RSS",
    "ready",
    "trials",
  ];
  const rows = summaries.map((s) => {
    const rates = { ...s, unitsPerSecond: s.valueListsPerSecond };
    return [
      s.receiver,
      ...rateCells(
        rates,
        [s.valueListsPerPacket === null ? "-" : s.valueListsPerPacket.toFixed(1)],
        boundText(rates, false),
      ),
      `${s.trials.length}${s.noisyTrials > 0 ? ` (${s.noisyTrials} noisy)` : ""}`,
    ];
  });
  const out = formatGrid(header, rows);
  out.push(
    "",
    "value lists/s, packets/s: achieved by the generator in the best trial (< 1 % loss); loss: value lists not",
    "processed 1 s after the load ended; cpu: cores the receiver used then; idle RSS: median 1 s after ready;",
    "peak RSS: VmHWM in the best trial.",
  );
  const tally = summaries.find((s) => s.receiver === "tally");
  const peer = summaries.find((s) => s.receiver === "collectd");
  if (
    tally?.valueListsPerSecond != null && peer?.valueListsPerSecond != null && peer.valueListsPerSecond > 0
  ) {
    const mark = ratioMark(ratioQualifier(tally.lowerBound, peer.lowerBound));
    out.push(
      "",
      `tally / collectd network plugin: ${mark}${
        (tally.valueListsPerSecond / peer.valueListsPerSecond).toFixed(2)
      }x`,
    );
  }
  if (tally !== undefined) {
    const met = tally.valueListsPerSecond !== null && tally.valueListsPerSecond >= targetValueListsPerSecond;
    out.push(
      `target: tally >= ${si(targetValueListsPerSecond)} value lists/s: ${met ? "met" : "NOT met"}` +
        (tally.valueListsPerSecond === null
          ? ""
          : ` (${si(tally.valueListsPerSecond)}${tally.lowerBound ? ", a lower bound" : ""})`),
    );
  }
  return out.join("\n");
}

/**
 * Formats one trial as a progress line.
 *
 * @param outcome The trial.
 * @returns One line.
 */
export function formatCollectdTrial(outcome: TrialOutcome<CollectdTrialResult>): string {
  return formatTrialLine(outcome, {
    unitRate: "vl/s",
    beforeLoss: (r) => [`processed at +1 s ${Math.round(r.received)}/${r.expected}`],
    afterLoss: (r) => [`eventual loss ${(r.collectd.eventualLoss * 100).toFixed(3)} %`],
    afterVerdict: (r) => [
      ...(r.collectd.absoluteLoss === null
        ? []
        : [`absolute loss ${(r.collectd.absoluteLoss * 100).toFixed(3)} %`]),
      ...(r.collectd.finalTotalsExact === null
        ? []
        : [`final totals ${r.collectd.finalTotalsExact ? "exact" : "off"}`]),
    ],
    afterDrops: () => [],
    // The exact sums are checked above; as raw diagnostics they would only clutter the line.
    showDiagnostic: (key) => !key.endsWith("_sum"),
    noisy: (r) =>
      `NOISY (${(Math.max(r.backgroundShare, r.loadBackgroundShare) * 100).toFixed(0)} % other work)`,
  });
}

function compactValueLists(r: CollectdTrialResult): Omit<CompactCollectdTrial, keyof CompactTrialBase> {
  return {
    valueListsPerSecond: Math.round(r.unitsPerSecond),
    valueListsSent: r.expected,
    valueListsReceived: Math.round(r.received),
    valueListsEventually: r.collectd.count.valueLists,
    eventualLoss: Number(r.collectd.eventualLoss.toFixed(6)),
    ...(r.collectd.absoluteLoss === null ? {} : { absoluteLoss: Number(r.collectd.absoluteLoss.toFixed(6)) }),
    ...(r.collectd.finalTotalsExact === null ? {} : { finalTotalsExact: r.collectd.finalTotalsExact }),
    noisy: r.noisy,
  };
}
