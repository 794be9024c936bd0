/**
 * The few protobuf wire operations the OTLP metrics encoder writes in its hot loop, into one buffer sized
 * exactly beforehand (every length is computed before anything is written, so nothing grows or is copied),
 * plus the size arithmetic that makes that possible. Cold parts (attributes, names, the resource) are
 * encoded once with `@bufbuild/protobuf`'s `BinaryWriter` and copied in as bytes.
 *
 * Wire format: https://protobuf.dev/programming-guides/encoding/
 *
 * @module
 */

/** Wire type 0: varint. */
export const VARINT = 0;
/** Wire type 1: 64-bit (fixed64, sfixed64, double). */
export const BIT64 = 1;
/** Wire type 2: length-delimited (messages, strings, bytes). */
export const LEN = 2;

const TWO_32 = 2 ** 32;

/**
 * How many bytes a varint of `n` takes.
 *
 * @param n A non-negative integer below 2^32.
 * @returns 1 to 5.
 */
export function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/**
 * How many bytes a length-delimited field takes: its tag (one byte for fields 1-15), its length, its body.
 *
 * @param length The body's length.
 * @returns The field's size.
 */
export function fieldSize(length: number): number {
  return 1 + varintSize(length) + length;
}

/** A buffer of a known final size, written front to back. A resource only in that it owns the bytes. */
export class ProtoBuffer {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  #at = 0;

  /**
   * Allocates the buffer.
   *
   * @param size The exact number of bytes that will be written.
   */
  constructor(size: number) {
    this.#bytes = new Uint8Array(size);
    this.#view = new DataView(this.#bytes.buffer);
  }

  /**
   * Writes a field's tag (field numbers 1-15 take one byte).
   *
   * @param field The field number.
   * @param wire The wire type.
   */
  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  /**
   * Writes a varint.
   *
   * @param n A non-negative integer below 2^32.
   */
  varint(n: number): void {
    while (n >= 0x80) {
      this.#bytes[this.#at++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.#bytes[this.#at++] = n;
  }

  /**
   * Writes a length-delimited field's tag and length; the body follows.
   *
   * @param field The field number.
   * @param length The body's length.
   */
  open(field: number, length: number): void {
    this.tag(field, LEN);
    this.varint(length);
  }

  /**
   * Copies bytes already encoded.
   *
   * @param bytes The bytes.
   */
  raw(bytes: Uint8Array): void {
    this.#bytes.set(bytes, this.#at);
    this.#at += bytes.length;
  }

  /**
   * Writes a double field.
   *
   * @param field The field number.
   * @param value The value.
   */
  double(field: number, value: number): void {
    this.tag(field, BIT64);
    this.#view.setFloat64(this.#at, value, true);
    this.#at += 8;
  }

  /**
   * Writes a fixed64 field holding an integer below 2^53.
   *
   * @param field The field number.
   * @param value The value.
   */
  fixed64(field: number, value: number): void {
    this.tag(field, BIT64);
    this.#view.setUint32(this.#at, value % TWO_32, true);
    this.#view.setUint32(this.#at + 4, Math.floor(value / TWO_32), true);
    this.#at += 8;
  }

  /**
   * Writes a fixed64 field of nanoseconds since the epoch from milliseconds, exactly (nanosecond values
   * pass 2^53, so they are never formed as one double).
   *
   * @param field The field number.
   * @param ms Whole milliseconds since the epoch, from 0 to about the year 2500.
   */
  nanos(field: number, ms: number): void {
    this.tag(field, BIT64);
    // ms = msHi·2^32 + msLo; ns = msHi·1e6·2^32 + msLo·1e6, and msLo·1e6 < 2^53 is exact.
    const msHi = Math.floor(ms / TWO_32);
    const low = (ms - msHi * TWO_32) * 1_000_000;
    const lowHi = Math.floor(low / TWO_32);
    this.#view.setUint32(this.#at, low - lowHi * TWO_32, true);
    this.#view.setUint32(this.#at + 4, msHi * 1_000_000 + lowHi, true);
    this.#at += 8;
  }

  /**
   * The bytes written.
   *
   * @returns The buffer.
   * @throws {Error} When fewer or more bytes were written than the size given to the constructor.
   */
  finish(): Uint8Array {
    if (this.#at !== this.#bytes.length) {
      throw new Error(
        `Cannot finish a protobuf buffer: ${this.#at} bytes written, ${this.#bytes.length} planned`,
      );
    }
    return this.#bytes;
  }
}

/**
 * Nanoseconds since the epoch as a decimal string (OTLP/JSON writes 64-bit integers as strings).
 *
 * @param ms Whole milliseconds since the epoch.
 * @returns E.g. `"1700000000000000000"`.
 */
export function nanosText(ms: number): string {
  return ms === 0 ? "0" : `${ms}000000`;
}
