/**
 * The InfluxDB line protocol encoder: from a flush to request bodies of lines, each within the configured
 * line and byte limits, gzipped when asked. Pure apart from a bounded cache.
 *
 * | tally metric | measurement, tags | fields (all floats) |
 * |---|---|---|
 * | counter, cumulative, signed cumulative | name; labels, `metric_type` = `counter`, `cumulative`, `signed_cumulative` | `value`: delta: the window's change; cumulative: the running total (a source's own total) |
 * | gauge | name; labels, `metric_type=gauge` | `value` |
 * | set | name; labels, `metric_type=set` | `value`: the window's distinct count |
 * | timer, histogram, distribution | name; labels, `metric_type` = `timing`, `histogram`, `distribution` | `count`, `sum` (per the temporality), `mean`, `lower` (min), `upper` (max), `<p>_percentile` per configured percentile (the window's) |
 * | event | `events_measurement`; labels | `title`, `text`, `kind` (strings), `status` (service checks, collectd notifications), `end_ms`, `duration_ms` (events with an end) |
 *
 * These are Telegraf's statsd names (`value`; `mean`, `upper`, `lower`, `count`, `sum`, `90_percentile`;
 * the `metric_type` tag), which is what users of InfluxDB already query. Every metric point is stamped with
 * its window's start, as the local store keeps it; an event with its start.
 *
 * Speed: each series' measurement and tags are escaped once and cached as the text up to the fields
 * (bounded by {@link PREFIX_CACHE_BYTES}, emptied before a flush when full); a flush then costs a lookup,
 * its fields and its timestamp per line, and one UTF-8 encoding per request.
 *
 * @module
 */

import { gzipSync } from "node:zlib";
import type { Metric, Point } from "../../model/metric.ts";
import type { SampleKind, TallyEvent } from "../../model/sample.ts";
import type { OutboxInput } from "../../store/outbox.ts";
import type { EncodedFlush, Encoder } from "../_forwarder.ts";
import { SeriesCache } from "../_series_cache.ts";
import type { OutputFlush } from "../output.ts";
import {
  escapeKey,
  escapeMeasurement,
  formatFloat,
  quoteString,
  trimTrailingBackslashes,
} from "./line_protocol.ts";

/** The timestamps' unit. */
export type Precision = "ns" | "us" | "ms" | "s";

/** The most bytes of series prefixes cached before the cache is emptied. */
export const PREFIX_CACHE_BYTES = 64 * 1024 * 1024;

/** What a cache entry costs besides its text: the objects and map entries, roughly. */
const ENTRY_OVERHEAD_BYTES = 96;

/** The gzip level: 1 shrinks line protocol about 8×, at several times the speed of 6 (see the README). */
const GZIP_LEVEL = 1;

/** The `metric_type` tag of each kind: Telegraf's statsd words, tally's own for the collectd totals. */
export const METRIC_TYPES: Readonly<Record<SampleKind, string>> = {
  counter: "counter",
  gauge: "gauge",
  set: "set",
  timer: "timing",
  histogram: "histogram",
  distribution: "distribution",
  cumulative: "cumulative",
  signed_cumulative: "signed_cumulative",
};

/** Options of {@link createInfluxEncoder}. */
export interface InfluxEncoderOptions {
  /**
   * The write API: with `v1` a backslash that ends a measurement, tag key or tag value is dropped, since
   * InfluxDB 1.x cannot parse one there (`line_protocol.ts`); `v2` doubles it. `v2` by default.
   */
  readonly api?: "v1" | "v2";
  /** The timestamps' unit. */
  readonly precision: Precision;
  /** Counters' value and summaries' count and sum: each window's, or running totals. */
  readonly temporality: "delta" | "cumulative";
  /** Whether bodies are gzipped. */
  readonly compression: "gzip" | "none";
  /** The measurement of events; `""` sends none. */
  readonly eventsMeasurement: string;
  /** The most lines per request. */
  readonly maxBatchLines: number;
  /** The most bytes per request before compression. */
  readonly maxBatchBytes: number;
  /** The clock stamped on events without a time, in ms since the epoch; `Date.now` by default. */
  readonly now?: () => number;
  /** The cache bound in bytes; {@link PREFIX_CACHE_BYTES} by default. */
  readonly cacheBytes?: number;
}

