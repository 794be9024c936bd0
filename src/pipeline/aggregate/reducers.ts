/**
 * Mergeable reducers: one per kind of sample, each with init / add / merge / finish.
 *
 * Workers fold samples into reducer states per series and window; the main thread merges the states
 * of all workers and finishes them. The contract every reducer keeps: merging the states of any split
 * of a stream (each part fed in arrival order, a frame never split) finishes to the same value as one
 * state fed the whole stream. Floating-point sums are the one exception: addition order differs
 * between the split and the whole, so non-integer increments can differ in the last bits. (The gauge and
 * cumulative reducers also document one approximation each, past their entry caps.)
 *
 * States are plain data (numbers, arrays, `Set`, `Float64Array`) so they cross `postMessage` by
 * structured clone. Only the `kind` discriminant is readonly: the other fields are accumulators that
 * the add and merge functions update in place (no allocation per sample). `merge` consumes `from`:
 * it may not be used afterwards.
 *
 * @module
 */

import type { Sample, SampleKind } from "../../model/sample.ts";
import { createSketch, sketchAdd, sketchMerge, sketchQuantile, type SketchState } from "./sketch.ts";

/** How many observations a summary keeps exactly before switching to the sketch. */
export const DEFAULT_EXACT_LIMIT = 256;

/** How many (seq, sum) delta entries a gauge keeps before coalescing the oldest pairs. */
export const GAUGE_MAX_DELTAS = 1024;

/** How many (seq, run) entries a cumulative state keeps before coalescing the oldest pairs. */
export const CUMULATIVE_MAX_ENTRIES = 1024;

// ---------------------------------------------------------------------------------------------
// counter

/** A counter's window state: the sum of `value / rate`. */
export interface CounterState {
  /** The discriminant. */
  readonly kind: "counter";
  /** The sum of increments, each scaled by 1 / sample rate. */
  sum: number;
}

/**
 * Creates an empty counter state.
 *
 * @returns The state.
 */
export function counterInit(): CounterState {
  return { kind: "counter", sum: 0 };
}

/**
 * Adds one increment.
 *
 * @param s The state.
 * @param value The increment.
 * @param rate The sample rate in (0, 1].
 */
export function counterAdd(s: CounterState, value: number, rate: number): void {
  s.sum += rate === 1 ? value : value / rate;
}

/**
 * Merges `from` into `into`.
 *
 * @param into The state that receives.
 * @param from The state merged in (consumed).
 */
export function counterMerge(into: CounterState, from: CounterState): void {
  into.sum += from.sum;
}

/**
 * Finishes a counter.
 *
 * @param s The state.
 * @returns The window's delta.
 */
export function counterFinish(s: CounterState): number {
  return s.sum;
}

// ---------------------------------------------------------------------------------------------
// gauge

/**
 * A gauge's window state: the last absolute set by frame sequence, plus the `+`/`-` deltas that came
 * after it, one entry per frame sequence.
 *
 * Frames are never split between workers, so all lines of one frame reach one state in line order:
 * deltas after a set in the same frame are folded into `setValue`, deltas before it are dropped. The
 * delta entries are kept by sequence so that a set merged in from another worker can drop the
 * deltas older than it. Past {@link GAUGE_MAX_DELTAS} entries the oldest pairs are coalesced (the
 * pair takes the later sequence); a set from another worker whose sequence falls between a coalesced
 * pair then also drops the older delta of the pair, the one approximation of this reducer.
 */
export interface GaugeState {
  /** The discriminant. */
  readonly kind: "gauge";
  /** Whether the window saw an absolute set. */
  hasSet: boolean;
  /** The frame sequence of the last set. */
  setSeq: number;
  /** The last set's value plus the deltas that followed it in the same frame. */
  setValue: number;
  /** The frame sequences of the deltas after the last set, ascending, unique. */
  deltaSeqs: number[];
  /** The summed deltas of each sequence in `deltaSeqs`. */
  deltaSums: number[];
}

/**
 * Creates an empty gauge state.
 *
 * @returns The state.
 */
export function gaugeInit(): GaugeState {
  return { kind: "gauge", hasSet: false, setSeq: 0, setValue: 0, deltaSeqs: [], deltaSums: [] };
}

/** Drops the delta entries with a sequence at or below `seq` (they precede a set). */
function _dropDeltasThrough(s: GaugeState, seq: number): void {
  const seqs = s.deltaSeqs;
  let n = 0;
  while (n < seqs.length && seqs[n]! <= seq) n++;
  if (n === 0) return;
  if (n === seqs.length) {
    seqs.length = 0;
    s.deltaSums.length = 0;
  } else {
    seqs.splice(0, n);
    s.deltaSums.splice(0, n);
  }
}

