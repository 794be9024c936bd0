import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { memberHash, setAdd, setFinish, setInit, setMerge } from "./set_reducer.ts";

describe("set reducer", () => {
  it("setAdd() counts distinct members", () => {
    const s = setInit();
    for (const m of ["a", "b", "a", "c", "b"]) setAdd(s, m);
    assert.equal(setFinish(s), 3);
  });

  it("setMerge() takes the union", () => {
    const a = setInit();
    const b = setInit();
    for (const m of ["a", "b"]) setAdd(a, m);
    for (const m of ["b", "c", "d"]) setAdd(b, m);
    setMerge(a, b);
    assert.equal(setFinish(a), 4);
  });
});

describe("memberHash()", () => {
  it("memberHash() gives integers below 2^53 that tell a million close members apart", () => {
    const seen = new Set<number>();
    for (let i = 0; i < 1_000_000; i++) {
      const h = memberHash(`user-${i}`);
      assert.ok(Number.isSafeInteger(h) && h >= 0, `hash of user-${i}: ${h}`);
      seen.add(h);
    }
    assert.equal(seen.size, 1_000_000);
  });

  it("memberHash() tells apart members that differ in one character, in length or in non-ASCII text", () => {
    const members = [
      "",
      "a",
      "b",
      "ab",
      "ba",
      "a\u0000",
      "\u0000a",
      "é",
      "e\u0301",
      "😀",
      "u1",
      "u10",
      "u01",
    ];
    assert.equal(new Set(members.map(memberHash)).size, members.length);
    assert.equal(memberHash("same"), memberHash("same"));
  });
});

describe("set reducer at size", () => {
  it("setAdd() and setMerge() count thousands of members exactly as they grow the table", () => {
    const a = setInit();
    const b = setInit();
    for (let i = 0; i < 5000; i++) setAdd(a, `m${i}`);
    for (let i = 0; i < 5000; i++) setAdd(a, `m${i}`);
    for (let i = 2500; i < 9000; i++) setAdd(b, `m${i}`);
    assert.equal(setFinish(a), 5000);
    assert.equal(setFinish(b), 6500);
    assert.ok(a.slots.length <= 16384, `slots: ${a.slots.length}`);
    // The smaller merged into the larger, either way round.
    const c = setInit();
    for (const m of ["m1", "x", "y"]) setAdd(c, m);
    setMerge(c, a);
    assert.equal(setFinish(c), 5002);
    setMerge(b, c);
    assert.equal(setFinish(b), 9002);
  });

  it("a set survives structured clone, as it crosses from a worker", () => {
    const a = setInit();
    for (const m of ["a", "b", "c"]) setAdd(a, m);
    const copy = structuredClone(a);
    setAdd(copy, "a");
    setAdd(copy, "d");
    assert.equal(setFinish(copy), 4);
    assert.equal(setFinish(a), 3);
  });
});
