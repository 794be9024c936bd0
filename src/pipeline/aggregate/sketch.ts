/**
 * A mergeable relative-error quantile sketch of the DDSketch class
 * (Masson, Rim, Lee: "DDSketch: a fast and fully-mergeable quantile sketch with relative-error
 * guarantees", VLDB 2019, https://arxiv.org/abs/1908.10693).
 *
 * A positive value `v` lands in bin `i = ceil(ln(v) / ln(gamma))` with
 * `gamma = (1 + a) / (1 - a)`; the bin covers `(gamma^(i-1), gamma^i]` and answers with
 * `2 * gamma^i / (gamma + 1)`, which is within `a` of every value in the bin. Negative values go to
 * a second store by magnitude, exact zeros to a counter. `a` is {@link SKETCH_RELATIVE_ACCURACY}
 * (0.95 %), a little under the promised 1 % so that floating-point error at bin edges stays inside
 * the promise.
 *
 * Each store is a dense `Float64Array` of weights (weights, not counts: a sample rate of 0.1 adds 10)
 * with at most {@link SKETCH_MAX_BINS} occupied bins. When a store would span more bins than that,
 * its lowest bins are collapsed into the lowest kept bin: for the positive store the smallest values,
 * for the negative store the values nearest zero. About 121 bins cover a decade, so 2048 bins cover
 * almost 17 decades (1e-6 to 1e10) before anything collapses; past that, quantiles that fall in the
 * collapsed bins lose the relative-error guarantee (they answer with the lowest kept bin, still
 * clamped to the exact min/max). The collapse point depends only on the largest bin ever seen, so
 * merging sketches gives the same bins as adding every value to one sketch.
 *
 * The state is plain data (numbers and `Float64Array`s) so it crosses `postMessage` by structured
 * clone. Adding allocates nothing once the bins cover the value's range.
 *
 * @module
 */

/** The relative accuracy `a` of the sketch: every quantile is within this fraction of the true value. */
export const SKETCH_RELATIVE_ACCURACY = 0.0095;

/** The most occupied bins one store keeps before collapsing its lowest bins. */
export const SKETCH_MAX_BINS = 2048;

const GAMMA = (1 + SKETCH_RELATIVE_ACCURACY) / (1 - SKETCH_RELATIVE_ACCURACY);
const LN_GAMMA = Math.log(GAMMA);
const INDEX_MULTIPLIER = 1 / LN_GAMMA;
const REPRESENTATIVE_FACTOR = 2 / (1 + GAMMA);
// Spare room above the top bin so a store at the cap can collapse in place as its maximum grows,
// instead of reallocating for every new maximum.
const SLACK_BINS = 256;
const INITIAL_BINS = 128;
/** The fewest spare bins a store gets when it grows. */
const HEADROOM_MIN_BINS = 32;

/** One side of the sketch: weights per bin index, densely stored. */
export interface SketchStore {
  /** The weights; `bins[j]` holds bin index `offset + j`. Empty until the first value. */
  bins: Float64Array;
  /** The bin index stored at `bins[0]`. */
  offset: number;
  /** The lowest occupied bin index (`lo > hi` when empty). */
  lo: number;
  /** The highest occupied bin index. */
  hi: number;
  /** The total weight in the store. */
  count: number;
}

/** The state of one sketch: plain data that survives structured clone. */
export interface SketchState {
  /** The discriminant. */
  readonly kind: "sketch";
  /** The store of positive values. */
  readonly positive: SketchStore;
  /** The store of negative values, indexed by magnitude. */
  readonly negative: SketchStore;
  /** The weight of exact zeros. */
  zero: number;
  /** The total weight of all values. */
  count: number;
  /** The exact smallest value (`Infinity` when empty). */
  min: number;
  /** The exact largest value (`-Infinity` when empty). */
  max: number;
}

function createStore(): SketchStore {
  return { bins: new Float64Array(0), offset: 0, lo: 0, hi: -1, count: 0 };
}

/**
 * Creates an empty sketch.
 *
 * @returns The sketch state.
 */
export function createSketch(): SketchState {
  return {
    kind: "sketch",
    positive: createStore(),
    negative: createStore(),
    zero: 0,
    count: 0,
    min: Infinity,
    max: -Infinity,
  };
}

/**
 * Makes `store` cover bin indexes `from..to` (either may lie inside the current range), collapsing the
 * lowest bins when the span would exceed {@link SKETCH_MAX_BINS}. Runs only when the range changes.
 */
