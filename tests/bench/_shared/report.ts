/**
 * What the receive benchmarks' reports share: one search summarised into rate, memory, ready and CPU
 * figures, the compact JSON form of a trial, the progress line of a trial, the plain-text table layout and
 * the unit-neutral formatting of rates and sizes. Each benchmark names its unit (`lines`, `value lists`)
 * and adds its own columns and figures.
 *
 * @module
 */
import type { SearchResult, SearchStop, TrialOutcome } from "./find_max_rate.ts";
import type { TrialResult } from "./trial_result.ts";

/** What one search found, in units of the workload. */
export interface RateSummary<R extends TrialResult> {
  /** The passing trial at the highest rate below the lowest failure, if any. */
  readonly best: R | undefined;
  /** Highest units/s with < 1 % loss (as achieved by the generator), or `null` when nothing passed. */
  readonly unitsPerSecond: number | null;
  /** The same trial in packets/s. */
  readonly packetsPerSecond: number | null;
  /** The target rate of that trial, packets/s (above `packetsPerSecond` when the generator fell short). */
  readonly targetPps: number | null;
  /** The loss at that rate (0.004 = 0.4 %). */
  readonly lossAtBest: number | null;
  /** The lowest failing trial, for context: its units/s and loss, or its error. */
  readonly firstFailure:
    | { readonly unitsPerSecond: number; readonly loss: number }
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
  /** Whether the best trial itself was noisy. */
  readonly bestNoisy: boolean;
}

/** What a benchmark's summary of one search holds whatever its unit: who ran, and the shared figures. */
export interface SearchSummaryBase<Name extends string>
  extends Omit<RateSummary<TrialResult>, "best" | "unitsPerSecond" | "firstFailure" | "bestNoisy"> {
  /** Which receiver. */
  readonly receiver: Name;
  /** Its label with version or path. */
  readonly label: string;
  /** How its count was read back. */
  readonly readback: string;
}

/** The figures of a summary the table shows. */
export type TableFigures = Pick<
  RateSummary<TrialResult>,
  | "unitsPerSecond"
  | "packetsPerSecond"
  | "targetPps"
  | "lossAtBest"
  | "lowerBound"
  | "stop"
  | "idleRssBytes"
  | "peakRssBytes"
  | "readyMs"
  | "receiverCores"
>;

/**
 * Summarises one search.
 *
 * @param search The search result.
 * @param readyDigits Decimals the median ready time keeps (`null`: unrounded).
 * @returns The summary.
 */
export function summariseRates<R extends TrialResult>(
  search: SearchResult<R>,
  readyDigits: number | null,
): RateSummary<R> {
  const measured = search.outcomes.flatMap((outcome) => outcome.kind === "measured" ? [outcome.result] : []);
  const best = search.best;
  const failure = search.lowestFailure;
  const readyMs = median(measured.map((trial) => trial.readyMs));
  return {
    best,
    unitsPerSecond: roundOrNull(best?.unitsPerSecond ?? null, 0),
    packetsPerSecond: roundOrNull(best?.achievedPps ?? null, 0),
    targetPps: best?.targetPps ?? null,
    lossAtBest: roundOrNull(best?.loss ?? null, 6),
    firstFailure: failure === undefined
      ? null
      : failure.kind === "error"
      ? { error: failure.message.split("\n")[0] ?? "" }
      : {
        unitsPerSecond: Math.round(failure.result.unitsPerSecond),
        loss: Number(failure.result.loss.toFixed(6)),
      },
    lowerBound: search.lowerBound,
    stop: search.stop,
    idleRssBytes: median(measured.map((trial) => trial.idleRssBytes)),
    peakRssBytes: best?.peakRssBytes ?? null,
    maxPeakRssBytes: measured.length === 0 ? null : Math.max(...measured.map((trial) => trial.peakRssBytes)),
    readyMs: readyDigits === null ? readyMs : roundOrNull(readyMs, readyDigits),
    receiverCores: roundOrNull(best?.receiverCores ?? null, 3),
    noisyTrials: measured.filter((trial) => trial.noisy).length,
    bestNoisy: best?.noisy ?? false,
  };
}

