/**
 * The remote-write encoder: from a flush to snappy-compressed `WriteRequest` bodies, each within the
 * configured sample and byte limits. Pure apart from a bounded cache.
 *
 * Wire format (Prometheus remote-write 1.0, `prometheus/prompb/remote.proto` and `types.proto`):
 *
 * ```proto
 * message WriteRequest { repeated TimeSeries timeseries = 1; }
 * message TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 * message Label        { string name = 1; string value = 2; }
 * message Sample       { double value = 1; int64 timestamp = 2; } // ms since the epoch
 * ```
 *
 * Every sample goes out as its own `TimeSeries` with the complete label set (`__name__` included), sorted
 * by name as the spec requires, stamped with its window's start (the same time the local store keeps).
 * What a metric becomes is `prometheus_samples.ts`; external labels are added unless the series has a
 * label of that name. Two series that sanitise to the same Prometheus series (`a.b` and `a_b`, or a gauge
 * named like a summary's `_sum`) would make the receiver reject the request as duplicate samples, so only
 * the first one seen keeps the name; the others are left out and counted as `name_conflict`.
 *
 * Speed: everything of a sample but its value and timestamp (the series' tag and length, its labels, the
 * sample's tag and length) is encoded once per series with `@bufbuild/protobuf`'s `BinaryWriter` and cached
 * as bytes (bounded by {@link LABEL_CACHE_BYTES}, emptied when full). A flush then costs one cache lookup
 * per series and, per sample, two copies and a double into one reused batch buffer (fixed-width fields: no
 * varint is written in the loop), then one Snappy pass per batch. The benchmark showed `BinaryWriter`'s
 * growing buffer and final copy to cost a third of the encode time in that loop.
 *
 * @module
 */

import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { Metric } from "../../model/metric.ts";
import type { OutboxInput } from "../../store/outbox.ts";
import type { EncodedFlush, Encoder } from "../_forwarder.ts";
import { SeriesCache } from "../_series_cache.ts";
import type { OutputFlush } from "../output.ts";
import { sampleShapes, sampleValues } from "./prometheus_samples.ts";
import { snappyCompress } from "./snappy.ts";

/** The outbox format of remote-write bodies. */
export const REMOTE_WRITE_FORMAT = "prometheus_remote_write/1.0;snappy";

/** The headers remote-write 1.0 asks for (the sender adds `User-Agent`). */
export const REMOTE_WRITE_HEADERS: Readonly<Record<string, string>> = {
  "content-encoding": "snappy",
  "content-type": "application/x-protobuf",
  "x-prometheus-remote-write-version": "0.1.0",
};

/**
 * The most bytes the label cache holds before it is emptied (about 300 bytes per Prometheus series: its
 * encoded head, its identity and the map entries), enough for the default 100 000 series of mixed kinds.
 */
export const LABEL_CACHE_BYTES = 64 * 1024 * 1024;

/** What a cache entry costs besides its bytes: the objects and map entries, roughly. */
const ENTRY_OVERHEAD_BYTES = 96;

/**
 * The length of a `Sample` message whose timestamp varint takes 6 bytes (every ms timestamp from 1971 to
 * 2109): value tag and double (9) plus timestamp tag and varint (7). Other timestamps get heads of their own.
 */
const USUAL_SAMPLE_LENGTH = 16;

/** Options of {@link createRemoteWriteEncoder}. */
export interface RemoteWriteEncoderOptions {
  /** Labels added to every series that lacks them. */
  readonly externalLabels: Readonly<Record<string, string>>;
  /** The most samples per request. */
  readonly maxBatchSamples: number;
  /** The most protobuf bytes per request before compression. */
  readonly maxBatchBytes: number;
  /** The cache bound in bytes; {@link LABEL_CACHE_BYTES} by default. */
  readonly cacheBytes?: number;
}

/**
 * What each sample a metric becomes starts with, encoded once: the `TimeSeries` tag and length, its labels,
 * the `samples` tag and length and the value's tag, for a `Sample` of {@link USUAL_SAMPLE_LENGTH} bytes;
 * the double and the timestamp follow. `null` where the name belongs to another series.
 */
interface _Cached {
  readonly heads: ReadonlyArray<Uint8Array | null>;
}

/**
 * Creates the remote-write encoder for one output.
 *
 * @param options External labels and batch limits.
 * @returns The encoder: format, headers and `encode`.
 * @example
 * ```ts
 * const encoder = createRemoteWriteEncoder({ externalLabels: { site: "edge-7" }, maxBatchSamples: 10_000,
 *   maxBatchBytes: 4 << 20 });
 * const { batches } = encoder.encode(flush); // snappy-compressed WriteRequests
 * ```
 */
