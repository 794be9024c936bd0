/**
 * Snappy block compression (not the framed format), as remote-write 1.0 requires, from `snappyjs`: a
 * pure-JavaScript port of Google's Snappy (MIT), so it runs unchanged in the `bun build --compile` binary
 * and under Deno, with no native addon or WebAssembly file to ship. See the README for its throughput.
 *
 * @module
 */

// snappyjs ships no types; its CommonJS exports are described here.
import snappyjs from "snappyjs";

/** The two functions snappyjs exports. */
interface SnappyJs {
  compress(input: Uint8Array): Uint8Array;
  uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
}

const SNAPPY = snappyjs as SnappyJs;

/**
 * Compresses bytes into one Snappy block.
 *
 * @param input The bytes.
 * @returns The compressed block.
 * @example
 * ```ts
 * const body = snappyCompress(writeRequestBytes);
 * ```
 */
export function snappyCompress(input: Uint8Array): Uint8Array {
  return SNAPPY.compress(input);
}

/**
 * Decompresses one Snappy block.
 *
 * @param input The compressed block.
 * @param maxLength The largest decompressed size accepted.
 * @returns The bytes.
 * @throws {Error} When the block is not valid Snappy or decompresses past `maxLength`.
 */
export function snappyUncompress(input: Uint8Array, maxLength = 256 * 1024 * 1024): Uint8Array {
  return SNAPPY.uncompress(input, maxLength);
}
