/**
 * Test and benchmark support: writes collectd binary-protocol parts byte by byte, independently of the
 * parser, from plain data. Every layout is spelled out here (big-endian headers and integers,
 * little-endian gauges), so a test built with it also pins the wire format.
 *
 * @module
 */

/** One part to write. */
export type CollectdPart =
  /** A string part (host 0x0000, plugin 0x0002, …, message 0x0100): bytes of `text` then NUL. */
  | { readonly kind: "string"; readonly type: number; readonly text: string }
  /** A number part (time 0x0001, time_hr 0x0008, interval 0x0007/0x0009, severity 0x0101): u64 BE. */
  | { readonly kind: "number"; readonly type: number; readonly value: bigint }
  /** A values part (0x0006): each value with its type code (0 counter, 1 gauge, 2 derive, 3 absolute). */
  | { readonly kind: "values"; readonly values: readonly CollectdValue[] }
  /** Raw bytes, copied as they are (bad parts, signature/encryption parts). */
  | { readonly kind: "raw"; readonly bytes: Uint8Array };

/** One value of a values part. */
export interface CollectdValue {
  /** The type code: 0 counter, 1 gauge, 2 derive, 3 absolute (anything else for bad-code tests). */
  readonly code: number;
  /** The value: a number for gauges, a bigint for the 64-bit integer types. */
  readonly value: number | bigint;
}

const encoder = new TextEncoder();

/**
 * Writes parts into one packet.
 *
 * @param parts The parts, in order.
 * @returns The packet bytes.
 * @throws {RangeError} When a part is longer than 65535 bytes or a value does not fit its type.
 * @example
 * ```ts
 * const packet = encodeCollectdParts([
 *   { kind: "string", type: 0x0000, text: "host" },
 *   { kind: "values", values: [{ code: 1, value: 3.25 }] },
 * ]);
 * ```
 */
export function encodeCollectdParts(parts: readonly CollectdPart[]): Uint8Array {
  const chunks = parts.map(encodePart);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const chunk of chunks) {
    out.set(chunk, o);
    o += chunk.length;
  }
  return out;
}

function encodePart(part: CollectdPart): Uint8Array {
  switch (part.kind) {
    case "string": {
      const text = encoder.encode(part.text);
      const out = header(part.type, 4 + text.length + 1);
      out.set(text, 4);
      return out;
    }
    case "number": {
      const out = header(part.type, 12);
      new DataView(out.buffer).setBigUint64(4, part.value);
      return out;
    }
    case "values": {
      const n = part.values.length;
      const out = header(0x0006, 6 + 9 * n);
      const view = new DataView(out.buffer);
      view.setUint16(4, n);
      for (let i = 0; i < n; i++) {
        const { code, value } = part.values[i]!;
        out[6 + i] = code;
        const o = 6 + n + 8 * i;
        if (code === 1) view.setFloat64(o, Number(value), true);
        else if (code === 2) view.setBigInt64(o, BigInt(value));
        else view.setBigUint64(o, BigInt(value));
      }
      return out;
    }
    case "raw":
      return part.bytes.slice();
  }
}

function header(type: number, length: number): Uint8Array {
  if (length > 0xffff) throw new RangeError(`Cannot write collectd part: length ${length} exceeds 65535`);
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  view.setUint16(0, type);
  view.setUint16(2, length);
  return out;
}