/** Halves the delta list by summing neighbouring pairs into the later sequence. */
function _coalesceDeltas(s: GaugeState): void {
  const seqs = s.deltaSeqs;
  const sums = s.deltaSums;
  let w = 0;
  for (let r = 0; r < seqs.length; r += 2) {
    if (r + 1 < seqs.length) {
      seqs[w] = seqs[r + 1]!;
      sums[w] = sums[r]! + sums[r + 1]!;
    } else {
      seqs[w] = seqs[r]!;
      sums[w] = sums[r]!;
    }
    w++;
  }
  seqs.length = w;
  sums.length = w;
}

/** Records `delta` at `seq` in the sorted delta list. */
function _addDelta(s: GaugeState, seq: number, delta: number): void {
  const seqs = s.deltaSeqs;
  const last = seqs.length - 1;
  if (last >= 0 && seqs[last] === seq) {
    s.deltaSums[last]! += delta;
    return;
  }
  if (last < 0 || seqs[last]! < seq) {
    seqs.push(seq);
    s.deltaSums.push(delta);
  } else {
    // Out of arrival order (not expected from one worker, but keep the list sorted).
    let i = last;
    while (i > 0 && seqs[i - 1]! >= seq) i--;
    if (seqs[i] === seq) {
      s.deltaSums[i]! += delta;
      return;
    }
    seqs.splice(i, 0, seq);
    s.deltaSums.splice(i, 0, delta);
  }
  if (seqs.length > GAUGE_MAX_DELTAS) _coalesceDeltas(s);
}

/**
 * Applies one gauge line.
 *
 * @param s The state.
 * @param value The absolute value, or the signed change when `isDelta`.
 * @param isDelta Whether the line was a `+`/`-` delta.
 * @param seq The sequence of the frame the line came in.
 */
export function gaugeAdd(s: GaugeState, value: number, isDelta: boolean, seq: number): void {
  if (isDelta) {
    if (s.hasSet && seq <= s.setSeq) {
      // Same frame after the set: it applies. An older frame (out of order): the set overrides it.
      if (seq === s.setSeq) s.setValue += value;
      return;
    }
    _addDelta(s, seq, value);
    return;
  }
  if (s.hasSet && seq < s.setSeq) return;
  s.hasSet = true;
  s.setSeq = seq;
  s.setValue = value;
  if (s.deltaSeqs.length > 0) _dropDeltasThrough(s, seq);
}

/**
 * Merges `from` into `into`: the set with the higher sequence wins, and the deltas of both after the
 * winning set are kept. Equal set sequences cannot come from different workers (a frame is never
 * split); should they meet, `into` keeps its own.
 *
 * @param into The state that receives.
 * @param from The state merged in (consumed).
 */
export function gaugeMerge(into: GaugeState, from: GaugeState): void {
  const setWins = from.hasSet && (!into.hasSet || from.setSeq > into.setSeq);
  if (setWins) {
    into.hasSet = true;
    into.setSeq = from.setSeq;
    into.setValue = from.setValue;
  }
  const a = into.deltaSeqs;
  const b = from.deltaSeqs;
  // Nothing to add and no newer set to cut `into`'s deltas at.
  if (b.length === 0 && !setWins) return;
  const floor = into.hasSet ? into.setSeq : -Infinity;
  const seqs: number[] = [];
  const sums: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let seq: number;
    let sum: number;
    if (j >= b.length || (i < a.length && a[i]! < b[j]!)) {
      seq = a[i]!;
      sum = into.deltaSums[i++]!;
    } else if (i >= a.length || b[j]! < a[i]!) {
      seq = b[j]!;
      sum = from.deltaSums[j++]!;
    } else {
      seq = a[i]!;
      sum = into.deltaSums[i++]! + from.deltaSums[j++]!;
    }
    if (seq <= floor) continue;
    seqs.push(seq);
    sums.push(sum);
  }
  into.deltaSeqs = seqs;
  into.deltaSums = sums;
  while (into.deltaSeqs.length > GAUGE_MAX_DELTAS) _coalesceDeltas(into);
}

/**
 * Finishes a gauge against the series' previous value.
 *
 * @param s The state.
 * @param previous The value carried from earlier windows (0 for a new series); used only when the
 *   window saw no absolute set.
 * @returns The gauge value at the end of the window.
 */
