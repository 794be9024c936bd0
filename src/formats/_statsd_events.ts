/**
 * DogStatsD events and service checks, the two StatsD lines that are not metrics:
 *
 * ```text
 * event    = "_e{" titlelen "," textlen "}:" title "|" text *( "|" event-field )
 * check    = "_sc|" name "|" status *( "|" check-field ) [ "|m:" message ]
 * ```
 *
 * Spec: docs.datadoghq.com/developers/dogstatsd/datagram_shell (events and service checks).
 *
 * @module
 */

import type { BadReason, Label, SampleSink } from "../model/sample.ts";
import { seriesKey } from "../model/series_key.ts";
import { makeSample } from "./_statsd_samples.ts";
import { decode, hasKeySeparator, parseSecondsToMs, parseTags } from "./_statsd_slices.ts";
import { COLON, COMMA, DIGIT_0, HASH, NO_LABELS, normalizeLabels, PIPE, RIGHT_BRACE } from "./_text.ts";

const LOWER_D = 0x64;
const LOWER_H = 0x68;
const LOWER_K = 0x6b;
const LOWER_M = 0x6d;
const LOWER_P = 0x70;
const LOWER_S = 0x73;
const LOWER_T = 0x74;

/** Parses a non-negative decimal length of at most 6 digits, or -1. */
function parseLength(bytes: Uint8Array, s: number, e: number): number {
  if (e <= s || e - s > 6) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = bytes[i]! - DIGIT_0;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * Parses a DogStatsD event `_e{titlelen,textlen}:title|text|d:ts|h:host|k:key|p:prio|s:source|t:type|#tags`
 * and hands it to the sink. Lengths count bytes of the raw (escaped) title and text.
 *
 * @param bytes The line's bytes.
 * @param s The line start (at `_e{`).
 * @param e The line end (exclusive).
 * @param ascii Whether the line is all ASCII.
 * @param sink Receives the event.
 * @returns Null when the event was delivered, else why the line was refused.
 */
export function parseEvent(
  bytes: Uint8Array,
  s: number,
  e: number,
  ascii: boolean,
  sink: SampleSink,
): BadReason | null {
  let p = s + 3;
  let q = p;
  while (q < e && bytes[q] !== COMMA) q++;
  const titleLength = parseLength(bytes, p, q);
  p = q + 1;
  q = p;
  while (q < e && bytes[q] !== RIGHT_BRACE) q++;
  const textLength = parseLength(bytes, p, q);
  if (titleLength <= 0 || textLength < 0 || q + 1 >= e || bytes[q + 1] !== COLON) return "bad_event";
  const titleStart = q + 2;
  const titleEnd = titleStart + titleLength;
  const textStart = titleEnd + 1;
  const textEnd = textStart + textLength;
  if (textEnd > e || bytes[titleEnd] !== PIPE) return "bad_event";
  // Both slices end before an ASCII '|' or at the line end, so neither can split a UTF-8 character.
  if (textEnd < e && bytes[textEnd] !== PIPE) return "bad_event";

  const labels: Label[] = [];
  let timeMs = 0;
  p = textEnd;
  while (p < e) {
    const fs = p + 1;
    let fe = fs;
    while (fe < e && bytes[fe] !== PIPE) fe++;
    const f = fs < e ? bytes[fs]! : 0;
    if (f === HASH) {
      if (!parseTags(bytes, fs + 1, fe, ascii, labels)) return "bad_tags";
    } else if (fe - fs >= 2 && bytes[fs + 1] === COLON) {
      const vs = fs + 2;
      switch (f) {
        case LOWER_D:
          timeMs = parseSecondsToMs(bytes, vs, fe);
          if (timeMs < 0) return "bad_event";
          break;
        case LOWER_H:
          labels.push(["host", decode(bytes, vs, fe, ascii)]);
          break;
        case LOWER_K:
          labels.push(["aggregation_key", decode(bytes, vs, fe, ascii)]);
          break;
        case LOWER_P:
          labels.push(["priority", decode(bytes, vs, fe, ascii)]);
          break;
        case LOWER_S:
          labels.push(["source_type_name", decode(bytes, vs, fe, ascii)]);
          break;
        case LOWER_T:
          labels.push(["alert_type", decode(bytes, vs, fe, ascii)]);
          break;
      }
    }
    p = fe;
  }
  sink.event({
    kind: "event",
    title: unescapeNewlines(decode(bytes, titleStart, titleEnd, ascii)),
    text: unescapeNewlines(decode(bytes, textStart, textEnd, ascii)),
    timeMs,
    labels: labels.length === 0 ? NO_LABELS : normalizeLabels(labels),
    status: -1,
  });
  return null;
}

/**
 * Parses a DogStatsD service check `_sc|name|status|d:ts|h:host|#tags|m:message`: hands the sink the event,
 * then a gauge sample named after the check (value = status, labels = the check's tags).
 *
 * @param bytes The line's bytes.
 * @param s The line start (at `_sc|`).
 * @param e The line end (exclusive).
 * @param ascii Whether the line is all ASCII.
 * @param sink Receives the event and the sample.
 * @returns Null when both were delivered, else why the line was refused.
 */
export function parseServiceCheck(
  bytes: Uint8Array,
  s: number,
  e: number,
  ascii: boolean,
  sink: SampleSink,
): BadReason | null {
  const nameStart = s + 4;
  let p = nameStart;
  while (p < e && bytes[p] !== PIPE) p++;
  const nameEnd = p;
  if (nameEnd === nameStart || p + 1 >= e || hasKeySeparator(bytes, nameStart, nameEnd)) {
    return "bad_service_check";
  }
  const status = bytes[p + 1]! - DIGIT_0;
  if (status < 0 || status > 3 || (p + 2 < e && bytes[p + 2] !== PIPE)) return "bad_service_check";

  const tags: Label[] = [];
  let host = "";
  let hasHost = false;
  let timeMs = 0;
  let text = "";
  p += 2;
  while (p < e) {
    const fs = p + 1;
    const f = fs < e ? bytes[fs]! : 0;
    if (f === LOWER_M && fs + 1 < e && bytes[fs + 1] === COLON) {
      // The message is the last field by definition and may itself contain '|'.
      text = unescapeMessage(decode(bytes, fs + 2, e, ascii));
      break;
    }
    let fe = fs;
    while (fe < e && bytes[fe] !== PIPE) fe++;
    if (f === HASH) {
      if (!parseTags(bytes, fs + 1, fe, ascii, tags)) return "bad_tags";
    } else if (fe - fs >= 2 && bytes[fs + 1] === COLON) {
      if (f === LOWER_D) {
        timeMs = parseSecondsToMs(bytes, fs + 2, fe);
        if (timeMs < 0) return "bad_service_check";
      } else if (f === LOWER_H) {
        host = decode(bytes, fs + 2, fe, ascii);
        hasHost = true;
      }
    }
    p = fe;
  }

  const name = decode(bytes, nameStart, nameEnd, ascii);
  const tagLabels = tags.length === 0 ? NO_LABELS : normalizeLabels(tags.slice());
  if (hasHost) tags.push(["host", host]);
  const eventLabels = tags.length === 0 ? NO_LABELS : normalizeLabels(tags);
  sink.event({ kind: "service_check", title: name, text, timeMs, labels: eventLabels, status });
  sink.sample(
    makeSample(
      { name, labels: tagLabels, key: seriesKey(name, tagLabels) },
      "gauge",
      status,
      "",
      1,
      false,
      timeMs,
    ),
  );
  return null;
}

/** Turns the DogStatsD `\n` escape (backslash, n) back into a newline. */
function unescapeNewlines(text: string): string {
  return text.includes("\\n") ? text.replaceAll("\\n", "\n") : text;
}

/** Undoes the escapes DogStatsD clients apply to service-check messages (`\n` and `m\:`). */
function unescapeMessage(text: string): string {
  return text.includes("\\") ? unescapeNewlines(text).replaceAll("m\\:", "m:") : text;
}
