/**
 * The Nagios plugin output format: a script frame whose body is what a Nagios/Icinga/Monitoring Plugins
 * check printed, and whose header carries the check's exit code.
 *
 * Plugin output (Nagios plugin development guidelines, "Plugin Output"):
 *
 * ```text
 * TEXT OUTPUT | OPTIONAL PERFDATA
 * LONG TEXT LINE 1
 * LONG TEXT LINE 2 | PERFDATA LINE 2      ← after the first '|' on a later line,
 * PERFDATA LINE 3                          ← every following line is perfdata
 * ```
 *
 * Perfdata items are separated by blanks: `'label'=value[UOM];[warn];[crit];[min];[max]`; a label with
 * blanks or `=` is single-quoted, `''` is a quote inside it.
 *
 * What a frame yields:
 * - `nagios_status` gauge: the service state from the exit code, 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN;
 *   any other code, a missing one (killed) or a timed-out run is 3 (UNKNOWN), as Nagios treats them.
 * - one `service_check` event: title the script label, text the first line's text plus the long output,
 *   status the state.
 * - per perfdata item, `nagios_perfdata[_<unit>]` with label `label` = the perfdata label as printed,
 *   the value converted by its UOM: `s`/`ms`/`us`/`ns` → seconds (`_seconds`), `B`/`KB`/`MB`/`GB`/`TB`
 *   (and `KiB`…`TiB`; powers of 1024 as the Monitoring Plugins compute them) → bytes (`_bytes`), `%` →
 *   as is (`_percent`), `c` → a `cumulative` counter (no suffix; Prometheus output adds `_total`), none →
 *   as is (no suffix), any other UOM → as is, suffixed with the UOM in snake_case.
 * - warn, crit, min and max, when each is a plain number (the common form), as gauges
 *   `nagios_perfdata_<warning|critical|min|max>[_<unit>]`, converted like the value. Threshold ranges
 *   (`10:20`, `~:5`, `@1:2`) are not exported.
 *
 * Every sample is stamped with the run's start and carries the frame's labels (`script` and the
 * configured ones). The count returned is records: the status plus each perfdata item. A perfdata item
 * that cannot be read is one `sink.bad`: `no_value` (no value, or `U` for "undetermined"), `bad_value`
 * (not a number), `empty_name` (empty label), `malformed_part` (an item without `=`), `invalid_utf8` (for a
 * whole perfdata line); the other items are kept. A frame without a valid header is one `bad_frame`.
 *
 * @module
 */

import type { BadReason, Label, Labels, SampleKind, SampleSink } from "../model/sample.ts";
import {
  decodeText,
  EQUALS,
  hasKeySeparator,
  isBlank,
  isValidUtf8,
  lineCursor,
  makeSample,
  nextLine,
  normalizeLabels,
  parseDecimal,
  PIPE,
  SEMICOLON,
  SINGLE_QUOTE,
  snakeCase,
} from "./_text.ts";
import { openScriptFrame } from "./script_frame.ts";
import type { ScriptParseOptions } from "./script_frame.ts";

/** A UOM's conversion to the base unit (value × multiply ÷ divide), the name suffix, and the kind. */
interface Unit {
  readonly multiply: number;
  /** Dividing by 1000 rather than multiplying by 0.001 keeps `3ns` exactly 3e-9. */
  readonly divide: number;
  readonly suffix: string;
  readonly kind: SampleKind;
}

const KIB = 1024;
const UNITS: Readonly<Record<string, Unit>> = {
  "": { multiply: 1, divide: 1, suffix: "", kind: "gauge" },
  "s": { multiply: 1, divide: 1, suffix: "seconds", kind: "gauge" },
  "ms": { multiply: 1, divide: 1e3, suffix: "seconds", kind: "gauge" },
  "us": { multiply: 1, divide: 1e6, suffix: "seconds", kind: "gauge" },
  "ns": { multiply: 1, divide: 1e9, suffix: "seconds", kind: "gauge" },
  "%": { multiply: 1, divide: 1, suffix: "percent", kind: "gauge" },
  "B": { multiply: 1, divide: 1, suffix: "bytes", kind: "gauge" },
  "KB": { multiply: KIB, divide: 1, suffix: "bytes", kind: "gauge" },
  "MB": { multiply: KIB ** 2, divide: 1, suffix: "bytes", kind: "gauge" },
  "GB": { multiply: KIB ** 3, divide: 1, suffix: "bytes", kind: "gauge" },
  "TB": { multiply: KIB ** 4, divide: 1, suffix: "bytes", kind: "gauge" },
  "KiB": { multiply: KIB, divide: 1, suffix: "bytes", kind: "gauge" },
  "MiB": { multiply: KIB ** 2, divide: 1, suffix: "bytes", kind: "gauge" },
  "GiB": { multiply: KIB ** 3, divide: 1, suffix: "bytes", kind: "gauge" },
  "TiB": { multiply: KIB ** 4, divide: 1, suffix: "bytes", kind: "gauge" },
  "c": { multiply: 1, divide: 1, suffix: "", kind: "cumulative" },
};

