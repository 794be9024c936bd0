import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { SampleKind } from "../../model/sample.ts";
import { SeriesMap } from "./_series_map.ts";

interface Entry {
  readonly kind: SampleKind;
  readonly n: number;
}

function map(): SeriesMap<Entry> {
  return new SeriesMap<Entry>((e) => e.kind);
}

describe("SeriesMap", () => {
  it("keeps each kind of a key apart", () => {
    const m = map();
    m.add("k", "counter", { kind: "counter", n: 1 });
    m.add("k", "timer", { kind: "timer", n: 2 });
    m.add("j", "timer", { kind: "timer", n: 3 });
    assert.equal(m.get("k", "counter")?.n, 1);
    assert.equal(m.get("k", "timer")?.n, 2);
    assert.equal(m.get("j", "timer")?.n, 3);
    assert.equal(m.get("j", "counter"), undefined);
    assert.equal(m.get("x", "counter"), undefined);
    assert.equal(m.size, 3);
    assert.deepEqual([...m.values()].map((e) => e.n), [1, 3, 2]);
  });

  it("finds a further kind after the key's first kind is deleted, and files a returning one again", () => {
    const m = map();
    m.add("k", "counter", { kind: "counter", n: 1 });
    m.add("k", "gauge", { kind: "gauge", n: 2 });
    assert.equal(m.delete("k", "counter"), true);
    assert.equal(m.get("k", "counter"), undefined);
    assert.equal(m.get("k", "gauge")?.n, 2, "the further kind is still found");
    m.add("k", "counter", { kind: "counter", n: 3 });
    assert.equal(m.get("k", "counter")?.n, 3);
    assert.equal(m.get("k", "gauge")?.n, 2);
    assert.equal(m.size, 2);
    assert.equal(m.delete("k", "gauge"), true);
    assert.equal(m.delete("k", "gauge"), false, "deleted once");
    assert.equal(m.delete("k", "set"), false, "never filed");
    assert.deepEqual([...m.values()].map((e) => e.n), [3]);
  });

  it("lets the values be deleted while they are iterated", () => {
    const m = map();
    for (let i = 0; i < 10; i++) m.add(`k${i}`, "counter", { kind: "counter", n: i });
    m.add("k0", "set", { kind: "set", n: 10 });
    const seen: number[] = [];
    for (const e of m.values()) {
      seen.push(e.n);
      if (e.n % 2 === 0) m.delete(e.kind === "set" ? "k0" : `k${e.n}`, e.kind);
    }
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepEqual([...m.values()].map((e) => e.n), [1, 3, 5, 7, 9]);
  });
});
