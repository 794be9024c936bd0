/**
 * The gauge reducer: the last absolute set of a window by frame sequence, plus the `+`/`-` deltas after it.
 *
 * Part of the mergeable reducers (`reducers.ts` holds the contract and the dispatch): merging the
 * states of any split of a stream (each part fed in arrival order, a frame never split) finishes to the
 * same value as one state fed the whole stream. States are plain data that cross `postMessage` by
 * structured clone; `merge` consumes `from`.
 *
 * @module
 */

/** How many (seq, sum) delta entries a gauge keeps before coalescing the oldest pairs. */
export const GAUGE_MAX_DELTAS = 1024;

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
  return {
    kind: "gauge",
    hasSet: false,
    setSeq: 0,
    setValue: 0,
    deltaSeqs: _NO_DELTAS,
    deltaSums: _NO_DELTAS,
  };
}

/**
 * The delta lists of every gauge that has none, shared and never written: most gauges are only ever set,
 * and two empty arrays per gauge and window were 2.6 MiB of a 100 000-series window of the StatsD
 * benchmark's mix. The first delta gives a state arrays of its own ({@link _addDelta}); every other writer
 * runs only on a list that holds entries, or replaces the lists.
 */
const _NO_DELTAS: number[] = [];

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
  if (last < 0) {
    // The first delta: lists of its own, never the shared empty ones.
    s.deltaSeqs = [seq];
    s.deltaSums = [delta];
    return;
  }
  if (seqs[last] === seq) {
    s.deltaSums[last]! += delta;
    return;
  }
  if (seqs[last]! < seq) {
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