function _extend(store: SketchStore, from: number, to: number): void {
  const empty = store.lo > store.hi;
  let newLo = empty ? from : Math.min(store.lo, from);
  const newHi = empty ? to : Math.max(store.hi, to);
  if (newHi - newLo + 1 > SKETCH_MAX_BINS) newLo = newHi - SKETCH_MAX_BINS + 1;
  const bins = store.bins;
  if (newLo >= store.offset && newHi < store.offset + bins.length) {
    // Fits: fold any bins that fell below the new lowest bin into it.
    if (!empty && newLo > store.lo) {
      let folded = 0;
      const end = Math.min(newLo - 1, store.hi);
      for (let i = store.lo; i <= end; i++) {
        folded += bins[i - store.offset]!;
        bins[i - store.offset] = 0;
      }
      bins[newLo - store.offset]! += folded;
    }
    store.lo = newLo;
    store.hi = newHi;
    return;
  }
  const span = newHi - newLo + 1;
  // A quarter more than the span (split around it), so a range that still widens reallocates now and
  // then, not for every value. (Twice the span plus the slack, as before, made a timer's sketch of about
  // 450 bins take 1280: 10 KiB per busy timer and window, and as much again in each hand-over copy.)
  const length = Math.min(
    Math.max(INITIAL_BINS, span + Math.max(HEADROOM_MIN_BINS, span >> 2)),
    SKETCH_MAX_BINS + SLACK_BINS,
  );
  // Values mostly grow the top end once collapsing starts; otherwise keep room on both sides.
  const offset = span >= SKETCH_MAX_BINS ? newLo : newLo - ((length - span) >> 1);
  const next = new Float64Array(length);
  if (!empty) {
    for (let i = store.lo; i <= store.hi; i++) {
      const w = bins[i - store.offset]!;
      if (w !== 0) next[(i < newLo ? newLo : i) - offset]! += w;
    }
  }
  store.bins = next;
  store.offset = offset;
  store.lo = newLo;
  store.hi = newHi;
}

function _storeAdd(store: SketchStore, index: number, weight: number): void {
  if (index < store.lo || index > store.hi) _extend(store, index, index);
  // An index below `lo` after extending means it was collapsed into the lowest bin.
  const i = index < store.lo ? store.lo : index;
  store.bins[i - store.offset]! += weight;
  store.count += weight;
}

/**
 * Adds `weight` occurrences of `value`. Non-finite values and non-positive weights are ignored (the
 * formats reject them before they get here).
 *
 * @param s The sketch to update.
 * @param value The observed value.
 * @param weight The weight, usually 1 / sample rate.
 */
export function sketchAdd(s: SketchState, value: number, weight: number): void {
  if (!(weight > 0) || !Number.isFinite(value)) return;
  if (value > 0) {
    _storeAdd(s.positive, Math.ceil(Math.log(value) * INDEX_MULTIPLIER), weight);
  } else if (value < 0) {
    _storeAdd(s.negative, Math.ceil(Math.log(-value) * INDEX_MULTIPLIER), weight);
  } else {
    s.zero += weight;
  }
  s.count += weight;
  if (value < s.min) s.min = value;
  if (value > s.max) s.max = value;
}

function _storeMerge(into: SketchStore, from: SketchStore): void {
  if (from.lo > from.hi) return;
  _extend(into, from.lo, from.hi);
  const bins = from.bins;
  for (let i = from.lo; i <= from.hi; i++) {
    const w = bins[i - from.offset]!;
    if (w === 0) continue;
    const j = i < into.lo ? into.lo : i;
    into.bins[j - into.offset]! += w;
  }
  into.count += from.count;
}

/**
 * Merges `from` into `into`; `from` is left unchanged.
 *
 * @param into The sketch that receives the values.
 * @param from The sketch whose values are added.
 */
export function sketchMerge(into: SketchState, from: SketchState): void {
  _storeMerge(into.positive, from.positive);
  _storeMerge(into.negative, from.negative);
  into.zero += from.zero;
  into.count += from.count;
  if (from.min < into.min) into.min = from.min;
  if (from.max > into.max) into.max = from.max;
}

function _representative(index: number): number {
  return Math.exp(index * LN_GAMMA) * REPRESENTATIVE_FACTOR;
}

/** Walks the bins in ascending value order to the first whose cumulative weight reaches `target`. */
function _valueAtRank(s: SketchState, target: number): number {
  let cumulative = 0;
  // Negatives first, by falling magnitude.
  const neg = s.negative;
  for (let i = neg.hi; i >= neg.lo; i--) {
    const w = neg.bins[i - neg.offset]!;
    if (w === 0) continue;
    cumulative += w;
    if (cumulative >= target) return -_representative(i);
  }
  if (s.zero > 0) {
    cumulative += s.zero;
    if (cumulative >= target) return 0;
  }
  const pos = s.positive;
  for (let i = pos.lo; i <= pos.hi; i++) {
    const w = pos.bins[i - pos.offset]!;
    if (w === 0) continue;
    cumulative += w;
    if (cumulative >= target) return _representative(i);
  }
  // Rounding left the running sum a hair under the total: the answer is the top.
  return s.max;
}

/**
 * Estimates the `q` quantile: the weighted nearest rank, i.e. the smallest value whose cumulative
 * weight reaches `q * count`, within {@link SKETCH_RELATIVE_ACCURACY} relative error (outside
 * collapsed bins). The answer is clamped to the exact min and max.
 *
 * @param s The sketch.
 * @param q The quantile in [0, 1].
 * @returns The estimate, or `NaN` when the sketch is empty.
 */
export function sketchQuantile(s: SketchState, q: number): number {
  if (!(s.count > 0)) return NaN;
  if (q <= 0) return s.min;
  if (q >= 1) return s.max;
  const value = _valueAtRank(s, q * s.count);
  // Clamping never moves the answer away from the true value, which lies in [min, max].
  return value < s.min ? s.min : value > s.max ? s.max : value;
}
