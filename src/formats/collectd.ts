/**
 * collectd's binary network protocol (version 5, the `network` plugin's wire format), plain parts only.
 *
 * Transport security is the input's job (wave-2 decision 3): the `collectd` input verifies signatures and
 * decrypts on the main thread, so this format sees the plain parts. A packet is a run of parts, each
 * `type u16 BE, length u16 BE (including this 4-byte header), payload`
 * (collectd `src/network.c`, https://github.com/collectd/collectd/wiki/Binary-protocol):
 *
 * | type   | part            | payload                                                                |
 * |--------|-----------------|------------------------------------------------------------------------|
 * | 0x0000 | host            | string: bytes then NUL (at most 128 bytes with the NUL)                |
 * | 0x0001 | time            | u64 BE, seconds since the epoch                                        |
 * | 0x0008 | time_hr         | u64 BE, 2^-30 s units since the epoch                                  |
 * | 0x0002 | plugin          | string                                                                 |
 * | 0x0003 | plugin_instance | string                                                                 |
 * | 0x0004 | type            | string (a types.db entry)                                              |
 * | 0x0005 | type_instance   | string                                                                 |
 * | 0x0006 | values          | u16 BE count n, n type codes (u8), n 8-byte values                     |
 * | 0x0007 | interval        | u64 BE seconds (read, not used)                                        |
 * | 0x0009 | interval_hr     | u64 BE 2^-30 s units (read, not used)                                  |
 * | 0x0100 | message         | string (at most 256 bytes with the NUL): dispatches a notification     |
 * | 0x0101 | severity        | u64 BE: 1 FAILURE, 2 WARNING, 4 OKAY                                   |
 * | 0x0200 | signature       | HMAC-SHA-256 + user: verified by the input, skipped here               |
 * | 0x0210 | encryption      | AES-256-OFB: the input decrypts; one reaching the format is counted bad |
 *
 * Value type codes: 0 COUNTER (u64 BE), 1 GAUGE (IEEE double, LITTLE-endian: collectd's one x86-ism),
 * 2 DERIVE (i64 BE), 3 ABSOLUTE (u64 BE). Unknown part types are skipped, as collectd does.
 *
 * Parts set state that carries over to the following parts of the same packet (never across packets): each
 * values part dispatches one value list with the host, plugin, instances, type and time set so far; each
 * message part dispatches one notification with the same plus the severity.
 *
 * What comes out:
 *
 * - A value list yields one sample per data source, named and labelled by `collectd_naming.ts`, the
 *   data-source names and count coming from types.db. The kind follows the value's type code on the wire
 *   (what the sender's types.db said and how the bits are encoded, as collectd_exporter does): COUNTER is a
 *   running total → `cumulative` (a fall is a restart or a wrap); DERIVE is a running total too, and its
 *   types.db minimum says whether it may fall: a minimum of 0 or more (every DERIVE of collectd's own
 *   types.db) → `cumulative`, a fall being a restart; a minimum below 0 or `U` → `signed_cumulative`, a
 *   fall being a real negative change (tally used to take it for a restart and over-count); ABSOLUTE is
 *   the amount since the last report → `counter` (collectd_exporter drops ABSOLUTE values; tally keeps
 *   them); GAUGE → `gauge`. Types.db `min`/`max` are not otherwise enforced (collectd's receiver does not
 *   either).
 * - A GAUGE of NaN is collectd's "unknown" (csv writes `nan`, rrdtool UNKNOWN): that data source yields no
 *   sample and nothing is counted, because it is not a malformed packet. (collectd_exporter would export
 *   the NaN; tally's aggregation has no use for one.) A GAUGE of ±Infinity makes the value list `bad_value`.
 * - The time is `time_hr` or `time` (whichever came last), floored to whole ms; 0 (absent) means arrival.
 * - A notification becomes an event: title and text are the message, `status` 2 for FAILURE, 1 for
 *   WARNING, 0 for OKAY (the service-check scale), and labels `instance` (host), `plugin`,
 *   `plugin_instance`, `type`, `type_instance` (each only when non-empty) and `severity`
 *   (`failure`/`warning`/`okay`). As in collectd, a notification with another severity or an empty
 *   message is rejected (`bad_event`); one without a time gets the arrival time (collectd drops it).
 *
 * Rejections (each counted once through `sink.bad`):
 *
 * - per value list: a type missing from types.db → `unknown_type`; a value count that differs from the
 *   type's data sources → `type_mismatch`; an empty plugin or type → `empty_name`; a value type code other than 0-3 or an
 *   infinite gauge → `bad_value`; a host/plugin/instance/type string holding 0x01/0x02 (series-key
 *   separators) → `bad_tags`, or invalid UTF-8 → `invalid_utf8` (for every value list and notification
 *   that uses it, and for a message of invalid UTF-8); a time past year 275760 → `bad_timestamp`. Later
 *   value lists are unaffected.
 * - per packet: a part whose length is < 4 or runs past the end, a string not ending in NUL, a number
 *   part not 12 bytes long, a values part whose length disagrees with its count, a trailing 1-3 bytes →
 *   `malformed_part`; a string longer than collectd allows → `too_long`. The rest of the packet is then dropped
 *   (its part boundaries cannot be trusted) and counted once; value lists already dispatched are kept.
 * - an encryption part that reaches the format → `bad_frame` (the input should have decrypted the frame;
 *   skipped by its length, parsing goes on).
 *
 * The returned count is records seen: value lists + notifications + encryption parts + one for a
 * malformed remainder (unless the malformed part is a values or message part, itself the record). Every
 * record yields its samples (possibly none, for all-NaN gauges), one event, or exactly one `bad`. Never
 * throws, never loops: every step advances by a length checked against the end.
 *
 * Hot path: no try/catch, no closures, one `DataView` per packet. A string part is checked and hashed
 * where it lies, not decoded: each distinct identifier's names, labels and keys are built once and memoised
 * by the identifier's raw bytes (`_collectd_identity.ts`: bounded, emptied when full), and every value is
 * written into one sample object (valid during `sink.sample` only, as `SampleSink` allows) whose `memo` is
 * the series' memoised identity, so a steady stream decodes no string and allocates next to nothing.
 * Notifications are built by `_collectd_notification.ts`. Samples of one value list share their `labels`
 * array (treat it as readonly).
 *
 * @module
 */

