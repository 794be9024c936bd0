/**
 * Test support: decodes what a remote-write sender posts (Snappy block, then a `WriteRequest`) with
 * `snappyjs`' decompressor and `@bufbuild/protobuf`'s reader, independently of tally's encoder.
 *
 * @module
 */
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import snappyjs from "snappyjs";

/** snappyjs ships no types: the one function used here. */
const SNAPPY = snappyjs as { uncompress(input: Uint8Array, maxLength?: number): Uint8Array };

/**
 * Decompresses one Snappy block with snappyjs, the reference decoder of the tests and benchmark.
 *
 * @param input The compressed block.
 * @returns The bytes.
 * @throws {Error} When the block is not valid Snappy.
 */
export function snappyUncompress(input: Uint8Array): Uint8Array {
  return SNAPPY.uncompress(input, 256 * 1024 * 1024);
}

/** One decoded `TimeSeries`. */
export interface DecodedSeries {
  /** The labels in wire order. */
  readonly labels: Array<readonly [string, string]>;
  /** The samples. */
  readonly samples: Array<{ readonly value: number; readonly timestampMs: number }>;
}

/**
 * Decodes a remote-write request body.
 *
 * @param body The Snappy-compressed `WriteRequest`.
 * @returns Its series in wire order.
 * @throws {Error} On bytes that are not a valid request, or a field the 1.0 spec does not have.
 */
export function decodeWriteRequest(body: Uint8Array): DecodedSeries[] {
  const reader = new BinaryReader(snappyUncompress(body));
  const out: DecodedSeries[] = [];
  while (reader.pos < reader.len) {
    const [field, wire] = reader.tag();
    if (field !== 1 || wire !== WireType.LengthDelimited) {
      throw new Error(`Unexpected WriteRequest field ${field}`);
    }
    out.push(decodeSeries(reader.bytes()));
  }
  return out;
}

function decodeSeries(bytes: Uint8Array): DecodedSeries {
  const reader = new BinaryReader(bytes);
  const series: DecodedSeries = { labels: [], samples: [] };
  while (reader.pos < reader.len) {
    const [field] = reader.tag();
    const inner = new BinaryReader(reader.bytes());
    if (field === 1) {
      let name = "";
      let value = "";
      while (inner.pos < inner.len) {
        const [f] = inner.tag();
        if (f === 1) name = inner.string();
        else if (f === 2) value = inner.string();
        else throw new Error(`Unexpected Label field ${f}`);
      }
      series.labels.push([name, value]);
    } else if (field === 2) {
      let value = 0;
      let timestampMs = 0;
      while (inner.pos < inner.len) {
        const [f] = inner.tag();
        if (f === 1) value = inner.double();
        else if (f === 2) timestampMs = Number(inner.int64());
        else throw new Error(`Unexpected Sample field ${f}`);
      }
      series.samples.push({ value, timestampMs });
    } else {
      throw new Error(`Unexpected TimeSeries field ${field}`);
    }
  }
  return series;
}
