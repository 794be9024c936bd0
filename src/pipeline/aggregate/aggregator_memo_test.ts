import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Labels, Sample, SampleKind, SeriesMemo } from "../../model/sample.ts";
import { seriesKey } from "../../model/series_key.ts";
import { type AggregatePartial, Aggregator } from "./aggregator.ts";
import { counterFinish } from "./counter_reducer.ts";
import { seededRandom } from "./_seeded_random.ts";

const INTERVAL = 10_000;
const T0 = 1_700_000_000_000; // a multiple of 10 s

function sample(name: string, kind: SampleKind, value: number, memo?: SeriesMemo, timeMs = 0): Sample {
  const labels: Labels = [];
  const data = {
    name,
    labels,
    key: seriesKey(name, labels),
    kind,
    value,
    member: kind === "set" ? `m${value}` : "",
    rate: 1,
    gaugeDelta: false,
    timeMs,
  };
  return memo === undefined ? data : { ...data, memo };
}

function newMemo(): SeriesMemo {
  return { stamp: 0, index: 0, holder: 0, position: 0, heldKey: "", heldKind: "counter" };
}

function aggregator(maxSeries = 1000): Aggregator {
  return new Aggregator({ intervalMs: INTERVAL, exactLimit: 8, maxSeries });
}

function counterSum(partial: AggregatePartial, key: string): number | undefined {
  const state = partial.buckets[0]?.series.find((s) => s.key === key)?.state;
  return state?.kind === "counter" ? counterFinish(state) : undefined;
}

describe("Aggregator with memos (Sample.memo)", () => {
  it("add() never writes a state handed over by take() through a memo of its window", () => {
    const agg = aggregator();
    const memo: SeriesMemo = newMemo();
    agg.add(sample("a", "counter", 1, memo), 1, T0);
    agg.add(sample("a", "counter", 2, memo), 2, T0);
    const stampOfFirst = memo.stamp;
    assert.notEqual(stampOfFirst, 0, "the aggregator stamps the memo");
    const first = agg.take(T0);
    assert.equal(counterSum(first, "a"), 3);
    agg.add(sample("a", "counter", 10, memo), 3, T0 + INTERVAL);
    agg.add(sample("a", "counter", 20, memo), 4, T0 + INTERVAL);
    assert.equal(counterSum(first, "a"), 3, "the taken state is left alone");
    assert.equal(memo.stamp, stampOfFirst, "the series keeps its number across windows");
    assert.equal(counterSum(agg.take(T0 + INTERVAL), "a"), 30);
  });

  it("add() keeps each window's states apart through a memo that holds a place, across windows, kinds and folds", () => {
    for (const fold of [false, true]) {
      const agg = aggregator();
      const memo = newMemo();
      const late = T0 + 5; // a client timestamp in the first window
      agg.add(sample("a", "counter", 1, memo), 1, T0);
      // The next window opens before the first is taken: the memo now holds a place in it.
      agg.add(sample("a", "counter", 2, memo), 2, T0 + INTERVAL);
      agg.add(sample("a", "counter", 4, memo, late), 3, T0 + INTERVAL);
      agg.add(sample("a", "counter", 8, memo), 4, T0 + INTERVAL);
      // One name as two kinds, one memo: two series, and the place held is the last kind's.
      agg.add(sample("a", "timer", 16, memo), 5, T0 + INTERVAL);
      agg.add(sample("a", "counter", 32, memo), 6, T0 + INTERVAL);
      agg.add(sample("a", "timer", 64, memo), 7, T0 + INTERVAL);
      const taken = agg.take(T0 + INTERVAL, fold);
      const counters = taken.buckets.map((b) => {
        const state = b.series.find((x) => x.kind === "counter")!.state;
        return [b.windowMs, state.kind === "counter" ? counterFinish(state) : NaN];
      });
      assert.deepEqual(
        counters,
        fold ? [[T0 + INTERVAL, 47]] : [[T0, 5], [T0 + INTERVAL, 42]],
        `fold ${fold}`,
      );
      const timer = taken.buckets.at(-1)!.series.find((x) => x.kind === "timer")!.state;
      assert.deepEqual(timer.kind === "summary" ? timer.values : [], [16, 64]);
      // After the take the memo's place names a window gone: the next line opens a new state.
      agg.add(sample("a", "counter", 128, memo), 8, T0 + 2 * INTERVAL);
      agg.add(sample("a", "counter", 256, memo), 9, T0 + 2 * INTERVAL);
      assert.equal(counterSum(agg.take(T0 + 2 * INTERVAL), "a"), 384);
    }
  });

  it("add() ignores a memo another aggregator wrote, and a memo shared by two keys", () => {
    const one = aggregator();
    const two = aggregator();
    const shared: SeriesMemo = newMemo();
    for (let i = 0; i < 10; i++) {
      one.add(sample("a", "counter", 1, shared), i, T0);
      two.add(sample("a", "counter", 2, shared), i, T0);
      one.add(sample("b", "counter", 100, shared), i, T0);
    }
    const p1 = one.take(T0);
    const p2 = two.take(T0);
    assert.equal(counterSum(p1, "a"), 10);
    assert.equal(counterSum(p1, "b"), 1000);
    assert.equal(counterSum(p2, "a"), 20);
  });

  it("add() ignores a memo whose place is past the bucket (a memo cloned from another thread)", () => {
    const agg = aggregator();
    const memo: SeriesMemo = newMemo();
    agg.add(sample("a", "counter", 1, memo), 1, T0);
    const forged: SeriesMemo = { ...newMemo(), stamp: memo.stamp, index: 5 };
    agg.add(sample("b", "counter", 2, forged), 2, T0);
    const p = agg.take(T0);
    assert.equal(counterSum(p, "a"), 1);
    assert.equal(counterSum(p, "b"), 2);
  });

  it("the partials with memos equal the partials without, over windows, kinds, late samples and folds", () => {
    const r = seededRandom(7);
    const keys = Array.from({ length: 40 }, (_, i) => `s${i}`);
    const kinds: readonly SampleKind[] = ["counter", "gauge", "timer", "set"];
    // Some names are used as two kinds, and a few memos are (wrongly) shared by two keys.
    const memos = keys.map((): SeriesMemo => newMemo());
    memos[39] = memos[38]!;
    const withMemo = [aggregator(30), aggregator(30)];
    const without = [aggregator(30), aggregator(30)];
    let windowMs = T0;
    for (let step = 0; step < 4000; step++) {
      const k = Math.floor(r() * keys.length);
      const kind = kinds[(k + (r() < 0.1 ? 1 : 0)) % kinds.length]!;
      const late = r() < 0.05 ? windowMs - INTERVAL + 1 : 0;
      const value = Math.floor(r() * 100);
      const which = r() < 0.5 ? 0 : 1;
      withMemo[which]!.add(sample(keys[k]!, kind, value, memos[k], late), step, windowMs);
      without[which]!.add(sample(keys[k]!, kind, value, undefined, late), step, windowMs);
      if (r() < 0.01) windowMs += INTERVAL;
      if (r() < 0.005) {
        const upTo = windowMs - (r() < 0.5 ? 0 : INTERVAL);
        const fold = r() < 0.5;
        for (let i = 0; i < 2; i++) {
          assert.deepEqual(withMemo[i]!.take(upTo, fold), without[i]!.take(upTo, fold));
        }
      }
    }
    for (let i = 0; i < 2; i++) {
      assert.deepEqual(withMemo[i]!.take(Infinity), without[i]!.take(Infinity));
    }
  });
});
