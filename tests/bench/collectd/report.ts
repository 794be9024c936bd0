/**
 * Turns the collectd benchmark's rate searches into its output: one summary per receiver, tally's ratio
 * to collectd, the check against the target, a plain-text table and the progress line of each trial.
 *
 * @module
 */
import type { SearchResult, SearchStop, TrialOutcome } from "../statsd/find_max_rate.ts";
import type { CollectdBenchReceiverName } from "./receivers.ts";
import type { CollectdTrialResult } from "./run_trial.ts";

/** What one search found for one receiver. */
export interface CollectdReceiverSummary {
  /** Which receiver. */
  readonly receiver: CollectdBenchReceiverName;
  /** Its label. */
  readonly label: string;
  /** How its count was read back. */
  readonly readback: string;
  /** Highest value lists/s with < 1 % loss (as the generator achieved it), or `null` when nothing passed. */
  readonly valueListsPerSecond: number | null;
  /** The same trial in packets/s. */
  readonly packetsPerSecond: number | null;
  /** Value lists per packet in that trial. */
  readonly valueListsPerPacket: number | null;
  /** The target rate of that trial, packets/s. */
  readonly targetPps: number | null;
  /** The loss at that rate (0.004 = 0.4 %). */
  readonly lossAtBest: number | null;
  /** The lowest failing trial, for context. */
  readonly firstFailure:
    | { readonly valueListsPerSecond: number; readonly loss: number }
    | { readonly error: string }
    | null;
  /** The figure is a lower bound: the generator (or the rate cap) set the pace. */
  readonly lowerBound: boolean;
  /** Why the search ended. */
  readonly stop: SearchStop;
  /** Resident memory at idle (1 s after ready), median over trials, bytes. */
  readonly idleRssBytes: number | null;
  /** Peak resident memory in the best trial, bytes. */
  readonly peakRssBytes: number | null;
  /** Peak resident memory over all trials (overloaded ones included), bytes. */
  readonly maxPeakRssBytes: number | null;
  /** Time from spawn to ready, median over trials, ms. */
  readonly readyMs: number | null;
  /** CPU cores the receiver used in the best trial. */
  readonly receiverCores: number | null;
  /** Trials that ran while other work kept the machine busy. */
  readonly noisyTrials: number;
  /** Every trial, compactly. */
  readonly trials: readonly CompactCollectdTrial[];
}

/** One trial in the JSON output. */
export interface CompactCollectdTrial {
  /** Target packets/s. */
  readonly targetPps: number;
  /** Achieved packets/s. */
  readonly achievedPps?: number;
  /** Achieved value lists/s. */
  readonly valueListsPerSecond?: number;
  /** Value lists sent. */
  readonly valueListsSent?: number;
  /** Value lists the receiver had processed 1 s after the load. */
  readonly valueListsReceived?: number;
  /** Value lists it counted in the end. */
  readonly valueListsEventually?: number;
  /** Loss (fraction) 1 s after the load: the criterion. */
  readonly loss?: number;
  /** Loss once any backlog was worked off. */
  readonly eventualLoss?: number;
  /** tally: loss measured on the ABSOLUTE sums. */
  readonly absoluteLoss?: number;
  /** tally: COUNTER and DERIVE final totals exact. */
  readonly finalTotalsExact?: boolean;
  /** Passed. */
  readonly passed: boolean;
  /** Kernel drops on the receiver's socket. */
  readonly kernelDrops?: number;
  /** Peak RSS, bytes. */
  readonly peakRssBytes?: number;
  /** Settle time after the load, ms. */
  readonly settleMs?: number;
  /** CPU cores the receiver used under load. */
  readonly receiverCores?: number;
  /** The receiver's own counters, non-zero ones. */
  readonly diagnostics?: Readonly<Record<string, number>>;
  /** Other work competed with the trial. */
  readonly noisy?: boolean;
  /** The error, when the trial threw. */
  readonly error?: string;
}

/**
 * Summarises one search.
 *
 * @param search The search result; its trials are {@link CollectdTrialResult}s.
 * @param meta The receiver it ran.
 * @returns The summary.
 */