const THRESHOLDS = ["warning", "critical", "min", "max"] as const;

/** The state Nagios gives a check that ended outside 0..3, was killed, or timed out. */
const UNKNOWN = 3;

/** Why the last item failed, for `options.onBad`. */
let failure = "";

/**
 * Parses a Nagios plugin frame (header with the exit code, then the plugin's stdout).
 *
 * Never throws; see the module docs for what it yields.
 *
 * @param bytes A frame built by `encodeScriptFrame` (with `exitCode` unless the run was killed).
 * @param sink Receives the status sample, the service-check event, perfdata samples and bad items.
 * @param options `onBad` receives each rejected item's line number and a message.
 * @returns The records seen: 1 for the status plus one per perfdata item (1 for an unreadable frame).
 * @example
 * ```ts
 * const frame = encodeScriptFrame({ script: "ping", runMs: Date.now(), exitCode: 0 },
 *   new TextEncoder().encode("PING OK - Packet loss = 0%, RTA = 0.80 ms|rta=0.80ms;100;500;0 pl=0%;20;60;0"));
 * parseNagios(frame, sink); // nagios_status 0, nagios_perfdata_seconds{label="rta"} 0.0008, …
 * ```
 */
export function parseNagios(bytes: Uint8Array, sink: SampleSink, options?: ScriptParseOptions): number {
  const onBad = options?.onBad;
  const frame = openScriptFrame(bytes, sink, options, true);
  if (frame === undefined || frame.header === undefined) return 1;
  const { header, body, labels: frameLabels, timeMs } = frame;
  const code = header.exitCode;
  const state = header.timedOut !== true && code !== undefined && code >= 0 && code <= 3 ? code : UNKNOWN;

  const statusLabels = normalizeLabels(frameLabels.slice());
  sink.sample(makeSample("nagios_status", statusLabels, undefined, "gauge", state, timeMs));

  let records = 1;
  let text = "";
  let inPerfdata = false;
  const line = lineCursor(body);
  while (nextLine(body, line)) {
    const { start, end, number } = line;
    let perfStart = end;
    if (!inPerfdata) {
      let p = start;
      while (p < end && body[p] !== PIPE) p++;
      const part = decodeText(body, start, p).trimEnd();
      text = number === 1 ? part : `${text}\n${part}`;
      if (p < end) {
        // The first line's '|' starts only its own perfdata; a '|' in the long output starts perfdata
        // that runs through every following line.
        inPerfdata = number > 1;
        perfStart = p + 1;
      }
    } else {
      perfStart = start;
    }
    if (perfStart < end) {
      if (line.nonAscii && !isValidUtf8(body, perfStart, end)) {
        records++;
        sink.bad("invalid_utf8");
        onBad?.({ line: number, reason: "invalid_utf8", message: "Perfdata is not valid UTF-8" });
      } else {
        records += parsePerfdata(body, perfStart, end, number, frameLabels, timeMs, sink, options);
      }
    }
  }

  const title = header.script === "" ? "nagios" : header.script;
  sink.event({
    kind: "service_check",
    title,
    text: text.trim(),
    timeMs,
    labels: statusLabels,
    status: state,
  });
  return records;
}

/** Parses the perfdata items in [s, e); returns how many items it saw. */
function parsePerfdata(
  bytes: Uint8Array,
  s: number,
  e: number,
  line: number,
  frameLabels: readonly Label[],
  timeMs: number,
  sink: SampleSink,
  options: ScriptParseOptions | undefined,
): number {
  let items = 0;
  let p = s;
  for (;;) {
    while (p < e && isBlank(bytes[p])) p++;
    if (p >= e) return items;
    items++;
    let label: string;
    let reason: BadReason | null = null;
    if (bytes[p] === SINGLE_QUOTE) {
      // A quoted label: '' is a literal quote; it ends at a lone quote.
      let q = p + 1;
      let raw = "";
      let from = q;
      for (;;) {
        if (q >= e) break;
        if (bytes[q] === SINGLE_QUOTE) {
          if (bytes[q + 1] === SINGLE_QUOTE) {
            raw += decodeText(bytes, from, q + 1);
            q += 2;
            from = q;
            continue;
          }
          break;
        }
        q++;
      }
      label = raw + decodeText(bytes, from, q);
      p = q + 1;
      if (q >= e || bytes[p] !== EQUALS) {
        reason = "malformed_part";
        failure = `Perfdata item "${label}" has no '=' after its quoted label`;
      }
    } else {
      const ls = p;
      while (p < e && bytes[p] !== EQUALS && !isBlank(bytes[p])) p++;
      label = decodeText(bytes, ls, p);
      if (p >= e || bytes[p] !== EQUALS) {
        reason = "malformed_part";
        failure = `Perfdata item "${label}" has no '='`;
      }
    }
    // The item's data runs to the next blank.
    const ds = reason === null ? p + 1 : p;
    let de = ds;
    while (de < e && !isBlank(bytes[de])) de++;
    p = de;
    if (reason === null) {
      reason = perfdataItem(bytes, ds, de, label, frameLabels, timeMs, sink);
    }
    if (reason !== null) {
      sink.bad(reason);
      options?.onBad?.({ line, reason, message: failure });
    }
  }
}