/** The JSON fields of a trial both benchmarks print. */
export interface CompactTrialBase {
  /** Target packets/s. */
  readonly targetPps: number;
  /** Achieved packets/s. */
  readonly achievedPps?: number;
  /** Loss (fraction). */
  readonly loss?: number;
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
  /** The error, when the trial threw. */
  readonly error?: string;
}

/**
 * The JSON form of a trial: the shared fields, then what `extra` adds for a measured one.
 *
 * @param outcome The trial.
 * @param extra The benchmark's own fields of a measured trial.
 * @returns The compact trial.
 */
export function compactTrial<R extends TrialResult, X extends object>(
  outcome: TrialOutcome<R>,
  extra: (result: R) => X,
): CompactTrialBase | (CompactTrialBase & X) {
  if (outcome.kind === "error") {
    return { targetPps: outcome.targetPps, passed: false, error: outcome.message };
  }
  const r = outcome.result;
  return {
    targetPps: r.targetPps,
    achievedPps: Math.round(r.achievedPps),
    loss: Number(r.loss.toFixed(6)),
    passed: r.passed,
    kernelDrops: r.kernelDrops,
    peakRssBytes: r.peakRssBytes,
    settleMs: Math.round(r.settleMs),
    receiverCores: Number(r.receiverCores.toFixed(3)),
    diagnostics: Object.fromEntries(Object.entries(r.diagnostics).filter(([, value]) => value !== 0)),
    ...extra(r),
  };
}

/** How a benchmark words a trial's progress line. */
export interface TrialLineParts<R extends TrialResult> {
  /** The unit per second, short: `lines/s`, `vl/s`. */
  readonly unitRate: string;
  /** Fields between the rate and the loss. */
  readonly beforeLoss: (r: R) => readonly string[];
  /** Fields between the loss and the verdict. */
  readonly afterLoss: (r: R) => readonly string[];
  /** Fields between the verdict and the kernel drops. */
  readonly afterVerdict: (r: R) => readonly string[];
  /** Fields between the kernel drops and the memory. */
  readonly afterDrops: (r: R) => readonly string[];
  /** Which diagnostics to show (non-zero ones only, always). */
  readonly showDiagnostic: (key: string) => boolean;
  /** The note on a noisy trial. */
  readonly noisy: (r: R) => string;
}

/**
 * Formats one trial as a progress line.
 *
 * @param outcome The trial.
 * @param parts The benchmark's own fields.
 * @returns One line.
 */
export function formatTrialLine<R extends TrialResult>(
  outcome: TrialOutcome<R>,
  parts: TrialLineParts<R>,
): string {
  if (outcome.kind === "error") {
    return `target ${si(outcome.targetPps)} pps: ERROR ${outcome.message.split("\n")[0]}`;
  }
  const r = outcome.result;
  return [
    `target ${si(r.targetPps).padStart(7)} pps`,
    `sent ${si(r.achievedPps).padStart(7)} pps = ${si(r.unitsPerSecond).padStart(7)} ${parts.unitRate}`,
    ...parts.beforeLoss(r),
    `loss ${(r.loss * 100).toFixed(3).padStart(7)} %`,
    ...parts.afterLoss(r),
    r.passed ? "pass" : "FAIL",
    ...parts.afterVerdict(r),
    `kernel drops ${r.kernelDrops}`,
    ...parts.afterDrops(r),
    `rss idle ${mb(r.idleRssBytes)} peak ${mb(r.peakRssBytes)}`,
    `settle ${Math.round(r.settleMs)} ms`,
    `cpu ${r.receiverCores.toFixed(2)} cores`,
    ...Object.entries(r.diagnostics)
      .filter(([key, value]) => value !== 0 && parts.showDiagnostic(key))
      .map(([key, value]) => `${key}=${value}`),
    ...(r.noisy ? [parts.noisy(r)] : []),
    ...(r.generatorShort ? ["generator short of target"] : []),
    ...(r.overcount ? ["OVERCOUNT"] : []),
    ...(r.crashed ? ["CRASHED"] : []),
  ].join("  ");
}