/** One cached series: its line up to the fields, and that text's UTF-8 length. */
interface _Prefix {
  readonly text: string;
  readonly bytes: number;
}

/**
 * The outbox format of influx bodies: what a stored body means depends on the precision of its timestamps
 * and on the compression.
 *
 * @param precision The timestamps' unit.
 * @param compression The compression.
 * @returns E.g. `influx_line;precision=ms;gzip`.
 */
export function influxFormat(precision: Precision, compression: "gzip" | "none"): string {
  return `influx_line;precision=${precision};${compression}`;
}

/**
 * Creates the line protocol encoder for one output.
 *
 * @param options Precision, temporality, compression, events and batch limits.
 * @returns The encoder: format, headers and `encode`.
 * @example
 * ```ts
 * const encoder = createInfluxEncoder({ precision: "ms", temporality: "delta", compression: "gzip",
 *   eventsMeasurement: "events", maxBatchLines: 5000, maxBatchBytes: 4 << 20 });
 * const { batches } = encoder.encode(flush); // gzipped "api.requests,env=prod,metric_type=counter value=3 1700000000000\n…"
 * ```
 */
export function createInfluxEncoder(options: InfluxEncoderOptions): Encoder {
  const { precision, temporality, compression, maxBatchLines, maxBatchBytes } = options;
  const cumulative = temporality === "cumulative";
  const now = options.now ?? Date.now;
  const cacheLimit = options.cacheBytes ?? PREFIX_CACHE_BYTES;
  const prefixes = new SeriesCache<_Prefix>();
  const utf8 = new TextEncoder();
  const trim = options.api === "v1" ? trimTrailingBackslashes : (text: string) => text;
  const eventsMeasurement = escapeMeasurement(trim(options.eventsMeasurement));
  let cachedBytes = 0;
  /** The percentile field keys by quantile (`0.9` → `90_percentile`). */
  const percentileKeys = new Map<number, string>();
  let stampMs = NaN;
  let stampText = "";

  function prefix(metric: Metric): _Prefix {
    const found = prefixes.get(metric);
    if (found !== undefined) return found;
    const tags = tagText(metric.labels, METRIC_TYPES[metric.kind], trim);
    const text = `${escapeMeasurement(trim(metric.name))}${tags} `;
    const entry = { text, bytes: utf8.encode(text).length };
    prefixes.set(metric, entry);
    cachedBytes += text.length * 2 + metric.key.length * 2 + ENTRY_OVERHEAD_BYTES;
    return entry;
  }

  function timestamp(timeMs: number): string {
    if (timeMs !== stampMs) {
      stampMs = timeMs;
      stampText = timestampText(timeMs, precision);
    }
    return stampText;
  }

  function percentileKey(q: number): string {
    let key = percentileKeys.get(q);
    if (key === undefined) {
      // Telegraf writes the percentile as Go's %v does: 90, 99.9.
      key = `${Math.round(q * 1e6) / 1e4}_percentile`;
      percentileKeys.set(q, key);
    }
    return key;
  }

  function fields(point: Point): string {
    switch (point.kind) {
      case "counter":
        return field("value", cumulative ? point.total : point.delta);
      case "gauge":
        return field("value", point.value);
      case "set":
        return field("value", point.count);
      case "summary": {
        let out = field("count", cumulative ? point.totalCount : point.count) +
          field("sum", cumulative ? point.totalSum : point.sum) +
          field("mean", point.mean) + field("lower", point.min) + field("upper", point.max);
        for (const quantile of point.quantiles) out += field(percentileKey(quantile.q), quantile.value);
        return out;
      }
    }
  }

  return {
    format: influxFormat(precision, compression),
    headers: {
      "content-type": "text/plain; charset=utf-8",
      ...(compression === "gzip" ? { "content-encoding": "gzip" } : {}),
    },
    refused: partialWriteDropped,
    encode(flush: OutputFlush): EncodedFlush {
      if (cachedBytes > cacheLimit) {
        prefixes.clear();
        cachedBytes = 0;
      }
      const batches: OutboxInput[] = [];
      let text = "";
      let lines = 0;
      let bytes = 0;
      let notFinite = 0;
      const add = (line: string, lineBytes: number): void => {
        if (lines > 0 && (lines >= maxBatchLines || bytes + lineBytes > maxBatchBytes)) {
          batches.push(body(text, lines));
          text = "";
          lines = 0;
          bytes = 0;
        }
        text += line;
        lines++;
        bytes += lineBytes;
      };
      for (const metric of flush.metrics) {
        const values = fields(metric.point);
        if (values === "") {
          notFinite++;
          continue;
        }
        const head = prefix(metric);
        // The fields end with a comma; the timestamp and newline are ASCII, like the fields.
        const tail = `${values.slice(0, -1)} ${timestamp(Math.round(metric.timeMs))}\n`;
        add(head.text + tail, head.bytes + tail.length);
      }
      if (eventsMeasurement !== "") {
        const nowMs = now();
        for (const event of flush.events) {
          const line = eventLine(eventsMeasurement, event, nowMs, { precision, trim });
          add(line, utf8.encode(line).length);
        }
      }
      if (lines > 0) batches.push(body(text, lines));
      return { batches, dropped: { not_finite: notFinite } };
    },
  };

  function body(text: string, lines: number): OutboxInput {
    const bytes = utf8.encode(text);
    return { body: compression === "gzip" ? gzipSync(bytes, { level: GZIP_LEVEL }) : bytes, events: lines };
  }
}