export function summariseCollectdSearch(
  search: SearchResult,
  meta: { readonly receiver: CollectdBenchReceiverName; readonly label: string; readonly readback: string },
): CollectdReceiverSummary {
  const measured = search.outcomes.flatMap((outcome) =>
    outcome.kind === "measured" ? [asCollectd(outcome.result)] : []
  );
  const best = search.best === undefined ? undefined : asCollectd(search.best);
  const failure = search.lowestFailure;
  return {
    ...meta,
    valueListsPerSecond: best === undefined ? null : Math.round(best.linesPerSecond),
    packetsPerSecond: best === undefined ? null : Math.round(best.achievedPps),
    valueListsPerPacket: best === undefined ? null : Number(best.collectd.valueListsPerPacket.toFixed(2)),
    targetPps: best?.targetPps ?? null,
    lossAtBest: best === undefined ? null : Number(best.loss.toFixed(6)),
    firstFailure: failure === undefined
      ? null
      : failure.kind === "error"
      ? { error: failure.message.split("\n")[0] ?? "" }
      : {
        valueListsPerSecond: Math.round(failure.result.linesPerSecond),
        loss: Number(failure.result.loss.toFixed(6)),
      },
    lowerBound: search.lowerBound,
    stop: search.stop,
    idleRssBytes: median(measured.map((trial) => trial.idleRssBytes)),
    peakRssBytes: best?.peakRssBytes ?? null,
    maxPeakRssBytes: measured.length === 0 ? null : Math.max(...measured.map((trial) => trial.peakRssBytes)),
    readyMs: median(measured.map((trial) => trial.readyMs)),
    receiverCores: best === undefined ? null : Number(best.receiverCores.toFixed(3)),
    noisyTrials: measured.filter((trial) => trial.noisy).length,
    trials: search.outcomes.map(compactTrial),
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
  const rows = summaries.map((s) => [
    s.receiver,
    s.valueListsPerSecond === null ? "none" : `${s.lowerBound ? ">= " : ""}${si(s.valueListsPerSecond)}`,
    s.packetsPerSecond === null ? "-" : si(s.packetsPerSecond),
    s.valueListsPerPacket === null ? "-" : s.valueListsPerPacket.toFixed(1),
    s.lossAtBest === null ? "-" : `${(s.lossAtBest * 100).toFixed(3)} %`,
    boundText(s),
    s.receiverCores === null ? "-" : s.receiverCores.toFixed(2),
    s.idleRssBytes === null ? "-" : mb(s.idleRssBytes),
    s.peakRssBytes === null ? "-" : mb(s.peakRssBytes),
    s.readyMs === null ? "-" : `${Math.round(s.readyMs)} ms`,
    `${s.trials.length}${s.noisyTrials > 0 ? ` (${s.noisyTrials} noisy)` : ""}`,
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length))
  );
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd();
  const out = [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)];
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
    const mark = tally.lowerBound ? (peer.lowerBound ? "~" : ">= ") : peer.lowerBound ? "<= " : "";
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
export function formatCollectdTrial(outcome: TrialOutcome): string {
  if (outcome.kind === "error") {
    return `target ${si(outcome.targetPps)} pps: ERROR ${outcome.message.split("\n")[0]}`;
  }
  const r = asCollectd(outcome.result);
  return [
    `target ${si(r.targetPps).padStart(7)} pps`,
    `sent ${si(r.achievedPps).padStart(7)} pps = ${si(r.linesPerSecond).padStart(7)} vl/s`,
    `processed at +1 s ${Math.round(r.received)}/${r.expected}`,
    `loss ${(r.loss * 100).toFixed(3).padStart(7)} %`,
    `eventual loss ${(r.collectd.eventualLoss * 100).toFixed(3)} %`,
    r.passed ? "pass" : "FAIL",
    ...(r.collectd.absoluteLoss === null
      ? []
      : [`absolute loss ${(r.collectd.absoluteLoss * 100).toFixed(3)} %`]),
    ...(r.collectd.finalTotalsExact === null
      ? []
      : [`final totals ${r.collectd.finalTotalsExact ? "exact" : "off"}`]),
    `kernel drops ${r.kernelDrops}`,
    `rss idle ${mb(r.idleRssBytes)} peak ${mb(r.peakRssBytes)}`,
    `settle ${Math.round(r.settleMs)} ms`,
    `cpu ${r.receiverCores.toFixed(2)} cores`,
    ...Object.entries(r.diagnostics)
      .filter(([key, value]) => value !== 0 && !key.endsWith("_sum"))
      .map(([key, value]) => `${key}=${value}`),
    ...(r.noisy
      ? [`NOISY (${(Math.max(r.backgroundShare, r.loadBackgroundShare) * 100).toFixed(0)} % other work)`]
      : []),
    ...(r.generatorShort ? ["generator short of target"] : []),
    ...(r.overcount ? ["OVERCOUNT"] : []),
    ...(r.crashed ? ["CRASHED"] : []),
  ].join("  ");
}

/** The search only ever sees {@link CollectdTrialResult}s; this recovers the type. */
function asCollectd(result: object): CollectdTrialResult {
  if (!("collectd" in result)) throw new Error("Cannot summarise a trial: it is not a collectd trial");
  return result as CollectdTrialResult;
}

function compactTrial(outcome: TrialOutcome): CompactCollectdTrial {
  if (outcome.kind === "error") {
    return { targetPps: outcome.targetPps, passed: false, error: outcome.message };
  }
  const r = asCollectd(outcome.result);
  return {
    targetPps: r.targetPps,
    achievedPps: Math.round(r.achievedPps),
    valueListsPerSecond: Math.round(r.linesPerSecond),
    valueListsSent: r.expected,
    valueListsReceived: Math.round(r.received),
    valueListsEventually: r.collectd.count.valueLists,
    loss: Number(r.loss.toFixed(6)),
    eventualLoss: Number(r.collectd.eventualLoss.toFixed(6)),
    ...(r.collectd.absoluteLoss === null ? {} : { absoluteLoss: Number(r.collectd.absoluteLoss.toFixed(6)) }),
    ...(r.collectd.finalTotalsExact === null ? {} : { finalTotalsExact: r.collectd.finalTotalsExact }),
    passed: r.passed,
    kernelDrops: r.kernelDrops,
    peakRssBytes: r.peakRssBytes,
    settleMs: Math.round(r.settleMs),
    receiverCores: Number(r.receiverCores.toFixed(3)),
    diagnostics: Object.fromEntries(Object.entries(r.diagnostics).filter(([, value]) => value !== 0)),
    noisy: r.noisy,
  };
}

function boundText(summary: CollectdReceiverSummary): string {
  switch (summary.stop) {
    case "generator":
      return `generator-bound${summary.lowerBound ? "" : ", loss near limit"}`;
    case "max_rate":
      return `rate cap${summary.lowerBound ? "" : ", loss near limit"}`;
    case "converged":
      return "receiver";
    case "floor":
      return "fails at floor";
    case "budget":
      return "time budget";
    case "errors":
      return "errors";
  }
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? sorted[middle] ?? null
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

function si(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
  return value.toFixed(0);
}

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}
