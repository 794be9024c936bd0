import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { collectGarbage, collectYoungGarbage } from "../../src/runtime/collect_garbage.ts";

/** Weak references to `count` objects that nothing else keeps. */
function weaklyHeld(count: number): WeakRef<object>[] {
  const refs: WeakRef<object>[] = [];
  for (let i = 0; i < count; i++) refs.push(new WeakRef({ i, payload: [i, i + 1, i + 2] }));
  return refs;
}

describe("collectGarbage()", () => {
  it("collects on Bun, and elsewhere only where gc() is exposed", () => {
    const exposed = "Bun" in globalThis || typeof (globalThis as { gc?: unknown }).gc === "function";
    assert.equal(collectGarbage(), exposed);
  });

  it("frees what nothing keeps, on Bun", async () => {
    if (!("Bun" in globalThis)) return;
    const refs = weaklyHeld(1000);
    // Targets of weak references created in a job stay alive until the job ends.
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(collectGarbage(), true);
    const cleared = refs.filter((ref) => ref.deref() === undefined).length;
    // The engine scans the stack conservatively: a stray word may keep one or two alive.
    assert.ok(cleared >= 990, `${cleared} of 1000 weakly held objects freed`);
  });

  it("collectYoungGarbage() collects on Bun only, again and again", () => {
    const bun = "Bun" in globalThis;
    assert.equal(collectYoungGarbage(), bun);
    assert.equal(collectYoungGarbage(), bun);
  });
});
