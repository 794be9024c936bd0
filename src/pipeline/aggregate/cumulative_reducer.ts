/**
 * The cumulative reducer: the raw running totals a source reports (collectd COUNTER and DERIVE,
 * Prometheus counters, CoScale `Difference` metrics), kept per frame sequence so that the window's
 * increase can be walked in order at the finish.
 *
 * Part of the mergeable reducers (`reducers.ts` holds the contract and the dispatch): merging the
 * states of any split of a stream (each part fed in arrival order, a frame never split) finishes to the
 * same value as one state fed the whole stream. States are plain data that cross `postMessage` by
 * structured clone; `merge` consumes `from`.
 *
 * @module
 */

/** How many (seq, run) entries a cumulative state keeps before coalescing the oldest pairs. */
export const CUMULATIVE_MAX_ENTRIES = 1024;

/**
 * A cumulative series' window state: the raw running totals the source reported, one entry per frame
 * sequence, ascending. `signed` states (`signed_cumulative` series) count a decrease as a negative change
 * instead of a restart (see {@link cumulativeIncrease}).
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
  /** Whether a decrease is a real (negative) change rather than a restart of the source. */
  readonly signed: boolean;
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
 * The increase from one raw running total to the next. Monotonic totals: a decrease is taken as a restart
 * of the source from 0 (Prometheus' counter-reset rule), so the increase is the new value itself; a 32- or
 * 64-bit wrap of the source's counter cannot be told apart from a restart reliably, so it is treated as
 * one too (that window under-counts by what happened before the wrap). Signed totals: the change is
 * `current - previous`, negative when the total fell.
 *
 * @param previous The earlier raw value.
 * @param current The later raw value.
 * @param signed Whether the total may go down (a `signed_cumulative` series).
 * @returns The increase (signed totals: the change).
 */
export function cumulativeIncrease(previous: number, current: number, signed = false): number {
  return signed || current >= previous ? current - previous : current;
}

/**
 * Creates an empty cumulative state.
 *
 * @param signed Whether a decrease is a real change (`signed_cumulative`) rather than a restart.
 * @returns The state.
 */
export function cumulativeInit(signed = false): CumulativeState {
  return { kind: "cumulative", signed, seqs: [], firsts: [], lasts: [], gains: [] };
}

/** Halves the entry list by joining neighbouring pairs into one run under the later sequence. */
function _coalesceRuns(s: CumulativeState): void {
  const { seqs, firsts, lasts, gains } = s;
  let w = 0;
  for (let r = 0; r < seqs.length; r += 2) {
    if (r + 1 < seqs.length) {
      seqs[w] = seqs[r + 1]!;
      firsts[w] = firsts[r]!;
      gains[w] = gains[r]! + cumulativeIncrease(lasts[r]!, firsts[r + 1]!, s.signed) + gains[r + 1]!;
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
    s.gains[last]! += cumulativeIncrease(s.lasts[last]!, value, s.signed);
    s.lasts[last] = value;
    return;
  }
  if (last === 0 && maxEntries === 1 && seqs[0]! < seq) {
    // A single run kept (one thread sees every value): a later frame's value extends it under the later
    // sequence, as pushing an entry and coalescing the pair would, without growing and halving four arrays.
    s.gains[0]! += cumulativeIncrease(s.lasts[0]!, value, s.signed);
    s.lasts[0] = value;
    seqs[0] = seq;
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
      s.gains[i]! += cumulativeIncrease(s.lasts[i]!, value, s.signed);
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
        gains.push(
          into.gains[i]! + cumulativeIncrease(into.lasts[i]!, from.firsts[j]!, into.signed) + from.gains[j]!,
        );
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
  /**
   * The increase over the window, from the carried previous value through every value in order (signed
   * states: the change, negative when the total fell).
   */
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
    if (!Number.isNaN(prev)) delta += cumulativeIncrease(prev, s.firsts[i]!, s.signed);
    delta += s.gains[i]!;
    prev = s.lasts[i]!;
  }
  return { delta, last: n > 0 ? prev : NaN };
}
