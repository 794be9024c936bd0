/**
 * What `tally wrap` reports about one run of its command: two gauges and one event spanning the run, in the
 * shapes of `POST /api/v1/push` and `POST /api/v1/events`.
 *
 * The metric names are what a Prometheus user sees on `/metrics`, so they follow its conventions (base
 * units, a unit suffix) and carry the run's name in a `name` label (not `job`, which Prometheus sets on
 * every scraped series itself):
 *
 * - `wrap_duration_seconds{name="backup"}`: how long the command ran, in seconds;
 * - `wrap_exit_code{name="backup"}`: its exit code, 128 + the signal number when a signal ended it, 126 or
 *   127 when it could not start (as a shell reports them).
 *
 * The event is titled with the name and carries the attributes CoScale's cron wrapper gave its events
 * (`exit_code`, `execution_time` in seconds) plus `command`, and `signal` when one ended the command.
 *
 * @module
 */

import type { PushMetric } from "./_push_args.ts";

/** The gauge holding the last run's duration in seconds. */
export const WRAP_DURATION_METRIC = "wrap_duration_seconds";
/** The gauge holding the last run's exit code. */
export const WRAP_EXIT_CODE_METRIC = "wrap_exit_code";

/** An argument a POSIX shell reads as one word without quotes. */
const SHELL_SAFE_REGEXP = /^[\w@%+=:,./-]+$/;

/** How the command ended. */
export type WrapOutcome =
  | { readonly kind: "exited"; readonly code: number }
  | { readonly kind: "signaled"; readonly signal: string; readonly code: number }
  | { readonly kind: "not_started"; readonly code: number; readonly reason: string };

/** One run of the wrapped command. */
export interface WrapRun {
  /** The run's name (`--name`, by default the command's base name). */
  readonly name: string;
  /** The command and its arguments. */
  readonly argv: readonly string[];
  /** When it started, in ms since the epoch. */
  readonly startMs: number;
  /** When it ended, in ms since the epoch. */
  readonly endMs: number;
  /** How long it ran, in ms (from a monotonic clock, so not always `endMs - startMs`). */
  readonly durationMs: number;
  /** How it ended. */
  readonly outcome: WrapOutcome;
}

/** One event of a `POST /api/v1/events` body. */
export interface WrapEvent {
  /** The title: the run's name. */
  readonly title: string;
  /** What happened, in a sentence. */
  readonly text: string;
  /** The start, in ms since the epoch. */
  readonly start: number;
  /** The end, in ms since the epoch. */
  readonly end: number;
  /** The attributes. */
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * The metrics of a run.
 *
 * @param run The run.
 * @returns The duration and exit-code gauges, labelled with the run's name.
 */
export function wrapMetrics(run: WrapRun): PushMetric[] {
  const labels = { name: run.name };
  return [
    { name: WRAP_DURATION_METRIC, type: "gauge", value: run.durationMs / 1000, labels },
    { name: WRAP_EXIT_CODE_METRIC, type: "gauge", value: run.outcome.code, labels },
  ];
}

/**
 * The event spanning a run.
 *
 * @param run The run.
 * @returns The event: the name as title, a sentence saying how it ended, the attributes.
 */
export function wrapEvent(run: WrapRun): WrapEvent {
  const command = run.argv.map(shellQuote).join(" ");
  const after = `after ${formatSeconds(run.durationMs)} s`;
  const { outcome } = run;
  let text: string;
  switch (outcome.kind) {
    case "exited":
      text = `${command} exited with code ${outcome.code} ${after}`;
      break;
    case "signaled":
      text = `${command} was ended by ${outcome.signal} ${after}`;
      break;
    case "not_started":
      text = `${command} could not start: ${outcome.reason}`;
      break;
  }
  return {
    title: run.name,
    text,
    start: run.startMs,
    end: Math.max(run.startMs, run.endMs),
    labels: {
      name: run.name,
      command,
      exit_code: String(outcome.code),
      execution_time: formatSeconds(run.durationMs),
      ...(outcome.kind === "signaled" ? { signal: outcome.signal } : {}),
    },
  };
}

/** Quotes an argument for display the way a POSIX shell would need it: `'a b'`, `'it'\''s'`. */
function shellQuote(arg: string): string {
  return SHELL_SAFE_REGEXP.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

/** Milliseconds as seconds with at most three decimals: 12345 → "12.345", 2000 → "2". */
function formatSeconds(ms: number): string {
  return String(Number((ms / 1000).toFixed(3)));
}