import type { BadReason, Format, Sample, SampleKind, SampleSink } from "../model/sample.ts";
import {
  type CollectdIdentities,
  createCollectdIdentities,
  resolveCollectdIdentity,
  resolveCollectdScope,
} from "./_collectd_identity.ts";
import {
  type CollectdPacketState,
  createPacketState,
  dispatchNotification,
  readIdentifierString,
  resetPacketState,
  scanString,
  TYPE_HOST,
  TYPE_PLUGIN,
  TYPE_PLUGIN_INSTANCE,
  TYPE_TYPE,
  TYPE_TYPE_INSTANCE,
} from "./_collectd_strings.ts";
import { decodeText, NO_LABELS } from "./_text.ts";
import { parseTypesDb } from "./types_db.ts";

/** Options of {@link createCollectdFormat}. */
export interface CollectdFormatOptions {
  /** The types.db text (see `defaultTypesDb`); unparsable lines are ignored (validate them up front). */
  readonly typesDb: string;
}

// Part types (collectd src/network.h).
const TYPE_TIME = 0x0001;
const TYPE_VALUES = 0x0006;
const TYPE_INTERVAL = 0x0007;
const TYPE_TIME_HR = 0x0008;
const TYPE_INTERVAL_HR = 0x0009;
const TYPE_MESSAGE = 0x0100;
const TYPE_SEVERITY = 0x0101;
const TYPE_SIGN_SHA256 = 0x0200;
const TYPE_ENCR_AES256 = 0x0210;

// Value type codes (collectd DS_TYPE_*); 0 is COUNTER.
const DS_GAUGE = 1;
const DS_DERIVE = 2;
const DS_ABSOLUTE = 3;

const HEADER_BYTES = 4;
const NUMBER_PART_BYTES = 12;
/** collectd's NOTIF_MAX_MSG_LEN: notification messages, NUL included. */
const MAX_MESSAGE_BYTES = 256;
/** Dates past this many ms are invalid in JavaScript (year 275760). */
const MAX_TIME_MS = 8.64e15;
/** 2^32, for assembling 64-bit integers from two 32-bit halves. */
const TWO_32 = 4294967296;
/** ms per 2^-30 s tick; `hi * 4000` is ms per 2^32 ticks. */
const MS_PER_TICK = 1000 / 1073741824;

