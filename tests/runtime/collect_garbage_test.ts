import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { collectGarbage, collectYoungGarbage } from "../../src/runtime/collect_garbage.ts";

interface HeapStats {
  heapSize: number;
}

/** Builds `count` small objects, all alive until it returns (so young collections keep them), then drops them. */
function makeGarbage(count: number): number {
  const kept: { i: number }[] = [];
  for (let i = 0; i < count; i++) kept.push({ i });
  return kept.length;
}

describe("collectGarbage()", () => {
  it("collects on Bun, and elsewhere only where gc() is exposed", () => {
    const exposed = "Bun" in globalThis || typeof (globalThis as { gc?: unknown }).gc === "function";
    assert.equal(collectGarbage(), exposed);
  });

  it("frees what nothing keeps, on Bun", async () => {
    if (!("Bun" in globalThis)) return;
    const jsc = await import("bun:jsc" as string) as { heapStats(): HeapStats };
    collectGarbage();
    const live = jsc.heapStats().heapSize;
    assert.equal(makeGarbage(300_000), 300_000);
    const withGarbage = jsc.heapStats().heapSize;
    assert.ok(withGarbage > live + 4_000_000, `heap ${live} -> ${withGarbage} after 300 000 objects`);
    assert.equal(collectGarbage(), true);
    const after = jsc.heapStats().heapSize;
    assert.ok(after < live + 2_000_000, `heap ${after} after the collection, ${live} before the garbage`);
  });

  it("collectYoungGarbage() collects on Bun only, again and again", () => {
    const bun = "Bun" in globalThis;
    assert.equal(collectYoungGarbage(), bun);
    assert.equal(collectYoungGarbage(), bun);
  });
});
