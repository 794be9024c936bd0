/**
 * Events as OTLP log records (`/v1/logs`), in both encodings:
 *
 * | LogRecord field | from the tally event |
 * |---|---|
 * | `time_unix_nano` | its start (an event without a time of its own: when the flush was encoded) |
 * | `observed_time_unix_nano` | when the flush was encoded |
 * | `event_name` | `tally.event`, or `tally.service_check` for service checks (Nagios, DogStatsD `_sc`) |
 * | `severity_number` | its status when it has one (0 OK → INFO 9, 1 WARNING → WARN 13, 2 CRITICAL → ERROR 17, 3 UNKNOWN → UNSPECIFIED 0); otherwise its DogStatsD `alert_type` (error 17, warning 13, info and success 9); otherwise INFO 9 |
 * | `severity_text` | the source's word: its `alert_type` or `severity` label (collectd), else the status's name (`OK`, `WARNING`, `CRITICAL`, `UNKNOWN`); absent when none |
 * | `body` | its text, or its title when the text is empty (a string) |
 * | `attributes` | its labels (strings), `tally.event.title`, and for an event with an end `tally.event.end_time_unix_nano` and `tally.event.duration_ms` (integers) |
 *
 * ```proto
 * message ExportLogsServiceRequest { repeated ResourceLogs resource_logs = 1; }
 * message ResourceLogs { Resource resource = 1; repeated ScopeLogs scope_logs = 2; }
 * message ScopeLogs    { InstrumentationScope scope = 1; repeated LogRecord log_records = 2; }
 * message LogRecord    { fixed64 time_unix_nano = 1; fixed64 observed_time_unix_nano = 11; SeverityNumber severity_number = 2;
 *                        string severity_text = 3; AnyValue body = 5; repeated KeyValue attributes = 6; string event_name = 12; }
 * ```
 *
 * Events are few (a worker keeps at most a bounded number per window), so records are built as objects and
 * encoded with `BinaryWriter` or `JSON.stringify`, without the metrics encoder's caching.
 *
 * @module
 */

import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import type { Labels, TallyEvent } from "../../model/sample.ts";
import type { EncodedBody } from "./protobuf_metrics.ts";
import { fieldSize, nanosText } from "./_proto_buffer.ts";
import { jsonAttributes, type JsonKeyValue, resourceField, SCOPE_NAME, scopeField } from "./resource.ts";

/** One attribute of a log record: a string, or an integer (as a bigint: nanoseconds pass 2^53). */
export type LogAttribute = readonly [key: string, value: string | bigint];

/** A log record, independent of the encoding. */
export interface LogRecord {
  /** The event's start, in ms since the epoch. */
  readonly timeMs: number;
  /** When tally encoded it, in ms since the epoch. */
  readonly observedMs: number;
  /** `tally.event` or `tally.service_check`. */
  readonly eventName: string;
  /** OTLP's SeverityNumber. */
  readonly severityNumber: number;
  /** The source's word for the severity, or `""`. */
  readonly severityText: string;
  /** The body string. */
  readonly body: string;
  /** The attributes. */
  readonly attributes: readonly LogAttribute[];
}

/** SeverityNumber by service-check status (OK, WARNING, CRITICAL, UNKNOWN). */
const STATUS_SEVERITY: readonly number[] = [9, 13, 17, 0];
const STATUS_TEXT: readonly string[] = ["OK", "WARNING", "CRITICAL", "UNKNOWN"];
/** SeverityNumber by DogStatsD `alert_type`. */
const ALERT_SEVERITY: Readonly<Record<string, number>> = { error: 17, warning: 13, info: 9, success: 9 };
const INFO = 9;

/**
 * The log record of an event.
 *
 * @param event The event.
 * @param nowMs When the flush is encoded, in ms since the epoch: the observed time, and the time of an
 *   event that has none.
 * @returns The record.
 */
export function logRecordOf(event: TallyEvent, nowMs: number): LogRecord {
  const label = (name: string) => event.labels.find(([n]) => n === name)?.[1];
  const alert = label("alert_type");
  const timeMs = Math.round(event.timeMs === 0 ? nowMs : event.timeMs);
  const status = event.status;
  const severityNumber = status >= 0
    ? STATUS_SEVERITY[status] ?? 0
    : alert === undefined
    ? INFO
    : ALERT_SEVERITY[alert] ?? INFO;
  const attributes: LogAttribute[] = [...event.labels];
  if (event.title !== "") attributes.push(["tally.event.title", event.title]);
  if (event.endMs !== undefined) {
    const endMs = Math.round(event.endMs);
    attributes.push(
      ["tally.event.end_time_unix_nano", BigInt(endMs) * 1_000_000n],
      ["tally.event.duration_ms", BigInt(Math.max(0, endMs - timeMs))],
    );
  }
  return {
    timeMs,
    observedMs: Math.round(nowMs),
    eventName: event.kind === "service_check" ? "tally.service_check" : "tally.event",
    severityNumber,
    severityText: alert ?? label("severity") ?? STATUS_TEXT[status] ?? "",
    body: event.text !== "" ? event.text : event.title,
    attributes,
  };
}