/** The sample kind of each value type code, COUNTER to ABSOLUTE (DERIVE's depends on types.db: see `CollectdSeries`). */
const KIND_BY_CODE: readonly SampleKind[] = ["cumulative", "gauge", "cumulative", "counter"];

/** A {@link Sample} whose fields the parser overwrites for every value it emits. */
type ScratchSample = { -readonly [K in keyof Sample]: Sample[K] };

/** The state of one format instance (one per worker). */
interface FormatState {
  /** Identifier bytes → identity, with the types.db table they are built from. */
  readonly identities: CollectdIdentities;
  /**
   * The one sample of this instance: every value is written into it and handed to the sink, which may read
   * it only during the call (`SampleSink.sample`), so a value list allocates no sample.
   */
  readonly sample: ScratchSample;
}

/**
 * Builds the collectd binary-protocol format with a types.db table.
 *
 * @param options The types.db text; parsed once here.
 * @returns The format: `parseCollectd(bytes, sink)` → records seen (value lists, notifications,
 *   encryption parts, and one for a malformed remainder).
 * @example
 * ```ts
 * const parseCollectd = createCollectdFormat({ typesDb: defaultTypesDb() });
 * const records = parseCollectd(datagram, sink);
 * ```
 */
export function createCollectdFormat(options: CollectdFormatOptions): Format {
  const sample: ScratchSample = {
    name: "",
    labels: NO_LABELS,
    key: "",
    kind: "gauge",
    value: 0,
    member: "",
    rate: 1,
    gaugeDelta: false,
    timeMs: 0,
  };
  // Not enumerable: a sink's copy (`{ ...sample }`), a JSON dump and a deep comparison see the data only.
  Object.defineProperty(sample, "memo", { value: undefined, writable: true, enumerable: false });
  const state: FormatState = {
    identities: createCollectdIdentities(parseTypesDb(options.typesDb).types),
    sample,
  };
  const packet = createPacketState();
  return function parseCollectd(bytes: Uint8Array, sink: SampleSink): number {
    resetPacketState(packet);
    return parsePacket(state, packet, bytes, sink);
  };
}

/** Walks the parts of one packet. */
function parsePacket(
  state: FormatState,
  packet: CollectdPacketState,
  bytes: Uint8Array,
  sink: SampleSink,
): number {
  const end = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let records = 0;
  let p = 0;
  while (p < end) {
    if (end - p < HEADER_BYTES) return malformedRemainder(sink, records, "malformed_part");
    const type = (bytes[p]! << 8) | bytes[p + 1]!;
    const length = (bytes[p + 2]! << 8) | bytes[p + 3]!;
    if (length < HEADER_BYTES || length > end - p) return malformedRemainder(sink, records, "malformed_part");
    let malformed: BadReason | null = null;
    switch (type) {
      case TYPE_HOST:
      case TYPE_PLUGIN:
      case TYPE_PLUGIN_INSTANCE:
      case TYPE_TYPE:
      case TYPE_TYPE_INSTANCE:
        malformed = readIdentifierString(packet, bytes, p, length, type);
        break;
      case TYPE_TIME:
      case TYPE_TIME_HR:
        if (length !== NUMBER_PART_BYTES) malformed = "malformed_part";
        else packet.timeMs = readTimeMs(view, p + HEADER_BYTES, type === TYPE_TIME_HR);
        break;
      case TYPE_INTERVAL:
      case TYPE_INTERVAL_HR:
        if (length !== NUMBER_PART_BYTES) malformed = "malformed_part";
        break;
      case TYPE_SEVERITY:
        if (length !== NUMBER_PART_BYTES) malformed = "malformed_part";
        else {
          // A value beyond 32 bits is no severity collectd knows; -1 makes the notification bad.
          const hi = view.getUint32(p + HEADER_BYTES);
          packet.severity = hi === 0 ? view.getUint32(p + HEADER_BYTES + 4) : -1;
        }
        break;
      case TYPE_VALUES:
        // The value list is the record, whether it dispatches, is rejected, or is malformed.
        records++;
        malformed = readValues(state, packet, bytes, view, p, length, sink);
        if (malformed !== null) {
          sink.bad(malformed);
          return records;
        }
        break;
      case TYPE_MESSAGE:
        records++;
        malformed = scanString(packet, bytes, p, length, MAX_MESSAGE_BYTES, false);
        if (malformed === "invalid_utf8") {
          sink.bad(malformed);
          malformed = null;
        } else if (malformed === null) {
          dispatchNotification(packet, bytes, decodeText(bytes, p + HEADER_BYTES, packet.end), sink);
        } else {
          sink.bad(malformed);
          return records;
        }
        break;
      case TYPE_ENCR_AES256:
        // The input decrypts; encrypted bytes reaching a worker mean a wiring bug or a double wrap.
        records++;
        sink.bad("bad_frame");
        break;
      case TYPE_SIGN_SHA256:
      default:
        // Signatures were verified by the input; unknown parts are skipped, as collectd does.
        break;
    }
    if (malformed !== null) return malformedRemainder(sink, records, malformed);
    p += length;
  }
  return records;
}

