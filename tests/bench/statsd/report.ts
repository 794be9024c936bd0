/**
 * Turns the searches into the benchmark's output: one summary per receiver and workload, tally's ratio to
 * each peer, a plain-text table and a JSON document.
 *
 * @module
 */
import type { SearchResult, SearchStop, TrialOutcome } from "./find_max_rate.ts";
import type { ReceiverName } from "./receiver.ts";
import type { TrialResult } from "./run_trial.ts";

/** What one search found for one receiver and workload. */
export interface ReceiverSummary {
  /** Which receiver. */
  readonly receiver: ReceiverName;
  /** Its label with version. */
  readonly label: string;
  /** How its counters were read back. */
  readonly readback: string;
  /** StatsD lines per datagram. */
  readonly linesPerPacket: number;
  /** Highest lines/s with < 1 % loss (as achieved by the generator), or `null` when nothing passed. */
  readonly linesPerSecond: number | null;
  /** The same in packets/s. */
  readonly packetsPerSecond: number | null;
  /** The target rate of that trial, packets/s (above `packetsPerSecond` when the generator fell short). */
  readonly targetPps: number | null;
  /** The loss at that rate (0.004 = 0.4 %). */
  readonly lossAtBest: number | null;
  /** Lines/s at the lowest failing rate, and its loss, for context. */
  readonly firstFailure: { readonly linesPerSecond: number; readonly loss: number } | {
    readonly error: string;
  } | null;
  /** The figure is a lower bound: the generator (or the rate cap) set the pace. */
  readonly lowerBound: boolean;
  /** Why the search ended. */
  readonly stop: SearchStop;
  /** Resident memory at idle (1 s after ready), median over trials, bytes. */
  readonly idleRssBytes: number | null;
  /** Peak resident memory in the best trial, bytes. */
  readonly peakRssBytes: number | null;
  /** Peak resident memory over all trials (including overloaded ones), bytes. */
  readonly maxPeakRssBytes: number | null;
  /** Time from spawn to ready, median over trials, ms. */
  readonly readyMs: number | null;
  /** CPU cores the receiver used in the best trial. */
  readonly receiverCores: number | null;
  /** Trials that ran while other work kept the machine busy. */
  readonly noisyTrials: number;
  /** Whether the best trial itself was noisy. */
  readonly bestNoisy: boolean;
  /** Every trial, compactly. */
  readonly trials: readonly CompactTrial[];
}

/** One trial in the JSON output. */
export interface CompactTrial {
  /** Target packets/s. */
  readonly targetPps: number;
  /** Achieved packets/s. */
  readonly achievedPps?: number;
  /** Achieved lines/s. */
  readonly linesPerSecond?: number;
  /** Loss (fraction). */
  readonly loss?: number;
  /** Passed. */
  readonly passed: boolean;
  /** Kernel drops on the receiver's socket. */
  readonly kernelDrops?: number;
  /** Counter names with a wrong total. */
  readonly namesWrong?: number;
  /** Spawn to ready, ms. */
  readonly readyMs?: number;
  /** Idle RSS, bytes. */
  readonly idleRssBytes?: number;
  /** Peak RSS, bytes. */
  readonly peakRssBytes?: number;
  /** Settle time after the load, ms. */
  readonly settleMs?: number;
  /** CPU cores the receiver used under load. */
  readonly receiverCores?: number;
  /** The receiver's own loss-related counters, non-zero ones. */
  readonly diagnostics?: Readonly<Record<string, number>>;
  /** Share of the machine busy with other work during the load. */
  readonly loadBackgroundShare?: number;
  /** Share of the machine busy with other work around the trial. */
  readonly backgroundShare?: number;
  /** The error, when the trial threw. */
  readonly error?: string;
}

