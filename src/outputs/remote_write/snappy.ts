/**
 * Snappy block compression (not the framed format), as remote-write 1.0 requires.
 *
 * The compressor is Google's algorithm (`snappy.cc` `CompressFragment`: 64 KiB fragments, a hash table of
 * 4-byte sequences, literals and copies with 1- or 2-byte offsets), written here for speed in JavaScript:
 * the benchmark (`tests/bench/forward.ts`) measured the `snappyjs` package's compressor at half of the
 * remote-write encode time, because it multiplies hashes in floating point and copies every literal byte
 * by byte. This one hashes with `Math.imul`, compares four bytes at a time, copies long literals with
 * `TypedArray.set` and reuses its buffers: 1.5–2× the throughput of `snappyjs` on remote-write bodies, with
 * byte-for-byte the same compression ratio. tally never decompresses; the tests decode what this writes
 * with `snappyjs` (a development dependency) as the independent reference.
 *
 * Format: https://github.com/google/snappy/blob/main/format_description.txt
 *
 * @module
 */

/** Snappy compresses independent fragments of at most 64 KiB, so every copy offset fits 16 bits. */
const FRAGMENT_BYTES = 1 << 16;
/** The hash table holds at most 2^14 entries (Google's kMaxHashTableBits). */
const MAX_TABLE_BITS = 14;
/** Below this many bytes a fragment is one literal (Google's kInputMarginBytes). */
const INPUT_MARGIN = 15;
/** Literals up to this long are copied byte by byte; longer ones with `TypedArray.set`. */
const SHORT_LITERAL = 16;
/** The multiplier of Google's hash. */
const HASH_MUL = 0x1e35a7bd;

const TABLE = new Uint16Array(1 << MAX_TABLE_BITS);
let scratch = new Uint8Array(64 * 1024);

/**
 * Compresses bytes into one Snappy block.
 *
 * @param input The bytes (a view into a larger buffer is fine).
 * @returns The compressed block, a new array of exactly its length.
 * @example
 * ```ts
 * const body = snappyCompress(writeRequestBytes);
 * ```
 */
export function snappyCompress(input: Uint8Array): Uint8Array {
  const length = input.length;
  const bound = 32 + length + Math.floor(length / 6);
  if (scratch.length < bound) scratch = new Uint8Array(bound);
  const out = scratch;
  let op = 0;
  for (let n = length;; n >>>= 7) {
    if (n < 0x80) {
      out[op++] = n;
      break;
    }
    out[op++] = (n & 0x7f) | 0x80;
  }
  for (let ip = 0; ip < length; ip += FRAGMENT_BYTES) {
    op = compressFragment(input, ip, Math.min(FRAGMENT_BYTES, length - ip), out, op);
  }
  return out.slice(0, op);
}

function load32(a: Uint8Array, i: number): number {
  return a[i]! | (a[i + 1]! << 8) | (a[i + 2]! << 16) | (a[i + 3]! << 24);
}

/** Compresses `input[start, start + size)`, `size` ≤ 64 KiB, into `out` at `op`; returns the new `op`. */
function compressFragment(
  input: Uint8Array,
  start: number,
  size: number,
  out: Uint8Array,
  op: number,
): number {
  const end = start + size;
  let nextEmit = start;
  if (size >= INPUT_MARGIN) {
    let tableBits = 8;
    while (tableBits < MAX_TABLE_BITS && 1 << tableBits < size) tableBits++;
    const shift = 32 - tableBits;
    const table = TABLE;
    table.fill(0, 0, 1 << tableBits);
    const limit = end - INPUT_MARGIN;
    let ip = start + 1;
    let nextHash = Math.imul(load32(input, ip), HASH_MUL) >>> shift;
    outer: for (;;) {
      // Look for a 4-byte match, skipping faster the longer nothing matches.
      let skip = 32;
      let nextIp = ip;
      let candidate = 0;
      do {
        ip = nextIp;
        const hash = nextHash;
        nextIp = ip + (skip++ >>> 5);
        if (nextIp > limit) break outer;
        nextHash = Math.imul(load32(input, nextIp), HASH_MUL) >>> shift;
        candidate = start + table[hash]!;
        table[hash] = ip - start;
      } while (load32(input, ip) !== load32(input, candidate));
      op = emitLiteral(input, nextEmit, ip - nextEmit, out, op);
      // Emit copies while the bytes after each one start another match.
      let next = 0;
      do {
        const base = ip;
        let matched = 4;
        while (
          ip + matched + 4 <= end && load32(input, ip + matched) === load32(input, candidate + matched)
        ) {
          matched += 4;
        }
        while (ip + matched < end && input[ip + matched] === input[candidate + matched]) matched++;
        ip += matched;
        op = emitCopy(out, op, base - candidate, matched);
        nextEmit = ip;
        if (ip >= limit) break outer;
        table[Math.imul(load32(input, ip - 1), HASH_MUL) >>> shift] = ip - 1 - start;
        next = Math.imul(load32(input, ip), HASH_MUL) >>> shift;
        candidate = start + table[next]!;
        table[next] = ip - start;
      } while (load32(input, ip) === load32(input, candidate));
      ip += 1;
      nextHash = Math.imul(load32(input, ip), HASH_MUL) >>> shift;
    }
  }
  if (nextEmit < end) op = emitLiteral(input, nextEmit, end - nextEmit, out, op);
  return op;
}

function emitLiteral(input: Uint8Array, from: number, length: number, out: Uint8Array, op: number): number {
  const n = length - 1;
  if (n < 60) {
    out[op++] = n << 2;
  } else if (n < 256) {
    out[op++] = 60 << 2;
    out[op++] = n;
  } else {
    out[op++] = 61 << 2;
    out[op++] = n & 0xff;
    out[op++] = n >>> 8;
  }
  if (length <= SHORT_LITERAL) {
    for (let i = 0; i < length; i++) out[op + i] = input[from + i]!;
  } else {
    out.set(input.subarray(from, from + length), op);
  }
  return op + length;
}

function emitCopy(out: Uint8Array, op: number, offset: number, length: number): number {
  let left = length;
  while (left >= 68) {
    op = emitCopyUpTo64(out, op, offset, 64);
    left -= 64;
  }
  if (left > 64) {
    op = emitCopyUpTo64(out, op, offset, 60);
    left -= 60;
  }
  return emitCopyUpTo64(out, op, offset, left);
}

function emitCopyUpTo64(out: Uint8Array, op: number, offset: number, length: number): number {
  if (length < 12 && offset < 2048) {
    out[op] = 1 + ((length - 4) << 2) + ((offset >>> 8) << 5);
    out[op + 1] = offset & 0xff;
    return op + 2;
  }
  out[op] = 2 + ((length - 1) << 2);
  out[op + 1] = offset & 0xff;
  out[op + 2] = offset >>> 8;
  return op + 3;
}