export function gaugeFinish(s: GaugeState, previous: number): number {
  let value = s.hasSet ? s.setValue : previous;
  const sums = s.deltaSums;
  for (let i = 0; i < sums.length; i++) value += sums[i]!;
  return value;
}

// ---------------------------------------------------------------------------------------------
// summary (timer, histogram, distribution)

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
  /** The weight (1 / sample rate) of each entry in `values`. */
  weights: number[];
  /** Whether every weight so far is 1 (lets the exact quantiles skip the weighted walk). */
  unitWeights: boolean;
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
    weights: [],
    unitWeights: true,
    sketch: null,
  };
}

/** Moves the exact observations into a new sketch. */
function _toSketch(s: SummaryState): SketchState {
  const sketch = createSketch();
  const values = s.values;
  const weights = s.weights;
  for (let i = 0; i < values.length; i++) sketchAdd(sketch, values[i]!, weights[i]!);
  s.values = [];
  s.weights = [];
  s.sketch = sketch;
  return sketch;
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
  s.values.push(value);
  s.weights.push(weight);
  if (weight !== 1) s.unitWeights = false;
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
    for (let i = 0; i < fv.length; i++) {
      into.values.push(fv[i]!);
      into.weights.push(fw[i]!);
    }
    into.unitWeights &&= from.unitWeights;
    return;
  }
  const sketch = into.sketch ?? _toSketch(into);
  if (from.sketch !== null) sketchMerge(sketch, from.sketch);
  const fv = from.values;
  const fw = from.weights;
  for (let i = 0; i < fv.length; i++) sketchAdd(sketch, fv[i]!, fw[i]!);
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
  if (s.unitWeights) {
    const sorted = Float64Array.from(s.values).sort();
    for (let k = 0; k < qs.length; k++) {
      const i = Math.ceil(qs[k]! * n) - 1;
      out[k] = sorted[i < 0 ? 0 : i >= n ? n - 1 : i]!;
    }
    return out;
  }
  // Ties in value are ordered by weight so the cumulative sums do not depend on arrival order.
  const values = s.values;
  const weights = s.weights;
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

// ---------------------------------------------------------------------------------------------
// set

/**
 * A set's window state: the distinct members. Exact and unbounded within a window; the series cap
 * bounds the number of sets, not their size.
 */
export interface SetState {
  /** The discriminant. */
  readonly kind: "set";
  /** The distinct members seen. */
  members: Set<string>;
}

/**
 * Creates an empty set state.
 *
 * @returns The state.
 */
export function setInit(): SetState {
  return { kind: "set", members: new Set() };
}

/**
 * Adds one member.
 *
 * @param s The state.
 * @param member The member.
 */
export function setAdd(s: SetState, member: string): void {
  s.members.add(member);
}

/**
 * Merges `from` into `into` (union); the larger set receives.
 *
 * @param into The state that receives.
 * @param from The state merged in (consumed).
 */
export function setMerge(into: SetState, from: SetState): void {
  if (from.members.size > into.members.size) {
    const small = into.members;
    into.members = from.members;
    for (const m of small) into.members.add(m);
    return;
  }
  for (const m of from.members) into.members.add(m);
}

/**
 * Finishes a set.
 *
 * @param s The state.
 * @returns The number of distinct members.
 */
export function setFinish(s: SetState): number {
  return s.members.size;
}

// ---------------------------------------------------------------------------------------------
// cumulative

/**
 * A cumulative series' window state: the raw running totals the source reported, one entry per frame
 * sequence, ascending.
 *
 * An entry stands for a run of consecutive raw values: `firsts` holds the first of the run, `lasts` the
 * last, and `gains` the increase inside the run by the reset rule of {@link cumulativeIncrease}. A
 * single value has first = last and gain 0. Several values of one series in one frame extend that
 * frame's entry in line order (exact: frames are never split between workers). Past
 * {@link CUMULATIVE_MAX_ENTRIES} entries the oldest pairs are coalesced into one run (taking the later
 * sequence); a value from another worker whose sequence falls inside a coalesced run is then ordered
 * after the whole run, the one approximation of this reducer (as with the gauge deltas).
 */
export interface CumulativeState {
  /** The discriminant. */
  readonly kind: "cumulative";
  /** The frame sequence of each entry (for a coalesced run, its latest), ascending, unique. */
  seqs: number[];
  /** The first raw value of each entry's run. */
  firsts: number[];
  /** The last raw value of each entry's run. */
  lasts: number[];
  /** The increase inside each entry's run. */
  gains: number[];
}