/** tally against one peer on one workload. */
export interface Ratio {
  /** Lines per datagram. */
  readonly linesPerPacket: number;
  /** The peer. */
  readonly peer: ReceiverName;
  /** tally lines/s ÷ peer lines/s. */
  readonly ratio: number;
  /** `>=` when tally's figure is a lower bound, `<=` when only the peer's is, `?` when both are. */
  readonly qualifier: "=" | ">=" | "<=" | "?";
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
  const measured = search.outcomes.flatMap((outcome) => outcome.kind === "measured" ? [outcome.result] : []);
  const best = search.best;
  const failure = search.lowestFailure;
  return {
    ...meta,
    linesPerSecond: roundOrNull(best?.linesPerSecond ?? null, 0),
    packetsPerSecond: roundOrNull(best?.achievedPps ?? null, 0),
    targetPps: best?.targetPps ?? null,
    lossAtBest: roundOrNull(best?.loss ?? null, 6),
    firstFailure: failure === undefined
      ? null
      : failure.kind === "error"
      ? { error: failure.message.split("\n")[0] ?? "" }
      : {
        linesPerSecond: Math.round(failure.result.linesPerSecond),
        loss: Number(failure.result.loss.toFixed(6)),
      },
    lowerBound: search.lowerBound,
    stop: search.stop,
    idleRssBytes: median(measured.map((trial) => trial.idleRssBytes)),
    peakRssBytes: best?.peakRssBytes ?? null,
    maxPeakRssBytes: measured.length === 0 ? null : Math.max(...measured.map((trial) => trial.peakRssBytes)),
    readyMs: roundOrNull(median(measured.map((trial) => trial.readyMs)), 1),
    receiverCores: roundOrNull(best?.receiverCores ?? null, 3),
    noisyTrials: measured.filter((trial) => trial.noisy).length,
    bestNoisy: best?.noisy ?? false,
    trials: search.outcomes.map(compactTrial),
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
      const qualifier = tally.lowerBound ? (peer.lowerBound ? "?" : ">=") : peer.lowerBound ? "<=" : "=";
      ratios.push({
        linesPerPacket: tally.linesPerPacket,
        peer: peer.receiver,
        ratio: tally.linesPerSecond / peer.linesPerSecond,
        qualifier,
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
  const rows = summaries.map((s) => [
    `${s.linesPerPacket} line${s.linesPerPacket === 1 ? "" : "s"}/packet`,
    s.receiver,
    s.linesPerSecond === null ? "none" : `${s.lowerBound ? ">= " : ""}${si(s.linesPerSecond)}`,
    s.packetsPerSecond === null ? "-" : si(s.packetsPerSecond),
    s.lossAtBest === null ? "-" : `${(s.lossAtBest * 100).toFixed(3)} %`,
    boundText(s),
    s.receiverCores === null ? "-" : `${s.receiverCores.toFixed(2)}`,
    s.idleRssBytes === null ? "-" : mb(s.idleRssBytes),
    s.peakRssBytes === null ? "-" : mb(s.peakRssBytes),
    s.readyMs === null ? "-" : `${Math.round(s.readyMs)} ms`,
    `${s.trials.length}${
      s.noisyTrials > 0 ? ` (${s.noisyTrials} noisy${s.bestNoisy ? ", best too" : ""})` : ""
    }`,
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length))
  );
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd();
  const out = [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)];
  out.push(
    "",
    "lines/s, packets/s: achieved by the generator in the best trial; cpu: cores the receiver used then;",
    "idle RSS: median 1 s after ready; peak RSS: VmHWM in the best trial; ready: median spawn-to-ready;",
    "noisy: other processes kept > 10 % of the machine busy around the trial.",
  );
  if (ratios.length > 0) {
    out.push("", "tally / peer (lines/s at < 1 % loss):");
    for (const ratio of ratios) {
      const mark = ratio.qualifier === "=" ? "" : ratio.qualifier === "?" ? "~" : `${ratio.qualifier} `;
      const workload = `${ratio.linesPerPacket} line${ratio.linesPerPacket === 1 ? "" : "s"}/packet`;
      out.push(
        `  ${workload.padEnd(15)}  tally / ${ratio.peer.padEnd(8)} ${mark}${ratio.ratio.toFixed(2)}x`,
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
  if (outcome.kind === "error") {
    return `target ${si(outcome.targetPps)} pps: ERROR ${outcome.message.split("\n")[0]}`;
  }
  const r = outcome.result;
  return [
    `target ${si(r.targetPps).padStart(7)} pps`,
    `sent ${si(r.achievedPps).padStart(7)} pps = ${si(r.linesPerSecond).padStart(7)} lines/s`,
    `loss ${(r.loss * 100).toFixed(3).padStart(7)} %`,
    r.passed ? "pass" : "FAIL",
    `names ${r.namesSeen}/${r.namesExpected} (${r.namesWrong} off)`,
    `kernel drops ${r.kernelDrops}`,
    `ready ${Math.round(r.readyMs)} ms`,
    `rss idle ${mb(r.idleRssBytes)} peak ${mb(r.peakRssBytes)}`,
    `settle ${Math.round(r.settleMs)} ms`,
    `cpu ${r.receiverCores.toFixed(2)} cores`,
    ...Object.entries(r.diagnostics).filter(([, value]) => value !== 0).map(([key, value]) =>
      `${key}=${value}`
    ),
    ...(r.noisy
      ? [
        `NOISY (background ${(r.backgroundShare * 100).toFixed(0)} % of machine before, ` +
        `${(r.loadBackgroundShare * 100).toFixed(0)} % during load)`,
      ]
      : []),
    ...(r.generatorShort ? ["generator short of target"] : []),
    ...(r.overcount ? ["OVERCOUNT"] : []),
    ...(r.crashed ? ["CRASHED"] : []),
  ].join("  ");
}

function compactTrial(outcome: TrialOutcome): CompactTrial {
  if (outcome.kind === "error") {
    return { targetPps: outcome.targetPps, passed: false, error: outcome.message };
  }
  const r: TrialResult = outcome.result;
  return {
    targetPps: r.targetPps,
    achievedPps: Math.round(r.achievedPps),
    linesPerSecond: Math.round(r.linesPerSecond),
    loss: Number(r.loss.toFixed(6)),
    passed: r.passed,
    kernelDrops: r.kernelDrops,
    namesWrong: r.namesWrong,
    readyMs: Math.round(r.readyMs),
    idleRssBytes: r.idleRssBytes,
    peakRssBytes: r.peakRssBytes,
    settleMs: Math.round(r.settleMs),
    receiverCores: Number(r.receiverCores.toFixed(3)),
    diagnostics: Object.fromEntries(Object.entries(r.diagnostics).filter(([, value]) => value !== 0)),
    backgroundShare: Number(r.backgroundShare.toFixed(3)),
    loadBackgroundShare: Number(r.loadBackgroundShare.toFixed(3)),
  };
}

function boundText(summary: ReceiverSummary): string {
  switch (summary.stop) {
    case "generator": {
      const share = summary.packetsPerSecond !== null && summary.targetPps !== null
        ? ` (${Math.round((summary.packetsPerSecond / summary.targetPps) * 100)} % of target)`
        : "";
      return `generator-bound${share}${summary.lowerBound ? "" : ", loss near limit"}`;
    }
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

function roundOrNull(value: number | null, digits: number): number | null {
  return value === null ? null : Number(value.toFixed(digits));
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