/**
 * How many lines an InfluxDB partial write dropped: 1.x answers 400 (and 2.x 422) with an error that ends in
 * `dropped=N` when it stored the other lines of the batch (a field type conflict, a point outside the
 * retention policy).
 *
 * @param _status The HTTP status (the message alone tells).
 * @param message The first line of the response body.
 * @returns The lines dropped, or `undefined` when the answer is not a partial write.
 */
export function partialWriteDropped(_status: number, message: string): number | undefined {
  const match = /partial write\b.*\bdropped=(\d+)/.exec(message);
  return match === null ? undefined : Number(match[1]);
}

/** `key=value,` for a finite value, `""` otherwise (line protocol has no NaN or infinity). */
function field(key: string, value: number): string {
  return Number.isFinite(value) ? `${key}=${formatFloat(value)},` : "";
}

/**
 * The tags of a series: its labels and `metric_type` (unless a label has that name), sorted by key, as
 * InfluxDB prefers; labels with an empty name or value are left out (line protocol has no empty tag).
 */
function tagText(
  labels: Metric["labels"],
  metricType: string | undefined,
  trim: (text: string) => string,
): string {
  let out = "";
  let typed = metricType === undefined || labels.some(([name]) => name === "metric_type");
  for (const [name, value] of labels) {
    if (!typed && name > "metric_type") {
      out += `,metric_type=${metricType}`;
      typed = true;
    }
    if (name !== "" && value !== "") out += `,${escapeKey(trim(name))}=${escapeKey(trim(value))}`;
  }
  if (!typed) out += `,metric_type=${metricType}`;
  return out;
}

/** One event's line: tags from its labels, strings and numbers as fields, its start as the time. */
function eventLine(
  measurement: string,
  event: TallyEvent,
  nowMs: number,
  how: { readonly precision: Precision; readonly trim: (text: string) => string },
): string {
  const { precision, trim } = how;
  const startMs = Math.round(event.timeMs === 0 ? nowMs : event.timeMs);
  let fields = `title=${quoteString(event.title)},text=${quoteString(event.text)},kind=${
    quoteString(event.kind)
  }`;
  if (event.status >= 0) fields += `,status=${event.status}`;
  if (event.endMs !== undefined) {
    const endMs = Math.round(event.endMs);
    fields += `,end_ms=${endMs},duration_ms=${Math.max(0, endMs - startMs)}`;
  }
  return `${measurement}${tagText(event.labels, undefined, trim)} ${fields} ${
    timestampText(startMs, precision)
  }\n`;
}

/**
 * A time in ms as a line protocol timestamp in the given unit (exact: ms are whole numbers, and the digits
 * are appended rather than multiplied past 2^53).
 *
 * @param timeMs Whole milliseconds since the epoch.
 * @param precision The unit.
 * @returns The timestamp's text.
 */
export function timestampText(timeMs: number, precision: Precision): string {
  switch (precision) {
    case "ns":
      return timeMs === 0 ? "0" : `${timeMs}000000`;
    case "us":
      return timeMs === 0 ? "0" : `${timeMs}000`;
    case "ms":
      return String(timeMs);
    case "s":
      return String(Math.floor(timeMs / 1000));
  }
}
