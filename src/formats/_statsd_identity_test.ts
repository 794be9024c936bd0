import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseStatsd } from "./statsd.ts";
import { FNV_OFFSET, FNV_PRIME } from "./_statsd_identity.ts";
import type { Sample, SampleSink, SeriesMemo } from "../model/sample.ts";

const encoder = new TextEncoder();

/** Parses `text` and returns each sample's key and memo (the memo is read during the call, as lent). */
function memos(text: string): Array<{ key: string; memo: SeriesMemo | undefined }> {
  const out: Array<{ key: string; memo: SeriesMemo | undefined }> = [];
  const sink: SampleSink = {
    sample: (s: Sample) => void out.push({ key: s.key, memo: s.memo }),
    event() {},
    bad() {},
  };
  parseStatsd(encoder.encode(text), sink);
  return out;
}

/** Fails when one memo object was handed out with two different keys. */
function assertOneKeyPerMemo(seen: Map<SeriesMemo, string>, got: ReturnType<typeof memos>): void {
  for (const { key, memo } of got) {
    assert.ok(memo !== undefined, `a sample of "${key}" has no memo`);
    const before = seen.get(memo);
    if (before === undefined) seen.set(memo, key);
    else assert.equal(key, before, "a memo served two series");
  }
}

describe("StatsD identities as memos (Sample.memo)", () => {
  it("gives every sample of a cached series the same memo, and copies none", () => {
    const got = memos("a:1|c\nb:2|g\na:3|c|@0.5\na:4:5|c\nb:6|g|#k:v\nb:7|g");
    const [a1, b1, a2, a3, a4, bTagged, b2] = got.map((g) => g.memo);
    assert.ok(a1 !== undefined && a1 === a2 && a2 === a3 && a3 === a4);
    assert.ok(b1 !== undefined && b1 === b2);
    assert.notEqual(a1, b1);
    assert.notEqual(bTagged, b1, "a tagged series is another identity");
    let copy: Sample | undefined;
    parseStatsd(encoder.encode("a:1|c"), { sample: (s) => void (copy = { ...s }), event() {}, bad() {} });
    assert.equal(copy?.memo, undefined, "the memo is not enumerable");
    assert.equal(JSON.stringify(copy).includes("memo"), false);
  });

  it("never gives one memo to two series, across the cache starting over", () => {
    // Past the cache's most entries (131 072), so it empties and refills; then the first names again.
    const seen = new Map<SeriesMemo, string>();
    const names = 140_000;
    for (let from = 0; from < names; from += 20_000) {
      const lines: string[] = [];
      for (let i = from; i < Math.min(names, from + 20_000); i++) lines.push(`n.${i}:1|c`);
      assertOneKeyPerMemo(seen, memos(lines.join("\n")));
    }
    assertOneKeyPerMemo(seen, memos(Array.from({ length: 5000 }, (_, i) => `n.${i}:1|c`).join("\n")));
    assert.ok(seen.size > names, "names seen again after the start-over got new memos");
  });

  it("never gives one memo to two series when the byte slab refills", () => {
    const seen = new Map<SeriesMemo, string>();
    const pad = "p".repeat(400);
    for (let pass = 0; pass < 3; pass++) {
      const lines = Array.from({ length: 12_000 }, (_, i) => `long.${i}:1|c|#pad:${pad},i:${i % 50}`);
      assertOneKeyPerMemo(seen, memos(lines.join("\n")));
    }
  });

  it("never takes one name for another of the same length and hash (the bytes are compared)", () => {
    // Two names of 12 bytes whose FNV-1a hashes (the cache's key) are equal, found by brute force.
    const seen = new Map<number, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; pair === undefined; i++) {
      const name = `n.${i.toString(36).padStart(10, "0")}`;
      let h = FNV_OFFSET;
      for (let j = 0; j < name.length; j++) h = Math.imul(h ^ name.charCodeAt(j), FNV_PRIME);
      const other = seen.get(h);
      if (other !== undefined) pair = [other, name];
      else seen.set(h, name);
    }
    const [x, y] = pair;
    const got = memos(`${x}:1|c\n${y}:1|c\n${x}:1|c\n${y}:1|c`).map((m) => m.key);
    assert.deepEqual(got, [x, y, x, y]);
  });
});
