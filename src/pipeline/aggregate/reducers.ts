/**
 * Mergeable reducers: one per kind of sample, each with init / add / merge / finish, in a file of its own
 * (`counter_reducer.ts`, `gauge_reducer.ts`, `summary_reducer.ts`, `set_reducer.ts`,
 * `cumulative_reducer.ts`); this module dispatches on the state's kind.
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
import { counterAdd, counterInit, counterMerge, type CounterState } from "./counter_reducer.ts";
import {
  CUMULATIVE_MAX_ENTRIES,
  cumulativeAdd,
  cumulativeInit,
  cumulativeMerge,
  type CumulativeState,
} from "./cumulative_reducer.ts";
import { gaugeAdd, gaugeInit, gaugeMerge, type GaugeState } from "./gauge_reducer.ts";
import { setAdd, setInit, setMerge, type SetState } from "./set_reducer.ts";
import { summaryAdd, summaryInit, summaryMerge, type SummaryState } from "./summary_reducer.ts";

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
      return cumulativeInit(false);
    case "signed_cumulative":
      return cumulativeInit(true);
  }
}

/**
 * Adds one sample to a state created by {@link reducerInit} for the sample's kind.
 *
 * @param state The state.
 * @param sample The sample.
 * @param seq The sequence of the frame the sample came in.
 * @param exactLimit How many observations a summary keeps exactly.
 * @param cumulativeEntries The entries a cumulative state keeps (see `cumulativeAdd`).
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
