import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { seededRandom } from "../../pipeline/aggregate/_seeded_random.ts";
import { snappyUncompress } from "../../../tests/harness/write_request.ts";
import { snappyCompress } from "./snappy.ts";

/** Compresses with tally and decompresses with snappyjs, an independent implementation. */
function roundTrip(input: Uint8Array): Uint8Array {
  const compressed = snappyCompress(input);
  assert.deepEqual(snappyUncompress(compressed), input);
  return compressed;
}

describe("snappyCompress()", () => {
  it("writes the length varint and literals for short inputs", () => {
    assert.deepEqual([...snappyCompress(new Uint8Array(0))], [0]);
    assert.deepEqual([...snappyCompress(new TextEncoder().encode("abc"))], [3, 2 << 2, 97, 98, 99]);
    roundTrip(new TextEncoder().encode("fourteen bytes"));
  });

  it("round-trips through snappyjs' decoder: runs, text, random bytes and fragment boundaries", () => {
    const random = seededRandom(7);
    const cases: Uint8Array[] = [
      new Uint8Array(1 << 20),
      new Uint8Array(70_000).fill(0x61),
      new TextEncoder().encode("remote_write ".repeat(20_000)),
      Uint8Array.from({ length: 200_003 }, () => Math.floor(random() * 256)),
      Uint8Array.from({ length: 150_000 }, (_, i) => (i % 251) ^ (Math.floor(random() * 4))),
    ];
    for (const size of [15, 16, 17, 63, 64, 65, 255, 256, 257, 65_535, 65_536, 65_537, 131_072]) {
      cases.push(Uint8Array.from({ length: size }, (_, i) => (i * 31) % 7));
    }
    for (const input of cases) roundTrip(input);
  });

  it("compresses repetitive protobuf-like data about as well as snappy should", () => {
    const text = Array.from(
      { length: 5000 },
      (_, i) => `\n__name__\x12api_requests_total\x0aenv\x04prod\x0ahost${i % 50}`,
    )
      .join("");
    const input = new TextEncoder().encode(text);
    const compressed = roundTrip(input);
    assert.ok(compressed.length * 5 < input.length, `${input.length} → ${compressed.length}`);
  });

  it("compresses a view into a larger buffer without reading outside it", () => {
    const big = new Uint8Array(100_000).map((_, i) => i % 13);
    const view = big.subarray(1234, 91_234);
    assert.deepEqual(snappyUncompress(snappyCompress(view)), view.slice());
  });
});