/** Parses one item's `value[UOM];warn;crit;min;max` in [s, e) and emits its samples. */
function perfdataItem(
  bytes: Uint8Array,
  s: number,
  e: number,
  label: string,
  frameLabels: readonly Label[],
  timeMs: number,
  sink: SampleSink,
): BadReason | null {
  if (label === "" || hasKeySeparator(label)) {
    failure = "Perfdata item has an empty label";
    return "empty_name";
  }
  let fieldEnd = s;
  while (fieldEnd < e && bytes[fieldEnd] !== SEMICOLON) fieldEnd++;
  if (fieldEnd === s || (fieldEnd - s === 1 && bytes[s] === 0x55)) {
    failure = `Perfdata item "${label}" has no value`;
    return "no_value";
  }
  // The number is the longest prefix made of number characters; the rest of the field is the UOM.
  let numberEnd = s;
  while (numberEnd < fieldEnd && isNumberByte(bytes, numberEnd, s)) numberEnd++;
  const uom = decodeText(bytes, numberEnd, fieldEnd);
  const value = parseDecimal(bytes, s, numberEnd);
  if (value !== value) {
    failure = `Perfdata item "${label}" has a value that is not a number: "${
      decodeText(bytes, s, fieldEnd)
    }"`;
    return "bad_value";
  }
  const unit = UNITS[uom] ?? { multiply: 1, divide: 1, suffix: snakeCase(uom.toLowerCase()), kind: "gauge" };
  const base = unit.suffix === "" ? "" : `_${unit.suffix}`;
  const labels: Label[] = [["label", label]];
  for (let k = 0; k < frameLabels.length; k++) labels.push(frameLabels[k]!);
  const sorted: Labels = normalizeLabels(labels);
  sink.sample(
    makeSample(
      `nagios_perfdata${base}`,
      sorted,
      undefined,
      unit.kind,
      (value * unit.multiply) / unit.divide,
      timeMs,
    ),
  );

  // warn;crit;min;max: only plain numbers are exported (a range is not one value).
  let f = fieldEnd;
  for (let t = 0; t < THRESHOLDS.length && f < e; t++) {
    const fs = f + 1;
    let fe = fs;
    while (fe < e && bytes[fe] !== SEMICOLON) fe++;
    f = fe;
    if (fe === fs) continue;
    // Thresholds may repeat the UOM (some plugins print `;80%;90%`): strip it when it matches.
    let ne = fe;
    if (uom !== "" && fe - fs > uom.length && decodeText(bytes, fe - uom.length, fe) === uom) {
      ne = fe - uom.length;
    }
    const threshold = parseDecimal(bytes, fs, ne);
    if (threshold !== threshold) continue;
    sink.sample(
      makeSample(
        `nagios_perfdata_${THRESHOLDS[t]}${base}`,
        sorted,
        undefined,
        "gauge",
        (threshold * unit.multiply) / unit.divide,
        timeMs,
      ),
    );
  }
  return null;
}

/** Whether the byte at `i` can be part of the number that starts at `s` (digits, sign, dot, exponent). */
function isNumberByte(bytes: Uint8Array, i: number, s: number): boolean {
  const b = bytes[i]!;
  if (b >= 0x30 && b <= 0x39) return true;
  if (b === 0x2e) return true;
  if (b === 0x2d || b === 0x2b) return i === s || bytes[i - 1] === 0x65 || bytes[i - 1] === 0x45;
  // An exponent only when a digit (or sign and digit) follows, so a UOM starting with "e" stays a UOM.
  if ((b === 0x65 || b === 0x45) && i > s) {
    const n = bytes[i + 1];
    const m = n === 0x2d || n === 0x2b ? bytes[i + 2] : n;
    return m !== undefined && m >= 0x30 && m <= 0x39;
  }
  return false;
}
