import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Sample, SampleKind } from "../../model/sample.ts";
import { Aggregator, type PartialBucket } from "./aggregator.ts";
import { counterFinish } from "./counter_reducer.ts";
import { SeriesNumbers } from "./_series_numbers.ts";
import { makeSample } from "../../formats/_text.ts";

const INTERVAL = 10_000;
const T0 = 1_700_000_000_000;

function sample(name: string, kind: SampleKind, value: number, timeMs = 0): Sample {
  return makeSample(name, [], name, kind, value, timeMs);
}

/** Each series of a bucket as `key/kind=sum` (counters) or `key/kind`, in order. */
function flat(bucket: PartialBucket): string[] {
  return bucket.series.map((s) =>
    s.state.kind === "counter" ? `${s.key}/${s.kind}=${counterFinish(s.state)}` : `${s.key}/${s.kind}`
  );
}

describe("SeriesNumbers", () => {
  it("numbers series from 0 in the order added, each kind of a key apart", () => {
    const numbers = new SeriesNumbers();
    assert.equal(numbers.find("a", "counter"), -1);
    assert.equal(numbers.add("a", "a", [], "counter"), 0);
    assert.equal(numbers.add("b", "b name", [["h", "x"]], "gauge"), 1);
    assert.equal(numbers.find("a", "timer"), -1, "another kind of a known key has no number yet");
    assert.equal(numbers.add("a", "a", [], "timer"), 2);
    assert.deepEqual([numbers.find("a", "counter"), numbers.find("a", "timer"), numbers.find("b", "gauge")], [
      0,
      2,
      1,
    ]);
    assert.deepEqual([numbers.key(1), numbers.name(1), numbers.labels(1), numbers.kind(1)], [
      "b",
      "b name",
      [["h", "x"]],
      "gauge",
    ]);
    assert.equal(numbers.size, 3);
    assert.equal(numbers.generation, 1);
  });

  it("renew() keeps only the numbers asked for, from 0 in that order, and forgets the rest", () => {
    const numbers = new SeriesNumbers();
    for (const key of ["a", "b", "c", "d"]) numbers.add(key, key, [], "counter");
    numbers.add("b", "b", [], "set");
    const renumbered = numbers.renew([4, 2]);
    assert.deepEqual([...renumbered], [-1, -1, 1, -1, 0]);
    assert.equal(numbers.generation, 2);
    assert.equal(numbers.size, 2);
    assert.equal(numbers.find("b", "set"), 0, "a further kind kept alone becomes its key's first");
    assert.equal(numbers.find("c", "counter"), 1);
    assert.equal(numbers.find("a", "counter"), -1);
    assert.equal(numbers.find("b", "counter"), -1);
    assert.equal(numbers.add("a", "a", [], "counter"), 2);
  });
});