/**
 * The increase from one raw running total to the next. A decrease is taken as a restart of the source
 * from 0 (Prometheus' counter-reset rule), so the increase is the new value itself. A 32- or 64-bit
 * wrap of the source's counter cannot be told apart from a restart reliably, so it is treated as one
 * too: that window under-counts by what happened before the wrap.
 *
 * @param previous The earlier raw value.
 * @param current The later raw value.
 * @returns The increase.
 */
export function cumulativeIncrease(previous: number, current: number): number {
  return current >= previous ? current - previous : current;
}

/**
 * Creates an empty cumulative state.
 *
 * @returns The state.
 */
export function cumulativeInit(): CumulativeState {
  return { kind: "cumulative", seqs: [], firsts: [], lasts: [], gains: [] };
}

/** Halves the entry list by joining neighbouring pairs into one run under the later sequence. */
function _coalesceRuns(s: CumulativeState): void {
  const { seqs, firsts, lasts, gains } = s;
  let w = 0;
  for (let r = 0; r < seqs.length; r += 2) {
    if (r + 1 < seqs.length) {
      seqs[w] = seqs[r + 1]!;
      firsts[w] = firsts[r]!;
      gains[w] = gains[r]! + cumulativeIncrease(lasts[r]!, firsts[r + 1]!) + gains[r + 1]!;
      lasts[w] = lasts[r + 1]!;
    } else {
      seqs[w] = seqs[r]!;
      firsts[w] = firsts[r]!;
      gains[w] = gains[r]!;
      lasts[w] = lasts[r]!;
    }
    w++;
  }
  seqs.length = w;
  firsts.length = w;
  lasts.length = w;
  gains.length = w;
}

/**
 * Adds one raw running total.
 *
 * @param s The state.
 * @param value The total the source reported.
 * @param seq The sequence of the frame the value came in.
 * @param maxEntries The entries kept before the oldest pairs are coalesced: {@link CUMULATIVE_MAX_ENTRIES}
 *   by default; 1 keeps a single run, exact where one thread sees every value of the series (one worker,
 *   or none), and keeps the state at four numbers whatever the rate.
 */
export function cumulativeAdd(
  s: CumulativeState,
  value: number,
  seq: number,
  maxEntries: number = CUMULATIVE_MAX_ENTRIES,
): void {
  const seqs = s.seqs;
  const last = seqs.length - 1;
  if (last >= 0 && seqs[last] === seq) {
    // The same frame again: the value follows the entry's last one.
    s.gains[last]! += cumulativeIncrease(s.lasts[last]!, value);
    s.lasts[last] = value;
    return;
  }
  if (last < 0 || seqs[last]! < seq) {
    seqs.push(seq);
    s.firsts.push(value);
    s.lasts.push(value);
    s.gains.push(0);
  } else {
    // Out of arrival order (not expected from one worker, but keep the list sorted).
    let i = last;
    while (i > 0 && seqs[i - 1]! >= seq) i--;
    if (seqs[i] === seq) {
      s.gains[i]! += cumulativeIncrease(s.lasts[i]!, value);
      s.lasts[i] = value;
      return;
    }
    seqs.splice(i, 0, seq);
    s.firsts.splice(i, 0, value);
    s.lasts.splice(i, 0, value);
    s.gains.splice(i, 0, 0);
  }
  while (seqs.length > maxEntries) _coalesceRuns(s);
}

/**
 * Merges `from` into `into` by frame sequence. Equal sequences cannot come from different workers (a
 * frame is never split); should they meet, `into`'s run goes first.
 *
 * @param into The state that receives.
 * @param from The state merged in (consumed).
 */
export function cumulativeMerge(into: CumulativeState, from: CumulativeState): void {
  const b = from.seqs;
  if (b.length === 0) return;
  const a = into.seqs;
  if (a.length === 0 || a[a.length - 1]! < b[0]!) {
    // Common case: one partial's values all precede the other's.
    for (let j = 0; j < b.length; j++) {
      a.push(b[j]!);
      into.firsts.push(from.firsts[j]!);
      into.lasts.push(from.lasts[j]!);
      into.gains.push(from.gains[j]!);
    }
  } else {
    const seqs: number[] = [];
    const firsts: number[] = [];
    const lasts: number[] = [];
    const gains: number[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      if (j >= b.length || (i < a.length && a[i]! < b[j]!)) {
        seqs.push(a[i]!);
        firsts.push(into.firsts[i]!);
        lasts.push(into.lasts[i]!);
        gains.push(into.gains[i++]!);
      } else if (i >= a.length || b[j]! < a[i]!) {
        seqs.push(b[j]!);
        firsts.push(from.firsts[j]!);
        lasts.push(from.lasts[j]!);
        gains.push(from.gains[j++]!);
      } else {
        seqs.push(a[i]!);
        firsts.push(into.firsts[i]!);
        gains.push(into.gains[i]! + cumulativeIncrease(into.lasts[i]!, from.firsts[j]!) + from.gains[j]!);
        lasts.push(from.lasts[j]!);
        i++;
        j++;
      }
    }
    into.seqs = seqs;
    into.firsts = firsts;
    into.lasts = lasts;
    into.gains = gains;
  }
  while (into.seqs.length > CUMULATIVE_MAX_ENTRIES) _coalesceRuns(into);
}

