import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createSketch,
  SKETCH_MAX_BINS,
  sketchAdd,
  sketchMerge,
  sketchQuantile,
  type SketchState,
} from "./sketch.ts";
import { seededRandom } from "./_seeded_random.ts";

const QUANTILES = [0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

/** The oracle: nearest rank over the sorted values, index ceil(q*n)-1 clamped to [0, n-1]. */
function nearestRank(sorted: readonly number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

function sketchOf(values: readonly number[]): SketchState {
  const s = createSketch();
  for (const v of values) sketchAdd(s, v, 1);
  return s;
}

function assertWithinOnePercent(s: SketchState, values: readonly number[], label: string): void {
  const sorted = [...values].sort((a, b) => a - b);
  const next = seededRandom(99);
  const qs = [...QUANTILES, ...Array.from({ length: 40 }, () => next())];
  for (const q of qs) {
    const expected = nearestRank(sorted, q);
    const actual = sketchQuantile(s, q);
    const error = expected === 0 ? Math.abs(actual) : Math.abs(actual - expected) / Math.abs(expected);
    assert.ok(error <= 0.01, `${label}: q=${q} expected ${expected} got ${actual} (error ${error})`);
  }
  assert.equal(s.min, sorted[0]);
  assert.equal(s.max, sorted[sorted.length - 1]);
  assert.equal(s.count, values.length);
}

function generate(name: string, n: number, seed: number): number[] {
  const r = seededRandom(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  switch (name) {
    case "uniform":
      return Array.from({ length: n }, () => r() * 1000);
    case "lognormal":
      return Array.from({ length: n }, () => Math.exp(2 + 3 * normal()));
    case "exponential":
      return Array.from({ length: n }, () => -Math.log(1 - r()) * 50);
    case "negatives":
      return Array.from({ length: n }, () => normal() * 100 - 20);
    case "wide span":
      return Array.from({ length: n }, () => 10 ** (r() * 15 - 6));
    case "duplicates":
      return Array.from({ length: n }, () => [0, 1, 2, 3, 5, 1000, -7][Math.floor(r() * 7)]!);
    default:
      throw new Error(`Unknown distribution "${name}"`);
  }
}

const DISTRIBUTIONS = ["uniform", "lognormal", "exponential", "negatives", "wide span", "duplicates"];

describe("sketchQuantile()", () => {
  for (const name of DISTRIBUTIONS) {
    it(`sketchQuantile() stays within 1 % of the nearest rank on ${name} values`, () => {
      for (const seed of [1, 2, 3]) {
        const values = generate(name, 20000, seed);
        assertWithinOnePercent(sketchOf(values), values, `${name} seed ${seed}`);
      }
    });
  }

  it("sketchQuantile() covers 1e-6..1e9 without collapsing", () => {
    const values: number[] = [];
    for (let e = -6; e <= 9; e += 0.01) values.push(10 ** e);
    const s = sketchOf(values);
    assert.ok(s.positive.hi - s.positive.lo + 1 <= SKETCH_MAX_BINS);
    assertWithinOnePercent(s, values, "1e-6..1e9");
  });

  it("sketchQuantile() returns NaN for an empty sketch", () => {
    assert.ok(Number.isNaN(sketchQuantile(createSketch(), 0.5)));
  });

  it("sketchQuantile() answers the exact value for a single observation", () => {
    const s = sketchOf([42.5]);
    for (const q of QUANTILES) assert.equal(sketchQuantile(s, q), 42.5);
  });

  it("sketchQuantile() uses the weighted nearest rank", () => {
    // 1 with weight 9 and 100 with weight 1: the 0.9 quantile is 1, the 0.91 quantile is 100.
    const s = createSketch();
    sketchAdd(s, 100, 1);
    sketchAdd(s, 1, 9);
    assert.equal(s.count, 10);
    assert.ok(Math.abs(sketchQuantile(s, 0.9) - 1) <= 0.01);
    assert.ok(Math.abs(sketchQuantile(s, 0.91) - 100) <= 1);
  });
});

describe("sketchAdd()", () => {
  it("sketchAdd() ignores non-finite values and non-positive weights", () => {
    const s = sketchOf([1, 2]);
    sketchAdd(s, NaN, 1);
    sketchAdd(s, Infinity, 1);
    sketchAdd(s, 3, 0);
    sketchAdd(s, 3, -1);
    assert.equal(s.count, 2);
    assert.equal(s.max, 2);
  });

  it("sketchAdd() reuses the bins once they cover the range", () => {
    const s = sketchOf([1, 1000]);
    const bins = s.positive.bins;
    const r = seededRandom(5);
    for (let i = 0; i < 10000; i++) sketchAdd(s, 1 + r() * 999, 1);
    assert.equal(s.positive.bins, bins);
  });

  it("sketchAdd() allocates about a quarter more bins than the values span, not twice as many", () => {
    // A timer's usual range, 0.1 to 500 ms: about 380 bins.
    const r = seededRandom(7);
    const s = sketchOf(Array.from({ length: 5000 }, () => 0.1 + r() * 499.9));
    const span = s.positive.hi - s.positive.lo + 1;
    assert.ok(span > 300, `span ${span}`);
    assert.ok(s.positive.bins.length <= Math.ceil(span * 1.5), `${s.positive.bins.length} bins for ${span}`);
  });

  it("sketchAdd() collapses the lowest bins past the bin cap and keeps the high quantiles accurate", () => {
    const values: number[] = [];
    for (let e = -150; e <= 150; e += 0.05) values.push(10 ** e);
    const s = sketchOf(values);
    assert.ok(s.positive.hi - s.positive.lo + 1 <= SKETCH_MAX_BINS);
    assert.ok(s.positive.bins.length <= SKETCH_MAX_BINS + 256);
    assert.equal(s.count, values.length);
    const sorted = [...values].sort((a, b) => a - b);
    // 2048 bins keep the top ~17 of these 300 decades, so the top 5 % of values stay accurate.
    for (const q of [0.95, 0.99, 0.999, 1]) {
      const expected = nearestRank(sorted, q);
      assert.ok(Math.abs(sketchQuantile(s, q) - expected) / expected <= 0.01, `q=${q}`);
    }
    // Collapsed low quantiles answer the lowest kept bin; clamping still keeps them in [min, max].
    assert.ok(sketchQuantile(s, 0.01) >= s.min);
    assert.equal(sketchQuantile(s, 0), s.min);
  });

  it("sketchAdd() collapses the negative store at the values nearest zero", () => {
    const values: number[] = [];
    for (let e = -150; e <= 150; e += 0.05) values.push(-(10 ** e));
    const s = sketchOf(values);
    assert.ok(s.negative.hi - s.negative.lo + 1 <= SKETCH_MAX_BINS);
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0, 0.001, 0.01, 0.05]) {
      const expected = nearestRank(sorted, q);
      assert.ok(Math.abs(sketchQuantile(s, q) - expected) / Math.abs(expected) <= 0.01, `q=${q}`);
    }
  });
});

describe("sketchMerge()", () => {
  for (const name of DISTRIBUTIONS) {
    it(`sketchMerge() of two ${name} sketches answers like one sketch of the union`, () => {
      const a = generate(name, 7000, 11);
      const b = generate(name === "negatives" ? "lognormal" : name, 5000, 12);
      const merged = sketchOf(a);
      sketchMerge(merged, sketchOf(b));
      const union = [...a, ...b];
      assertWithinOnePercent(merged, union, `merged ${name}`);
      const whole = sketchOf(union);
      for (const q of QUANTILES) assert.equal(sketchQuantile(merged, q), sketchQuantile(whole, q));
    });
  }

  it("sketchMerge() collapses like one sketch fed every value", () => {
    const low: number[] = [];
    const high: number[] = [];
    for (let e = -150; e <= 0; e += 0.1) low.push(10 ** e);
    for (let e = 0; e <= 150; e += 0.1) high.push(10 ** e);
    const merged = sketchOf(low);
    sketchMerge(merged, sketchOf(high));
    const whole = sketchOf([...high, ...low]);
    assert.equal(merged.positive.lo, whole.positive.lo);
    assert.equal(merged.positive.hi, whole.positive.hi);
    for (const q of QUANTILES) assert.equal(sketchQuantile(merged, q), sketchQuantile(whole, q));
  });

  it("sketchMerge() leaves the source unchanged and handles empty sketches", () => {
    const from = sketchOf([1, 2, 3]);
    const into = createSketch();
    sketchMerge(into, from);
    sketchMerge(into, createSketch());
    assert.equal(into.count, 3);
    assert.equal(from.count, 3);
    assert.equal(sketchQuantile(into, 0.5), sketchQuantile(from, 0.5));
  });

  it("sketchMerge() works on a structured clone of the state", () => {
    const values = generate("lognormal", 3000, 21);
    const clone = structuredClone(sketchOf(values));
    assertWithinOnePercent(clone, values, "cloned");
    sketchMerge(clone, sketchOf(values));
    assert.equal(clone.count, 6000);
  });
});