export function createRemoteWriteEncoder(options: RemoteWriteEncoderOptions): Encoder {
  const external = Object.entries(options.externalLabels).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const cacheLimit = options.cacheBytes ?? LABEL_CACHE_BYTES;
  const seriesCache = new SeriesCache<_Cached>();
  /** Prometheus series identity → the tally series (kind + key) that owns it. */
  const claims = new Map<string, string>();
  const values: number[] = [];
  let cachedBytes = 0;
  let stampMs = NaN;
  let stamp = new Uint8Array(0);
  // One batch buffer, reused: a batch is at most maxBatchBytes (plus one sample), and snappy reads it in
  // place, so the hot loop neither grows nor copies a writer.
  let buffer = new Uint8Array(Math.min(options.maxBatchBytes, 1 << 20));
  let view = new DataView(buffer.buffer);

  function grow(needed: number): void {
    const next = new Uint8Array(Math.max(needed, buffer.length * 2));
    next.set(buffer);
    buffer = next;
    view = new DataView(buffer.buffer);
  }

  function lookup(metric: Metric): _Cached {
    const found = seriesCache.get(metric);
    const wanted = metric.point.kind === "summary" ? metric.point.quantiles.length + 2 : 1;
    if (found !== undefined && found.heads.length === wanted) return found;
    if (cachedBytes > cacheLimit) {
      seriesCache.clear();
      claims.clear();
      cachedBytes = 0;
    }
    const owner = `${metric.kind}\x03${metric.key}`;
    const heads = sampleShapes(metric).map((shape) => {
      const labels = [["__name__", shape.name] as const, ...shape.labels];
      for (const pair of external) {
        if (!shape.labels.some(([name]) => name === pair[0])) labels.push(pair);
      }
      labels.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      const identity = labels.map(([name, value]) => `${name}\x01${value}`).join("\x00");
      const claimed = claims.get(identity);
      if (claimed !== undefined && claimed !== owner) return null;
      claims.set(identity, owner);
      const head = seriesHead(encodeLabels(labels), USUAL_SAMPLE_LENGTH);
      cachedBytes += head.length + identity.length + ENTRY_OVERHEAD_BYTES;
      return head;
    });
    const cached = { heads };
    seriesCache.set(metric, cached);
    return cached;
  }

  /** The encoded `timestamp` field of a Sample (tag and varint), cached for the last time seen. */
  function timestampBytes(timeMs: number): Uint8Array {
    if (timeMs !== stampMs) {
      stamp = new BinaryWriter().tag(2, WireType.Varint).int64(timeMs).finish();
      stampMs = timeMs;
    }
    return stamp;
  }

  return {
    format: REMOTE_WRITE_FORMAT,
    headers: REMOTE_WRITE_HEADERS,
    encode(flush: OutputFlush): EncodedFlush {
      const batches: OutboxInput[] = [];
      let at = 0;
      let samples = 0;
      let conflicts = 0;
      for (const metric of flush.metrics) {
        const cached = lookup(metric);
        sampleValues(metric, values);
        const ts = timestampBytes(metric.timeMs);
        const usual = 9 + ts.length === USUAL_SAMPLE_LENGTH;
        for (let i = 0; i < values.length; i++) {
          const cachedHead = cached.heads[i];
          if (cachedHead === null || cachedHead === undefined) {
            conflicts++;
            continue;
          }
          // TimeSeries { labels…, samples: Sample { value, timestamp } }: the cached head, then the double
          // and the timestamp, copied into the batch buffer.
          const head = usual ? cachedHead : seriesHead(labelsOf(cachedHead), 9 + ts.length);
          const size = head.length + 8 + ts.length;
          if (samples > 0 && (samples >= options.maxBatchSamples || at + size > options.maxBatchBytes)) {
            batches.push({ body: snappyCompress(buffer.subarray(0, at)), events: samples });
            at = 0;
            samples = 0;
          }
          if (at + size > buffer.length) grow(at + size);
          buffer.set(head, at);
          at += head.length;
          view.setFloat64(at, values[i]!, true);
          buffer.set(ts, at + 8);
          at += 8 + ts.length;
          samples++;
        }
      }
      if (samples > 0) batches.push({ body: snappyCompress(buffer.subarray(0, at)), events: samples });
      return { batches, dropped: { name_conflict: conflicts } };
    },
  };
}

/**
 * The bytes of a `TimeSeries` field up to its sample's value: tag and length of the series, the labels,
 * tag and length of the `samples` field, and the value's tag.
 */
function seriesHead(labels: Uint8Array, sampleLength: number): Uint8Array {
  return new BinaryWriter()
    .tag(1, WireType.LengthDelimited)
    .uint32(labels.length + 1 + 1 + sampleLength)
    .raw(labels)
    .tag(2, WireType.LengthDelimited)
    .uint32(sampleLength)
    .tag(1, WireType.Bit64)
    .finish();
}

/** The labels inside a head made by {@link seriesHead} for a usual sample (its last 3 bytes are fixed). */
function labelsOf(head: Uint8Array): Uint8Array {
  let at = 1;
  while ((head[at]! & 0x80) !== 0) at++;
  return head.subarray(at + 1, head.length - 3);
}

/** Encodes sorted labels as the `labels` fields of a TimeSeries. */
function encodeLabels(labels: ReadonlyArray<readonly [string, string]>): Uint8Array {
  const writer = new BinaryWriter();
  for (const [name, value] of labels) {
    writer.tag(1, WireType.LengthDelimited).fork();
    writer.tag(1, WireType.LengthDelimited).string(name);
    writer.tag(2, WireType.LengthDelimited).string(value);
    writer.join();
  }
  return writer.finish();
}