describe("Aggregator numbering", () => {
  it("take() starts the numbers over past twice the cap, and the open window keeps its states", () => {
    const agg = new Aggregator({ intervalMs: INTERVAL, exactLimit: 256, maxSeries: 3 });
    const next = T0 + INTERVAL;
    // Window 0: six series, past the cap of three per window, over two kinds of "a"; numbers 0-5 given.
    for (const [i, key] of ["a", "b", "c"].entries()) agg.add(sample(key, "counter", i + 1), i, T0);
    agg.take(T0);
    for (const [i, key] of ["d", "e", "a"].entries()) agg.add(sample(key, "timer", i + 1), 10 + i, next);
    agg.add(sample("e", "timer", 5), 20, next);
    assert.equal(agg.numbers.size, 6);
    assert.equal(agg.numbers.generation, 1);
    // Window 1 is still open when window 0's late samples are taken: six numbers are not past six.
    agg.add(sample("b", "counter", 7, T0 + 1), 21, next);
    const late = agg.take(T0);
    assert.deepEqual(late.buckets.map(flat), [["b/counter=7"]]);
    assert.equal(agg.numbers.generation, 1);
    // A seventh number, then a take: the numbers start over with window 1's three series only.
    agg.add(sample("f", "counter", 1, T0 + 2), 22, next);
    agg.take(T0);
    assert.equal(agg.numbers.generation, 2);
    assert.deepEqual(["d", "e", "a"].map((key) => agg.numbers.find(key, "timer")), [0, 1, 2]);
    assert.equal(agg.numbers.find("a", "counter"), -1);
    // Window 1 goes on under its new numbers: samples land on the same states.
    agg.add(sample("a", "timer", 9), 23, next);
    agg.add(sample("a", "counter", 2), 24, next);
    assert.equal(agg.seriesCount, 3, "the cap of three already full: the counter is rejected");
    const taken = agg.take(next);
    assert.equal(taken.rejected, 1);
    assert.deepEqual(taken.buckets[0]!.series.map((s) => `${s.key}/${s.kind}`), [
      "d/timer",
      "e/timer",
      "a/timer",
    ]);
    const counts = taken.buckets[0]!.series.map((s) => s.state.kind === "summary" ? s.state.count : -1);
    assert.deepEqual(counts, [1, 2, 2]);
  });

  it("a window holds more series than its first position array, and an older bucket files them too", () => {
    const agg = new Aggregator({ intervalMs: INTERVAL, exactLimit: 256, maxSeries: 10_000 });
    // Numbers 0-2999 in window 0, then window 1 opens with the highest numbers first.
    for (let i = 0; i < 3000; i++) agg.add(sample(`s${i}`, "counter", 1), i, T0);
    agg.take(T0);
    const next = T0 + INTERVAL;
    for (let i = 2999; i >= 0; i--) agg.add(sample(`s${i}`, "counter", i), 5000 + i, next);
    for (let i = 0; i < 3000; i += 1000) agg.add(sample(`s${i}`, "counter", 1), 9000 + i, next);
    // Timestamped samples of window 0 come late, new series among them.
    for (let i = 2990; i < 3010; i++) agg.add(sample(`s${i}`, "counter", 2, T0 + 5), 9500 + i, next);
    const p = agg.take(next);
    assert.deepEqual(p.buckets.map((b) => [b.windowMs, b.series.length]), [[T0, 20], [next, 3000]]);
    assert.deepEqual(flat(p.buckets[0]!).slice(8, 12), [
      "s2998/counter=2",
      "s2999/counter=2",
      "s3000/counter=2",
      "s3001/counter=2",
    ]);
    const window = p.buckets[1]!;
    assert.deepEqual(flat(window).slice(0, 2), ["s2999/counter=2999", "s2998/counter=2998"]);
    assert.deepEqual(flat(window).slice(-1), ["s0/counter=1"]);
    assert.ok(
      flat(window).includes("s1000/counter=1001"),
      "a sample of the window's second pass lands on its state",
    );
  });

  it("folding merges each number's states across windows into one bucket", () => {
    const agg = new Aggregator({ intervalMs: INTERVAL, exactLimit: 256, maxSeries: 100 });
    agg.add(sample("a", "counter", 1), 1, T0);
    agg.add(sample("b", "counter", 2), 2, T0);
    agg.add(sample("b", "counter", 3), 3, T0 + INTERVAL);
    agg.add(sample("c", "counter", 4), 4, T0 + INTERVAL);
    agg.add(sample("a", "counter", 5), 5, T0 + 2 * INTERVAL);
    const p = agg.take(T0 + 2 * INTERVAL, true);
    assert.equal(p.buckets.length, 1);
    assert.equal(p.buckets[0]!.windowMs, T0 + 2 * INTERVAL);
    assert.deepEqual(flat(p.buckets[0]!).sort(), ["a/counter=6", "b/counter=5", "c/counter=4"]);
    assert.equal(agg.seriesCount, 0);
  });
});
