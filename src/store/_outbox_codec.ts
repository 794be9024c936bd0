/**
 * The on-disk format of an outbox segment: pure functions from records to bytes and back.
 *
 * A segment file starts with a header, then holds records back to back:
 *
 * ```text
 * segment header   "TALLYOB1" (8 bytes) | u16 LE format length | format (UTF-8)
 * record header    u32 LE body length | u32 LE CRC-32 | f64 LE append time (ms) | u32 LE events
 * record body      body length bytes
 * ```
 *
 * The CRC-32 (IEEE, as zlib computes it) covers the append time, the event count and the body, so a torn
 * or rotted record is told apart from a good one. The format names the encoding of the bodies (e.g.
 * `remote_write/1.0;snappy`), so a segment written under another output config is never sent as if it
 * were this one's.
 *
 * @module
 */

import { crc32 } from "node:zlib";

/** The bytes every segment file starts with. */
export const SEGMENT_MAGIC: Uint8Array = new TextEncoder().encode("TALLYOB1");

/** The size of a record header in bytes. */
export const RECORD_HEADER_BYTES = 20;

/**
 * The largest body a record may declare. A larger length is garbage (a torn or rotted header), never a
 * record: batches are capped far below it by each output's batch limits.
 */
export const MAX_RECORD_BODY_BYTES = 256 * 1024 * 1024;

const UTF8 = new TextEncoder();
const UTF8_DECODER = new TextDecoder("utf-8", { fatal: false });

/** One record as it is appended. */
export interface OutboxInput {
  /** The request body, ready to send. */
  readonly body: Uint8Array;
  /** How many events (samples, lines) the body carries, for the sent and evicted counters. */
  readonly events: number;
}

/** A record header as read back. */
export interface RecordHeader {
  /** The body length in bytes. */
  readonly length: number;
  /** The stored CRC-32. */
  readonly crc: number;
  /** The append time in ms since the epoch. */
  readonly timeMs: number;
  /** The number of events the body carries. */
  readonly events: number;
}

/**
 * Encodes a segment header.
 *
 * @param format The name of the bodies' encoding.
 * @returns The header bytes.
 * @throws {RangeError} When the format is longer than 65 535 bytes of UTF-8.
 */
export function encodeSegmentHeader(format: string): Uint8Array {
  const name = UTF8.encode(format);
  if (name.length > 0xffff) {
    throw new RangeError(`Cannot encode outbox segment header: format is ${name.length} bytes long`);
  }
  const out = new Uint8Array(SEGMENT_MAGIC.length + 2 + name.length);
  out.set(SEGMENT_MAGIC, 0);
  new DataView(out.buffer).setUint16(SEGMENT_MAGIC.length, name.length, true);
  out.set(name, SEGMENT_MAGIC.length + 2);
  return out;
}

/**
 * How many bytes the fixed part of a segment header takes before its format name.
 *
 * @returns The magic plus the u16 length.
 */
export function segmentHeaderPrefixBytes(): number {
  return SEGMENT_MAGIC.length + 2;
}

/**
 * Reads the fixed part of a segment header.
 *
 * @param prefix The first {@link segmentHeaderPrefixBytes} bytes of the file.
 * @returns The length of the format name that follows, or `undefined` when the magic is wrong.
 */
export function decodeSegmentPrefix(prefix: Uint8Array): number | undefined {
  if (prefix.length < SEGMENT_MAGIC.length + 2) return undefined;
  for (let i = 0; i < SEGMENT_MAGIC.length; i++) {
    if (prefix[i] !== SEGMENT_MAGIC[i]) return undefined;
  }
  return new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength).getUint16(
    SEGMENT_MAGIC.length,
    true,
  );
}

/**
 * Decodes a segment's format name.
 *
 * @param bytes The name's bytes.
 * @returns The name.
 */
export function decodeFormat(bytes: Uint8Array): string {
  return UTF8_DECODER.decode(bytes);
}

/**
 * The bytes a record takes on disk.
 *
 * @param input The record.
 * @returns The header plus the body length.
 */
export function recordBytes(input: OutboxInput): number {
  return RECORD_HEADER_BYTES + input.body.length;
}

/**
 * Writes records back to back into `out` at `offset`.
 *
 * @param out The buffer, large enough for every record (see {@link recordBytes}).
 * @param offset Where the first record starts.
 * @param inputs The records.
 * @param timeMs The append time stamped on each record.
 * @returns The offset after the last record.
 */
export function encodeRecords(
  out: Uint8Array,
  offset: number,
  inputs: readonly OutboxInput[],
  timeMs: number,
): number {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let at = offset;
  for (const input of inputs) {
    const body = input.body;
    view.setUint32(at, body.length, true);
    view.setFloat64(at + 8, timeMs, true);
    view.setUint32(at + 16, input.events >>> 0, true);
    out.set(body, at + RECORD_HEADER_BYTES);
    const checked = out.subarray(at + 8, at + RECORD_HEADER_BYTES + body.length);
    view.setUint32(at + 4, crc32(checked) >>> 0, true);
    at += RECORD_HEADER_BYTES + body.length;
  }
  return at;
}

/**
 * Reads a record header.
 *
 * @param bytes At least {@link RECORD_HEADER_BYTES} bytes starting at the header.
 * @returns The header.
 */
export function decodeRecordHeader(bytes: Uint8Array): RecordHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    length: view.getUint32(0, true),
    crc: view.getUint32(4, true),
    timeMs: view.getFloat64(8, true),
    events: view.getUint32(16, true),
  };
}

/**
 * Checks a record's CRC-32.
 *
 * @param header The bytes of the record header (its last 12 bytes are covered by the checksum).
 * @param body The body.
 * @param crc The stored checksum.
 * @returns Whether the record is intact.
 */
export function recordIntact(header: Uint8Array, body: Uint8Array, crc: number): boolean {
  const sum = crc32(body, crc32(header.subarray(8, RECORD_HEADER_BYTES)));
  return (sum >>> 0) === (crc >>> 0);
}
