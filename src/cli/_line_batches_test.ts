import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { lineBatches } from "./_line_batches.ts";
import type { LineBatch } from "./_line_batches.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

async function* chunks(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = encoder.encode(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.slice(i, i + size);
}

async function collect(text: string, chunkSize: number, maxBytes: number): Promise<LineBatch[]> {
  const batches: LineBatch[] = [];
  for await (const batch of lineBatches(chunks(text, chunkSize), maxBytes)) batches.push(batch);
  return batches;
}

function shown(batches: readonly LineBatch[]): [string, number, number][] {
  return batches.map((b) => [decoder.decode(b.bytes), b.firstLine, b.lines]);
}

describe("lineBatches()", () => {
  it("lineBatches() cuts at the last newline that keeps each batch within the limit", async () => {
    assert.deepEqual(shown(await collect("aa\nbb\ncc\ndd\n", 100, 7)), [["aa\nbb\n", 1, 2], [
      "cc\ndd\n",
      3,
      2,
    ]]);
  });

  it("lineBatches() gives the same batches whatever the chunk size", async () => {
    const text = Array.from({ length: 200 }, (_, i) => `metric.${i}:${i}|c`).join("\n") + "\n";
    const reference = shown(await collect(text, text.length, 256));
    for (const size of [1, 3, 17, 255, 256, 1000]) {
      const batches = await collect(text, size, 256);
      assert.deepEqual(shown(batches), reference, `chunks of ${size}`);
      for (const batch of batches) assert.ok(batch.bytes.length <= 256);
    }
    assert.equal(reference.map((b) => b[0]).join(""), text);
    assert.equal(reference.reduce((sum, b) => sum + b[2], 0), 200);
  });

  it("lineBatches() sends a line longer than the limit as a batch of its own", async () => {
    const long = "x".repeat(50);
    assert.deepEqual(shown(await collect(`a\n${long}\nb\n`, 4, 10)), [
      ["a\n", 1, 1],
      [`${long}\n`, 2, 1],
      ["b\n", 3, 1],
    ]);
  });

  it("lineBatches() keeps a last line without a newline, and multi-byte characters whole", async () => {
    assert.deepEqual(shown(await collect("café=1\nnaïve=2", 1, 9)), [["café=1\n", 1, 1], ["naïve=2", 2, 1]]);
  });

  it("lineBatches() yields nothing for empty input, and counts blank lines", async () => {
    assert.deepEqual(await collect("", 1, 10), []);
    assert.deepEqual(shown(await collect("\n\n\n", 1, 10)), [["\n\n\n", 1, 3]]);
  });
});