/**
 * The table cells of one summary from its rate column on: rate, packets/s, the benchmark's own cells,
 * loss, bound, cpu, idle RSS, peak RSS, ready.
 *
 * @param s The summary.
 * @param afterPackets Cells between packets/s and loss.
 * @param bound The bound column's text.
 * @returns The cells.
 */
export function rateCells(
  s: TableFigures,
  afterPackets: readonly string[],
  bound: string,
): string[] {
  return [
    s.unitsPerSecond === null ? "none" : `${s.lowerBound ? ">= " : ""}${si(s.unitsPerSecond)}`,
    s.packetsPerSecond === null ? "-" : si(s.packetsPerSecond),
    ...afterPackets,
    s.lossAtBest === null ? "-" : `${(s.lossAtBest * 100).toFixed(3)} %`,
    bound,
    s.receiverCores === null ? "-" : s.receiverCores.toFixed(2),
    s.idleRssBytes === null ? "-" : mb(s.idleRssBytes),
    s.peakRssBytes === null ? "-" : mb(s.peakRssBytes),
    s.readyMs === null ? "-" : `${Math.round(s.readyMs)} ms`,
  ];
}

/**
 * Lays out a header and rows as aligned plain-text columns with a rule under the header.
 *
 * @param header The column titles.
 * @param rows The cells.
 * @returns The lines.
 */
export function formatGrid(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length))
  );
  const line = (cells: readonly string[]): string =>
    cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)];
}

/**
 * Why a search's figure is what it is, for the table.
 *
 * @param s The summary.
 * @param showTargetShare Whether a generator-bound figure names the share of its target it reached.
 * @returns The text.
 */
export function boundText(s: TableFigures, showTargetShare: boolean): string {
  switch (s.stop) {
    case "generator": {
      const share = showTargetShare && s.packetsPerSecond !== null && s.targetPps !== null
        ? ` (${Math.round((s.packetsPerSecond / s.targetPps) * 100)} % of target)`
        : "";
      return `generator-bound${share}${s.lowerBound ? "" : ", loss near limit"}`;
    }
    case "max_rate":
      return `rate cap${s.lowerBound ? "" : ", loss near limit"}`;
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

/** How tally's ratio to a peer is qualified: `>=` when tally's figure is a lower bound, `<=` when only the peer's is, `?` when both are. */
export type RatioQualifier = "=" | ">=" | "<=" | "?";

/**
 * Qualifies tally's ratio to a peer by which figures are lower bounds.
 *
 * @param tallyLowerBound tally's figure is a lower bound.
 * @param peerLowerBound The peer's figure is a lower bound.
 * @returns The qualifier.
 */
export function ratioQualifier(tallyLowerBound: boolean, peerLowerBound: boolean): RatioQualifier {
  return tallyLowerBound ? (peerLowerBound ? "?" : ">=") : peerLowerBound ? "<=" : "=";
}

/**
 * The mark printed before a ratio.
 *
 * @param qualifier From {@link ratioQualifier}.
 * @returns `""`, `"~"`, `">= "` or `"<= "`.
 */
export function ratioMark(qualifier: RatioQualifier): string {
  return qualifier === "=" ? "" : qualifier === "?" ? "~" : `${qualifier} `;
}

/**
 * A rate in k or M with one or two decimals.
 *
 * @param value The rate.
 * @returns E.g. `312.7 k`.
 */
export function si(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)} k`;
  return value.toFixed(0);
}

/**
 * Bytes in MiB with one decimal.
 *
 * @param bytes The size.
 * @returns E.g. `57.0 MiB`.
 */
export function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
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