/** Options of the log encoders. */
export interface LogsOptions {
  /** The resource's attributes. */
  readonly resource: Labels;
  /** The scope's version: tally's version. */
  readonly version: string;
  /** The most records per request. */
  readonly maxBatchPoints: number;
  /** The most bytes per request before compression. */
  readonly maxBatchBytes: number;
}

/**
 * Encodes log records as `ExportLogsServiceRequest` protobuf bodies within the batch limits.
 *
 * @param records The records, in order.
 * @param options The resource, scope version and batch limits.
 * @returns The bodies, uncompressed.
 */
export function protobufLogs(records: readonly LogRecord[], options: LogsOptions): EncodedBody[] {
  const head = resourceField(options.resource);
  const scope = scopeField(options.version);
  const out: EncodedBody[] = [];
  let batch: Uint8Array[] = [];
  let bytes = head.length + scope.length + 12;
  const flush = (): void => {
    const writer = new BinaryWriter().tag(1, WireType.LengthDelimited).fork().raw(head);
    writer.tag(2, WireType.LengthDelimited).fork().raw(scope);
    for (const record of batch) writer.tag(2, WireType.LengthDelimited).bytes(record);
    out.push({ body: writer.join().join().finish(), events: batch.length });
    batch = [];
    bytes = head.length + scope.length + 12;
  };
  for (const record of records) {
    const encoded = encodeRecord(record);
    const size = fieldSize(encoded.length);
    if (
      batch.length > 0 && (batch.length >= options.maxBatchPoints || bytes + size > options.maxBatchBytes)
    ) {
      flush();
    }
    batch.push(encoded);
    bytes += size;
  }
  if (batch.length > 0) flush();
  return out;
}

/**
 * Encodes log records as OTLP/JSON `ExportLogsServiceRequest` bodies within the batch limits.
 *
 * @param records The records, in order.
 * @param options The resource, scope version and batch limits.
 * @returns The bodies (UTF-8 JSON).
 */
export function jsonLogs(records: readonly LogRecord[], options: LogsOptions): EncodedBody[] {
  const resource = { attributes: jsonAttributes(options.resource) };
  const scope = { name: SCOPE_NAME, version: options.version };
  const out: EncodedBody[] = [];
  const utf8 = new TextEncoder();
  const encode = (part: readonly LogRecord[]): void => {
    const body = utf8.encode(JSON.stringify({
      resourceLogs: [{ resource, scopeLogs: [{ scope, logRecords: part.map(jsonRecord) }] }],
    }));
    if (body.length > options.maxBatchBytes && part.length > 1) {
      const half = Math.ceil(part.length / 2);
      encode(part.slice(0, half));
      encode(part.slice(half));
      return;
    }
    out.push({ body, events: part.length });
  };
  for (let from = 0; from < records.length; from += options.maxBatchPoints) {
    encode(records.slice(from, from + options.maxBatchPoints));
  }
  return out;
}

function encodeRecord(record: LogRecord): Uint8Array {
  const writer = new BinaryWriter();
  writer.tag(1, WireType.Bit64).fixed64(BigInt(record.timeMs) * 1_000_000n);
  writer.tag(2, WireType.Varint).int32(record.severityNumber);
  if (record.severityText !== "") writer.tag(3, WireType.LengthDelimited).string(record.severityText);
  writer.tag(5, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(record.body).join();
  for (const [key, value] of record.attributes) {
    writer.tag(6, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(key);
    writer.tag(2, WireType.LengthDelimited).fork();
    if (typeof value === "string") writer.tag(1, WireType.LengthDelimited).string(value);
    else writer.tag(3, WireType.Varint).int64(value);
    writer.join().join();
  }
  writer.tag(11, WireType.Bit64).fixed64(BigInt(record.observedMs) * 1_000_000n);
  writer.tag(12, WireType.LengthDelimited).string(record.eventName);
  return writer.finish();
}

function jsonRecord(record: LogRecord): Record<string, unknown> {
  const attributes: JsonKeyValue[] = record.attributes.map(([key, value]) => ({
    key,
    value: typeof value === "string" ? { stringValue: value } : { intValue: value.toString() },
  }));
  return {
    timeUnixNano: nanosText(record.timeMs),
    observedTimeUnixNano: nanosText(record.observedMs),
    severityNumber: record.severityNumber,
    ...(record.severityText !== "" ? { severityText: record.severityText } : {}),
    body: { stringValue: record.body },
    attributes,
    eventName: record.eventName,
  };
}
