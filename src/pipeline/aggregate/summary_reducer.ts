/**
 * The summary reducer of timers, histograms and distributions: count, sum, min, max, and exact
 * observations up to a limit, then a mergeable sketch (`sketch.ts`).
 *
 * Part of the mergeable reducers (`reducers.ts` holds the contract and the dispatch): merging the
 * states of any split of a stream (each part fed in arrival order, a frame never split) finishes to the
 * same value as one state fed the whole stream. States are plain data that cross `postMessage` by
 * structured clone; `merge` consumes `from`.
 *
 * @module
 */

import { createSketch, sketchAdd, sketchMerge, sketchQuantile, type SketchState } from "./sketch.ts";

/** How many observations a summary keeps exactly before switching to the sketch. */
export const DEFAULT_EXACT_LIMIT = 256;

/**
 * A timer's, histogram's or distribution's window state: count, sum, min, max, and either the raw
 * observations with their weights (up to the exact limit) or a sketch.
 */
export interface SummaryState {
  /** The discriminant. */
  readonly kind: "summary";
  /** The number of observations, each weighted 1 / sample rate. */
  count: number;
  /** The sum of observations, each weighted 1 / sample rate. */
  sum: number;
  /** The smallest observation. */
  min: number;
  /** The largest observation. */
  max: number;
  /** The raw observations while exact; emptied on the switch to the sketch. */
  values: number[];
  /**
   * The weight (1 / sample rate) of each entry in `values`, or null while every weight is 1: most timers
   * are not sampled, and an array of ones per series and window would double the exact state for nothing
   * (it also lets the exact quantiles skip the weighted walk). Created, back-filled with ones, by the
   * first weight that is not 1.
   */
  weights: number[] | null;
  /** The sketch once more than the exact limit of observations arrived; null while exact. */
  sketch: SketchState | null;
}

/**
 * Creates an empty summary state.
 *
 * @returns The state.
 */
export function summaryInit(): SummaryState {
  return {
    kind: "summary",
    count: 0,
    sum: 0,
    min: Infinity,
    max: -Infinity,
    values: [],
    weights: null,
    sketch: null,
  };
}

/** Moves the exact observations into a new sketch. */
function _toSketch(s: SummaryState): SketchState {
  const sketch = createSketch();
  _addAll(sketch, s.values, s.weights);
  s.values = [];
  s.weights = null;
  s.sketch = sketch;
  return sketch;
}

/** Adds exact observations to a sketch, each with its weight (1 when `weights` is null). */
function _addAll(sketch: SketchState, values: readonly number[], weights: readonly number[] | null): void {
  for (let i = 0; i < values.length; i++) sketchAdd(sketch, values[i]!, weights === null ? 1 : weights[i]!);
}

/** The weights of `s` as an array, created with a 1 for every value kept so far. */
function _weights(s: SummaryState): number[] {
  return s.weights ??= new Array<number>(s.values.length).fill(1);
}

/**
 * Adds one observation.
 *
 * @param s The state.
 * @param value The observation.
 * @param rate The sample rate in (0, 1]; the observation counts 1 / rate times.
 * @param exactLimit How many observations to keep exactly before switching to the sketch.
 */
export function summaryAdd(s: SummaryState, value: number, rate: number, exactLimit: number): void {
  const weight = rate === 1 ? 1 : 1 / rate;
  s.count += weight;
  s.sum += weight === 1 ? value : value / rate;
  if (value < s.min) s.min = value;
  if (value > s.max) s.max = value;
  if (s.sketch !== null) {
    sketchAdd(s.sketch, value, weight);
    return;
  }
  if (s.values.length >= exactLimit) {
    sketchAdd(_toSketch(s), value, weight);
    return;
  }
  if (weight !== 1 || s.weights !== null) _weights(s).push(weight);
  s.values.push(value);
}

/**
 * Merges `from` into `into`, switching to the sketch when the exact observations of both exceed the
 * limit or either side already has a sketch.
 *
 * @param into The state that receives.
 * @param from The state merged in (consumed).
 * @param exactLimit How many observations to keep exactly.
 */
export function summaryMerge(into: SummaryState, from: SummaryState, exactLimit: number): void {
  into.count += from.count;
  into.sum += from.sum;
  if (from.min < into.min) into.min = from.min;
  if (from.max > into.max) into.max = from.max;
  if (into.sketch === null && from.sketch === null && into.values.length + from.values.length <= exactLimit) {
    const fv = from.values;
    const fw = from.weights;
    if (fw !== null || into.weights !== null) {
      const weights = _weights(into);
      for (let i = 0; i < fv.length; i++) weights.push(fw === null ? 1 : fw[i]!);
    }
    for (let i = 0; i < fv.length; i++) into.values.push(fv[i]!);
    return;
  }
  const sketch = into.sketch ?? _toSketch(into);
  if (from.sketch !== null) sketchMerge(sketch, from.sketch);
  _addAll(sketch, from.values, from.weights);
}

/** What a finished summary reports. */
export interface SummaryResult {
  /** The weighted number of observations. */
  readonly count: number;
  /** The weighted sum of observations. */
  readonly sum: number;
  /** The smallest observation. */
  readonly min: number;
  /** The largest observation. */
  readonly max: number;
  /** The value at each requested quantile, in the order asked. */
  readonly quantiles: readonly number[];
}

/** Weighted nearest rank over exact observations: the smallest value whose cumulative weight reaches q·W. */
function _exactQuantiles(s: SummaryState, qs: readonly number[]): number[] {
  const n = s.values.length;
  const out = new Array<number>(qs.length);
  const weights = s.weights;
  if (weights === null) {
    const sorted = Float64Array.from(s.values).sort();
    for (let k = 0; k < qs.length; k++) {
      const i = Math.ceil(qs[k]! * n) - 1;
      out[k] = sorted[i < 0 ? 0 : i >= n ? n - 1 : i]!;
    }
    return out;
  }
  // Ties in value are ordered by weight so the cumulative sums do not depend on arrival order.
  const values = s.values;
  const order = Array.from({ length: n }, (_, i) => i)
    .sort((a, b) => values[a]! - values[b]! || weights[a]! - weights[b]!);
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += weights[order[i]!]!;
    cumulative[i] = total;
  }
  for (let k = 0; k < qs.length; k++) {
    const target = qs[k]! * total;
    let i = 0;
    while (i < n - 1 && cumulative[i]! < target) i++;
    out[k] = values[order[i]!]!;
  }
  return out;
}

/**
 * Finishes a summary: count, sum, min, max and the requested quantiles (exact nearest rank while
 * exact, the sketch's estimate after).
 *
 * @param s The state.
 * @param qs The quantiles to report, each in [0, 1].
 * @returns The summary; quantiles are `NaN` when the window had no observation.
 */
export function summaryFinish(s: SummaryState, qs: readonly number[]): SummaryResult {
  let quantiles: number[];
  if (s.sketch !== null) {
    const sketch = s.sketch;
    quantiles = qs.map((q) => sketchQuantile(sketch, q));
  } else if (s.values.length > 0) {
    quantiles = _exactQuantiles(s, qs);
  } else {
    quantiles = qs.map(() => NaN);
  }
  return { count: s.count, sum: s.sum, min: s.min, max: s.max, quantiles };
}