/** Counts the untrustworthy rest of a packet as one bad record; returns the packet's record count. */
function malformedRemainder(sink: SampleSink, records: number, reason: BadReason): number {
  sink.bad(reason);
  return records + 1;
}

/** Reads the time part's u64 into ms since the epoch (floored), or NaN when out of range. */
function readTimeMs(view: DataView, o: number, hr: boolean): number {
  const hi = view.getUint32(o);
  const lo = view.getUint32(o + 4);
  const ms = hr ? Math.floor(hi * 4000 + lo * MS_PER_TICK) : (hi * TWO_32 + lo) * 1000;
  return ms <= MAX_TIME_MS ? ms : NaN;
}

/** Reads a values part and dispatches its value list; returns the reason when the part is malformed. */
function readValues(
  state: FormatState,
  packet: CollectdPacketState,
  bytes: Uint8Array,
  view: DataView,
  p: number,
  length: number,
  sink: SampleSink,
): BadReason | null {
  if (length < 6) return "malformed_part";
  const count = (bytes[p + 4]! << 8) | bytes[p + 5]!;
  // The count fixes the length exactly; anything else means the part boundaries are not trustworthy.
  if (length !== 6 + 9 * count) return "malformed_part";
  if (packet.stringReason !== null) {
    sink.bad(packet.stringReason);
    return null;
  }
  if (Number.isNaN(packet.timeMs)) {
    sink.bad("bad_timestamp");
    return null;
  }
  let identity = packet.identity;
  if (identity === null) {
    let scope = packet.scope;
    if (scope === null) {
      scope = resolveCollectdScope(state.identities, bytes, packet);
      packet.scope = scope;
    }
    identity = resolveCollectdIdentity(state.identities, scope, bytes, packet);
    packet.identity = identity;
  }
  if (identity.reason !== null) {
    sink.bad(identity.reason);
    return null;
  }
  const series = identity.series;
  if (series.length !== count) {
    sink.bad("type_mismatch");
    return null;
  }
  const codes = p + 6;
  const values = codes + count;
  // Validate the whole value list first: it is dispatched whole or not at all.
  for (let k = 0; k < count; k++) {
    const code = bytes[codes + k]!;
    if (code > DS_ABSOLUTE) {
      sink.bad("bad_value");
      return null;
    }
    if (code === DS_GAUGE) {
      const g = view.getFloat64(values + 8 * k, true);
      if (g === Infinity || g === -Infinity) {
        sink.bad("bad_value");
        return null;
      }
    }
  }
  const sample = state.sample;
  sample.labels = identity.labels;
  sample.timeMs = packet.timeMs;
  for (let k = 0; k < count; k++) {
    const code = bytes[codes + k]!;
    const o = values + 8 * k;
    let value: number;
    if (code === DS_GAUGE) {
      value = view.getFloat64(o, true);
      if (Number.isNaN(value)) continue; // collectd's "unknown": no sample
    } else if (code === DS_DERIVE) {
      value = view.getInt32(o) * TWO_32 + view.getUint32(o + 4);
    } else {
      value = view.getUint32(o) * TWO_32 + view.getUint32(o + 4);
    }
    const s = series[k]!;
    sample.name = s.name;
    sample.key = s.key;
    sample.kind = code === DS_DERIVE ? s.deriveKind : KIND_BY_CODE[code]!;
    sample.value = value;
    sample.memo = s;
    sink.sample(sample);
  }
  return null;
}
