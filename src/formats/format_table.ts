/**
 * The table from the numeric format id that travels in a frame to the parser that runs in the worker.
 *
 * Adding a format: give it an id in `FORMAT_IDS` (`src/model/frame.ts`) and one line here.
 *
 * @module
 */

import { FORMAT_IDS } from "../model/frame.ts";
import type { FormatId } from "../model/frame.ts";
import type { Format } from "../model/sample.ts";
import { parseStatsd } from "./statsd.ts";

/** Every format by id; the type makes a missing entry a compile error. */
const FORMATS: Readonly<Record<FormatId, Format>> = {
  [FORMAT_IDS.statsd]: parseStatsd,
};

// A dense array indexed by id: the worker looks a format up per frame.
const BY_ID: ReadonlyArray<Format | undefined> = (() => {
  const table: Array<Format | undefined> = [];
  for (const [id, format] of Object.entries(FORMATS)) table[Number(id)] = format;
  return table;
})();

/**
 * Returns the parser for a format id read from a frame.
 *
 * @param id The numeric format id (a `FormatId` when the frame came from `emit`).
 * @returns The parser, or `undefined` for an id no format has.
 * @example
 * ```ts
 * const lines = formatById(FORMAT_IDS.statsd)?.(bytes, sink) ?? 0;
 * ```
 */
export function formatById(id: number): Format | undefined {
  return BY_ID[id];
}
