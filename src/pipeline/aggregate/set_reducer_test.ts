import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { setAdd, setFinish, setInit, setMerge } from "./set_reducer.ts";

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
