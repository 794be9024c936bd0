/**
 * The counter reducer: a StatsD `|c` series' window is the sum of its increments, each scaled by
 * 1 / sample rate.
 *
 * Part of the mergeable reducers (`reducers.ts` holds the contract and the dispatch): merging the
 * states of any split of a stream (each part fed in arrival order, a frame never split) finishes to the
 * same value as one state fed the whole stream. States are plain data that cross `postMessage` by
 * structured clone; `merge` consumes `from`.
 *
 * @module
 */

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
