/**
 * Turns the StatsD benchmark's searches into its output: one summary per receiver and workload, tally's
 * ratio to each peer, a plain-text table and the progress line of each trial. The figures, the table
 * layout and the line format are the shared ones (`../_shared/report.ts`), with lines as the unit.
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
  type RatioQualifier,
  ratioQualifier,
  type SearchSummaryBase,
  summariseRates,
} from "../_shared/report.ts";
import type { TrialResult } from "../_shared/trial_result.ts";
import type { ReceiverName } from "./receiver.ts";

/** What one search found for one receiver and workload. */
export interface ReceiverSummary extends SearchSummaryBase<ReceiverName> {
  /** StatsD lines per datagram. */
  readonly linesPerPacket: number;
  /** Highest lines/s with < 1 % loss (as achieved by the generator), or `null` when nothing passed. */
  readonly linesPerSecond: number | null;
  /** Lines/s at the lowest failing rate, and its loss, for context. */
  readonly firstFailure: { readonly linesPerSecond: number; readonly loss: number } | {
    readonly error: string;
  } | null;
  /** Whether the best trial itself was noisy. */
  readonly bestNoisy: boolean;
  /** Every trial, compactly. */
  readonly trials: readonly CompactTrial[];
}

/** One trial in the JSON output: the shared fields plus the StatsD ones. */
export type CompactTrial = CompactTrialBase & {
  /** Achieved lines/s. */
  readonly linesPerSecond?: number;
  /** Counter names with a wrong total. */
  readonly namesWrong?: number;
  /** Spawn to ready, ms. */
  readonly readyMs?: number;
  /** Idle RSS, bytes. */
  readonly idleRssBytes?: number;
  /** Share of the machine busy with other work during the load. */
  readonly loadBackgroundShare?: number;
  /** Share of the machine busy with other work around the trial. */
  readonly backgroundShare?: number;
};

/** tally against one peer on one workload. */
export interface Ratio {
  /** Lines per datagram. */
  readonly linesPerPacket: number;
  /** The peer. */
  readonly peer: ReceiverName;
  /** tally lines/s ÷ peer lines/s. */
  readonly ratio: number;
  /** `>=` when tally's figure is a lower bound, `<=` when only the peer's is, `?` when both are. */
  readonly qualifier: RatioQualifier;
}

/**
 * Summarises one search.
 *
 * @param search The search result.
 * @param meta The receiver and workload it ran.
 * @returns The summary.
 */
export function summariseSearch(
  search: SearchResult,
  meta: {
    readonly receiver: ReceiverName;
    readonly label: string;
    readonly readback: string;
    readonly linesPerPacket: number;
  },
): ReceiverSummary {
  const { best: _best, unitsPerSecond, firstFailure, ...rates } = summariseRates(search, 1);
  return {
    ...meta,
    linesPerSecond: unitsPerSecond,
    ...rates,
    firstFailure: firstFailure === null || "error" in firstFailure
      ? firstFailure
      : { linesPerSecond: firstFailure.unitsPerSecond, loss: firstFailure.loss },
    trials: search.outcomes.map((outcome) => compactTrial(outcome, compactLines)),
  };
}

/**
 * tally's ratio to each peer per workload, where both have a figure.
 *
 * @param summaries All summaries.
 * @returns The ratios.
 */
export function tallyRatios(summaries: readonly ReceiverSummary[]): Ratio[] {
  const ratios: Ratio[] = [];
  for (const tally of summaries) {
    if (tally.receiver !== "tally" || tally.linesPerSecond === null) continue;
    for (const peer of summaries) {
      if (peer.receiver === "tally" || peer.linesPerPacket !== tally.linesPerPacket) continue;
      if (peer.linesPerSecond === null || peer.linesPerSecond === 0) continue;
      ratios.push({
        linesPerPacket: tally.linesPerPacket,
        peer: peer.receiver,
        ratio: tally.linesPerSecond / peer.linesPerSecond,
        qualifier: ratioQualifier(tally.lowerBound, peer.lowerBound),
      });
    }
  }
  return ratios;
}

/**
 * Formats the summaries and ratios as a plain-text table.
 *
 * @param summaries All summaries.
 * @param ratios From {@link tallyRatios}.
 * @returns The table, lines joined with `\n`.
 */
export function formatTable(summaries: readonly ReceiverSummary[], ratios: readonly Ratio[]): string {
  const header = [
    "workload",
    "receiver",
    "lines/s",
    "packets/s",
    "loss",
    "bound",
    "cpu",
    "idle RSS",
    "peak RSS",
    "ready",
    "trials",
  ];
  const rows = summaries.map((s) => {
    const rates = { ...s, unitsPerSecond: s.linesPerSecond };
    return [
      perPacket(s.linesPerPacket),
      s.receiver,
      ...rateCells(rates, [], boundText(rates, true)),
      `${s.trials.length}${
        s.noisyTrials > 0 ? ` (${s.noisyTrials} noisy${s.bestNoisy ? ", best too" : ""})` : ""
      }`,
    ];
  });
  const out = formatGrid(header, rows);
  out.push(
    "",
    "lines/s, packets/s: achieved by the generator in the best trial; cpu: cores the receiver used then;",
    "idle RSS: median 1 s after ready; peak RSS: VmHWM in the best trial; ready: median spawn-to-ready;",
    "noisy: other processes kept > 10 % of the machine busy around the trial.",
  );
  if (ratios.length > 0) {
    out.push("", "tally / peer (lines/s at < 1 % loss):");
    for (const ratio of ratios) {
      out.push(
        `  ${perPacket(ratio.linesPerPacket).padEnd(15)}  tally / ${ratio.peer.padEnd(8)} ${
          ratioMark(ratio.qualifier)
        }${ratio.ratio.toFixed(2)}x`,
      );
    }
    if (ratios.some((ratio) => ratio.qualifier !== "=")) {
      out.push("  (>= : tally's figure is generator-bound, so the true ratio is at least this)");
    }
  }
  return out.join("\n");
}

/**
 * Formats one trial as a progress line.
 *
 * @param outcome The trial.
 * @returns One line.
 */
export function formatTrial(outcome: TrialOutcome): string {
  return formatTrialLine(outcome, {
    unitRate: "lines/s",
    beforeLoss: () => [],
    afterLoss: () => [],
    afterVerdict: (r) => [`names ${r.namesSeen}/${r.namesExpected} (${r.namesWrong} off)`],
    afterDrops: (r) => [`ready ${Math.round(r.readyMs)} ms`],
    showDiagnostic: () => true,
    noisy: (r) =>
      `NOISY (background ${(r.backgroundShare * 100).toFixed(0)} % of machine before, ` +
      `${(r.loadBackgroundShare * 100).toFixed(0)} % during load)`,
  });
}

function compactLines(r: TrialResult): Omit<CompactTrial, keyof CompactTrialBase> {
  return {
    linesPerSecond: Math.round(r.unitsPerSecond),
    namesWrong: r.namesWrong,
    readyMs: Math.round(r.readyMs),
    idleRssBytes: r.idleRssBytes,
    backgroundShare: Number(r.backgroundShare.toFixed(3)),
    loadBackgroundShare: Number(r.loadBackgroundShare.toFixed(3)),
  };
}

function perPacket(lines: number): string {
  return `${lines} line${lines === 1 ? "" : "s"}/packet`;
}
