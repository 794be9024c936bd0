/**
 * The rate search: from a start rate, double until a trial loses ≥ 1 % (or the receiver outruns the
 * generator, or the rate cap is reached), halving instead when the start rate already fails; then bisect
 * between the highest passing and the lowest failing rate a few steps. The answer is the highest passing
 * rate below the lowest failing one. A trial that throws (the receiver
 * crashed, the readback failed) counts as a failure at its target rate; two such stop the search.
 *
 * @module
 */
import { LOSS_LIMIT, type TrialResult } from "./trial_result.ts";

/** Options for {@link findMaxRate}. */
export interface SearchOptions<R extends TrialResult = TrialResult> {
  /** The first rate tried, packets/s. */
  readonly startPps: number;
  /** The highest rate tried, packets/s (the generator tops out below ~420 k on a 2-core box). */
  readonly maxPps: number;
  /** Halving stops below this rate, packets/s. */
  readonly minPps: number;
  /** Bisection steps after the first failure. */
  readonly bisectSteps: number;
  /** No trial starts after this `performance.now()` value. */
  readonly deadline: number;
  /** Called after each trial, for progress output. */
  readonly onTrial?: (outcome: TrialOutcome<R>) => void;
}

/** One trial as the search saw it. */
export type TrialOutcome<R extends TrialResult = TrialResult> =
  | { readonly kind: "measured"; readonly result: R }
  | { readonly kind: "error"; readonly targetPps: number; readonly message: string };

/** Why the search ended. */
export type SearchStop =
  | "converged" // bisection ran its steps or the bracket is within 5 %
  | "generator" // a passing trial fell short of its target rate: the generator set the pace
  | "max_rate" // the rate cap passed
  | "floor" // even the minimum rate failed
  | "budget" // the time budget ran out
  | "errors"; // trials kept throwing

/** The outcome of a search. */
export interface SearchResult<R extends TrialResult = TrialResult> {
  /** The passing trial at the highest rate, if any passed. */
  readonly best: R | undefined;
  /** The failing outcome at the lowest rate, if any failed. */
  readonly lowestFailure: TrialOutcome<R> | undefined;
  /** Every trial in order. */
  readonly outcomes: readonly TrialOutcome<R>[];
  /** Why it ended. */
  readonly stop: SearchStop;
  /**
   * The best rate is a lower bound for the receiver: the generator or the cap limited it, and the loss
   * there was below half the limit.
   */
  readonly lowerBound: boolean;
}

/** The trial result when the outcome is a passing measurement. */
function passing<R extends TrialResult>(outcome: TrialOutcome<R>): R | undefined {
  return outcome.kind === "measured" && outcome.result.passed ? outcome.result : undefined;
}

/**
 * The passing trial at the highest achieved rate below the lowest failing rate. Loss is not strictly
 * monotonic in the rate near a receiver's limit, so a lucky pass above a failure is not the answer.
 */
function bestBelow<R extends TrialResult>(
  outcomes: readonly TrialOutcome<R>[],
  failPps: number | undefined,
): R | undefined {
  let best: R | undefined;
  for (const outcome of outcomes) {
    const result = passing(outcome);
    if (result === undefined) continue;
    if (failPps !== undefined && result.targetPps >= failPps) continue;
    if (best === undefined || result.achievedPps > best.achievedPps) best = result;
  }
  return best;
}

/** Bisection stops when the bracket is this tight. */
const BRACKET_RATIO = 1.05;

/**
 * Searches the highest rate with < 1 % loss; see the module doc.
 *
 * @param trial Runs one trial at a target rate (packets/s).
 * @param options Start, cap, floor, bisection steps, deadline and a progress callback.
 * @returns The best passing trial, the lowest failure and every outcome.
 */
export async function findMaxRate<R extends TrialResult>(
  trial: (pps: number) => Promise<R>,
  options: SearchOptions<R>,
): Promise<SearchResult<R>> {
  const outcomes: TrialOutcome<R>[] = [];
  let best: R | undefined;
  let lowestFailure: TrialOutcome<R> | undefined;
  let failPps: number | undefined;
  let errors = 0;

  async function attempt(pps: number): Promise<TrialOutcome<R>> {
    let outcome: TrialOutcome<R>;
    try {
      outcome = { kind: "measured", result: await trial(pps) };
    } catch (error) {
      errors++;
      outcome = {
        kind: "error",
        targetPps: pps,
        message: error instanceof Error ? error.message : String(error),
      };
    }
    outcomes.push(outcome);
    options.onTrial?.(outcome);
    if (passing(outcome) === undefined) {
      // A failure at a rate the generator did not reach happened at the rate it did reach.
      const at = outcome.kind === "measured"
        ? Math.min(outcome.result.targetPps, outcome.result.achievedPps)
        : outcome.targetPps;
      if (failPps === undefined || at < failPps) {
        failPps = at;
        lowestFailure = outcome;
      }
    }
    best = bestBelow(outcomes, failPps);
    return outcome;
  }

  function done(stop: SearchStop): SearchResult<R> {
    // A pass that the generator or the cap limited says the receiver could take more, unless its loss
    // was already near the limit: then the receiver is at its limit too.
    const limited = stop === "generator" || stop === "max_rate";
    const lowerBound = limited && best !== undefined && best.loss < LOSS_LIMIT / 2;
    return { best, lowestFailure, outcomes, stop, lowerBound };
  }

  // Expand: double while passing; halve while failing with nothing passed yet.
  let pps = options.startPps;
  for (;;) {
    if (performance.now() > options.deadline) return done("budget");
    const pass = passing(await attempt(pps));
    if (pass !== undefined) {
      if (pass.generatorShort && best === pass) return done("generator");
      if (failPps !== undefined) break;
      if (pps >= options.maxPps) return done("max_rate");
      pps = Math.min(pps * 2, options.maxPps);
    } else {
      if (errors >= 2) return done("errors");
      if (best !== undefined) break;
      if (pps / 2 < options.minPps) return done("floor");
      pps = Math.round(pps / 2);
    }
  }

  // Bisect between the best pass and the lowest failure.
  for (let step = 0; step < options.bisectSteps; step++) {
    const low = best?.targetPps ?? options.minPps;
    const high = failPps ?? options.maxPps;
    if (high / low <= BRACKET_RATIO) break;
    if (performance.now() > options.deadline) return done("budget");
    const pass = passing(await attempt(Math.round((low + high) / 2 / 100) * 100));
    if (pass !== undefined && pass.generatorShort && best === pass) return done("generator");
    if (pass === undefined && errors >= 2) return done("errors");
  }
  return done("converged");
}