/** What a finished cumulative state reports. */
export interface CumulativeResult {
  /** The increase over the window, from the carried previous value through every value in order. */
  readonly delta: number;
  /** The last raw value of the window, or `NaN` when the state is empty. */
  readonly last: number;
}

/**
 * Finishes a cumulative state against the series' previous raw value.
 *
 * @param s The state.
 * @param previous The last raw value of earlier windows, or `NaN` when there is none: the first value
 *   ever seen then contributes 0 (where the source started counting is unknown).
 * @returns The window's increase and last raw value.
 */
export function cumulativeFinish(s: CumulativeState, previous: number): CumulativeResult {
  const n = s.seqs.length;
  let delta = 0;
  let prev = previous;
  for (let i = 0; i < n; i++) {
    if (!Number.isNaN(prev)) delta += cumulativeIncrease(prev, s.firsts[i]!);
    delta += s.gains[i]!;
    prev = s.lasts[i]!;
  }
  return { delta, last: n > 0 ? prev : NaN };
}

// ---------------------------------------------------------------------------------------------
// dispatch

/** The state of any reducer. */
export type ReducerState = CounterState | GaugeState | SummaryState | SetState | CumulativeState;

/**
 * Creates the empty state for a sample kind (timers, histograms and distributions share the summary).
 *
 * @param kind The kind of the series' samples.
 * @returns The state.
 */
export function reducerInit(kind: SampleKind): ReducerState {
  switch (kind) {
    case "counter":
      return counterInit();
    case "gauge":
      return gaugeInit();
    case "timer":
    case "histogram":
    case "distribution":
      return summaryInit();
    case "set":
      return setInit();
    case "cumulative":
      return cumulativeInit();
  }
}

/**
 * Adds one sample to a state created by {@link reducerInit} for the sample's kind.
 *
 * @param state The state.
 * @param sample The sample.
 * @param seq The sequence of the frame the sample came in.
 * @param exactLimit How many observations a summary keeps exactly.
 * @param cumulativeEntries The entries a cumulative state keeps (see {@link cumulativeAdd}).
 */
export function reducerAdd(
  state: ReducerState,
  sample: Sample,
  seq: number,
  exactLimit: number,
  cumulativeEntries: number = CUMULATIVE_MAX_ENTRIES,
): void {
  switch (state.kind) {
    case "counter":
      counterAdd(state, sample.value, sample.rate);
      return;
    case "gauge":
      gaugeAdd(state, sample.value, sample.gaugeDelta, seq);
      return;
    case "summary":
      summaryAdd(state, sample.value, sample.rate, exactLimit);
      return;
    case "set":
      setAdd(state, sample.member);
      return;
    case "cumulative":
      cumulativeAdd(state, sample.value, seq, cumulativeEntries);
      return;
  }
}

/**
 * Merges two states of the same kind.
 *
 * @param into The state that receives.
 * @param from The state merged in (consumed).
 * @param exactLimit How many observations a summary keeps exactly.
 * @throws {TypeError} When the states are of different kinds (callers check the series kind first).
 */
export function reducerMerge(into: ReducerState, from: ReducerState, exactLimit: number): void {
  if (into.kind !== from.kind) {
    throw new TypeError(`Cannot merge reducer states: kinds differ ("${into.kind}" and "${from.kind}")`);
  }
  switch (into.kind) {
    case "counter":
      counterMerge(into, from as CounterState);
      return;
    case "gauge":
      gaugeMerge(into, from as GaugeState);
      return;
    case "summary":
      summaryMerge(into, from as SummaryState, exactLimit);
      return;
    case "set":
      setMerge(into, from as SetState);
      return;
    case "cumulative":
      cumulativeMerge(into, from as CumulativeState);
      return;
  }
}
