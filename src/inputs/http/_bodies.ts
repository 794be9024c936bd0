/**
 * The shapes of the HTTP input's request parameters and JSON bodies that are checked before the ack:
 * the events body and the Influx `precision` parameters. (The metrics body is the `json` format's own
 * `PUSH_BODY_SCHEMA`, shared with the workers.)
 *
 * @module
 */

import * as v from "valibot";
import type { InfluxPrecision } from "../../formats/script_frame.ts";
import { isName, PUSH_LABELS_SCHEMA, TIMESTAMP_MS_SCHEMA } from "../../formats/json.ts";

const MAX_TITLE = 1024;

/** One event of a `POST /api/v1/events` body. */
const EVENT_SCHEMA = v.pipe(
  v.strictObject({
    title: v.pipe(
      v.string("an event title"),
      v.check((text: string) => text.trim() !== "" && isName(text), "a non-empty title on one line"),
      v.maxLength(MAX_TITLE, `a title of at most ${MAX_TITLE} characters`),
    ),
    text: v.optional(v.string("a text")),
    start: v.optional(TIMESTAMP_MS_SCHEMA),
    end: v.optional(TIMESTAMP_MS_SCHEMA),
    labels: v.optional(PUSH_LABELS_SCHEMA),
  }, "an event object"),
  v.forward(
    v.check(
      (event) => event.end === undefined || event.start === undefined || event.end >= event.start,
      "an end at or after the start",
    ),
    ["end"],
  ),
);

/** The body of `POST /api/v1/events`. */
export const EVENTS_BODY_SCHEMA = v.strictObject({
  events: v.array(EVENT_SCHEMA, "an array of events"),
}, 'an object like {"events": [...]}');

/** One validated event of a `POST /api/v1/events` body. */
export type PushedEvent = v.InferOutput<typeof EVENT_SCHEMA>;

/**
 * Influx v1 `/write` precisions (InfluxDB 1.x's spellings, `n` and `u` included) and what they mean.
 * An absent or empty parameter is nanoseconds.
 */
const V1_PRECISIONS: Readonly<Record<string, InfluxPrecision>> = {
  n: "ns",
  ns: "ns",
  u: "us",
  "µ": "us",
  us: "us",
  ms: "ms",
  s: "s",
  m: "m",
  h: "h",
};

/** Influx v2 `/api/v2/write` precisions. */
const V2_PRECISIONS: Readonly<Record<string, InfluxPrecision>> = { ns: "ns", us: "us", ms: "ms", s: "s" };

/**
 * Reads the `precision` parameter of an Influx write.
 *
 * Unlike Telegraf's listener, which silently reads an unknown precision as nanoseconds (and so files the
 * points decades away), an unknown one is refused: the caller answers 400.
 *
 * @param text The parameter as given, or `undefined`.
 * @param api Which write API: `v1` (`/write`) or `v2` (`/api/v2/write`).
 * @returns The precision, or `undefined` when the text is not one of the API's.
 */
export function influxPrecision(text: string | undefined, api: "v1" | "v2"): InfluxPrecision | undefined {
  if (text === undefined || text === "") return "ns";
  const table = api === "v1" ? V1_PRECISIONS : V2_PRECISIONS;
  return Object.hasOwn(table, text) ? table[text] : undefined;
}

/**
 * The precisions an API takes, for the 400 message.
 *
 * @param api Which write API.
 * @returns E.g. `"ns", "us", "ms" or "s"`.
 */
export function influxPrecisions(api: "v1" | "v2"): string {
  const names = Object.keys(api === "v1" ? V1_PRECISIONS : V2_PRECISIONS).map((p) => JSON.stringify(p));
  return `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
}
