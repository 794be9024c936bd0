/**
 * The `collectd_unixsock` format: the values the `collectd_unixsock` input read from a local collectd's
 * unixsock plugin in one poll (`LISTVAL`, then `GETVAL` per identifier), one value list per line:
 *
 * ```text
 * line       = epoch TAB identifier 1*( TAB ds "=" value ) LF
 * epoch      = the value list's last update, seconds since the epoch as LISTVAL prints it ("1700000000.123")
 * identifier = host "/" plugin [ "-" plugin_instance ] "/" type [ "-" type_instance ]
 * ds, value  = a data-source name and its value as GETVAL prints them ("shortterm", "1.023438e+00")
 * ```
 *
 * The identifier is split as collectd's `parse_identifier` splits it: host up to the first `/`, plugin up
 * to the second, the type is the rest; each instance starts after the first `-` of its part.
 *
 * Every value is a **gauge**: GETVAL answers from collectd's value cache, which holds COUNTER, DERIVE and
 * ABSOLUTE data sources as per-second *rates*, not as the running totals the network protocol carries.
 * Names and labels follow the collectd_exporter convention (`collectd_naming.ts`): `host/cpu-0/cpu-user`
 * with data source `value` is the gauge `collectd_cpu{cpu="0",instance="host",type="user"}`. Samples carry
 * the value list's own time.
 *
 * A line is taken or rejected as a whole: a line without a tab (`stray_line`: not a value list at all), an
 * identifier without plugin or type (`empty_name`), a bad epoch (`bad_timestamp`), no data source
 * (`no_value`), a field without `=` (`malformed_part`), a value that is not a finite number such as `NaN`
 * (`bad_value`; the input drops collectd's NaNs before they get here) or invalid UTF-8 (`invalid_utf8`)
 * is one bad line.
 *
 * @module
 */

import type { BadReason, Sample, SampleSink } from "../model/sample.ts";
import { seriesKey } from "../model/series_key.ts";
import { collectdLabels, collectdMetricName } from "./collectd_naming.ts";
import type { CollectdIdentifier } from "./collectd_naming.ts";
import { CR, decodeText, EQUALS, isValidUtf8, LF, MINUS, parseDecimal, TAB } from "./_text.ts";

const SLASH = 0x2f;

/** The samples of the line being parsed, held until the whole line proved good. */
interface PendingValue {
  dsStart: number;
  dsEnd: number;
  value: number;
}

/**
 * Parses one poll's worth of unixsock values and hands gauge samples and bad lines to a sink.
 *
 * Never throws on any input. Blank lines are ignored and not counted.
 *
 * @param bytes The frame: lines as the module documentation describes; not retained.
 * @param sink Receives each sample and each rejected line.
 * @returns The number of non-empty lines seen, good and bad.
 * @example
 * ```ts
 * const bytes = new TextEncoder().encode("1700000000.000\th/load/load\tshortterm=0.5\tmidterm=0.25\n");
 * parseCollectdUnixsock(bytes, sink); // 1: collectd_load_shortterm and collectd_load_midterm gauges
 * ```
 */
export function parseCollectdUnixsock(bytes: Uint8Array, sink: SampleSink): number {
  const length = bytes.length;
  const pending: PendingValue[] = [];
  let lines = 0;
  let start = 0;
  while (start < length) {
    let end = bytes.indexOf(LF, start);
    if (end < 0) end = length;
    let lineEnd = end;
    if (lineEnd > start && bytes[lineEnd - 1] === CR) lineEnd--;
    if (lineEnd > start) {
      lines++;
      const bad = parseLine(bytes, start, lineEnd, sink, pending);
      if (bad !== undefined) sink.bad(bad);
    }
    start = end + 1;
  }
  return lines;
}

/** Parses one non-empty line; returns why it was rejected, or `undefined` when its samples went out. */
function parseLine(
  bytes: Uint8Array,
  start: number,
  end: number,
  sink: SampleSink,
  pending: PendingValue[],
): BadReason | undefined {
  if (!isValidUtf8(bytes, start, end)) return "invalid_utf8";
  const epochEnd = indexOf(bytes, TAB, start, end);
  // Not `epoch TAB identifier …` at all: whatever else the socket said.
  if (epochEnd < 0) return "stray_line";
  const epoch = parseDecimal(bytes, start, epochEnd);
  if (!(epoch > 0)) return "bad_timestamp";
  const idStart = epochEnd + 1;
  let idEnd = indexOf(bytes, TAB, idStart, end);
  if (idEnd < 0) idEnd = end;
  const identifier = parseIdentifier(bytes, idStart, idEnd);
  if (identifier === undefined) return "empty_name";
  pending.length = 0;
  let at = idEnd + 1;
  while (at < end) {
    let fieldEnd = indexOf(bytes, TAB, at, end);
    if (fieldEnd < 0) fieldEnd = end;
    const equals = indexOf(bytes, EQUALS, at, fieldEnd);
    if (equals <= at) return "malformed_part";
    const value = parseDecimal(bytes, trimStart(bytes, equals + 1, fieldEnd), fieldEnd);
    if (!Number.isFinite(value)) return "bad_value";
    pending.push({ dsStart: at, dsEnd: equals, value });
    at = fieldEnd + 1;
  }
  if (pending.length === 0) return "no_value";
  const labels = collectdLabels(identifier);
  const timeMs = Math.round(epoch * 1000);
  for (const p of pending) {
    const name = collectdMetricName(identifier, decodeText(bytes, p.dsStart, p.dsEnd));
    const sample: Sample = {
      name,
      labels,
      key: seriesKey(name, labels),
      kind: "gauge",
      value: p.value,
      member: "",
      rate: 1,
      gaugeDelta: false,
      timeMs,
    };
    sink.sample(sample);
  }
  return undefined;
}

/** Splits `host/plugin[-instance]/type[-instance]` as collectd's `parse_identifier` does. */
function parseIdentifier(bytes: Uint8Array, start: number, end: number): CollectdIdentifier | undefined {
  const firstSlash = indexOf(bytes, SLASH, start, end);
  if (firstSlash < 0) return undefined;
  const secondSlash = indexOf(bytes, SLASH, firstSlash + 1, end);
  if (secondSlash < 0) return undefined;
  const pluginDash = indexOf(bytes, MINUS, firstSlash + 1, secondSlash);
  const pluginEnd = pluginDash < 0 ? secondSlash : pluginDash;
  const typeDash = indexOf(bytes, MINUS, secondSlash + 1, end);
  const typeEnd = typeDash < 0 ? end : typeDash;
  if (pluginEnd === firstSlash + 1 || typeEnd === secondSlash + 1) return undefined;
  return {
    host: decodeText(bytes, start, firstSlash),
    plugin: decodeText(bytes, firstSlash + 1, pluginEnd),
    pluginInstance: pluginDash < 0 ? "" : decodeText(bytes, pluginDash + 1, secondSlash),
    type: decodeText(bytes, secondSlash + 1, typeEnd),
    typeInstance: typeDash < 0 ? "" : decodeText(bytes, typeDash + 1, end),
  };
}

function indexOf(bytes: Uint8Array, byte: number, start: number, end: number): number {
  for (let i = start; i < end; i++) if (bytes[i] === byte) return i;
  return -1;
}

/** GETVAL prints values with `%12e`, which pads short ones (`inf`) with leading spaces. */
function trimStart(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end && bytes[i] === 0x20) i++;
  return i;
}
