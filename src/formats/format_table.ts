/**
 * The table from the numeric format id that travels in a frame to the parser that runs in the worker.
 *
 * Most formats are pure functions; a format that needs static options (collectd needs the types.db
 * table) is built once per worker from {@link FormatOptions}, which the pipeline passes to every worker
 * (and to the inline path) as plain data.
 *
 * Adding a format: give it an id in `FORMAT_IDS` (`src/model/frame.ts`), one line in `BUILDERS` here,
 * and, when it needs options, a field in {@link FormatOptions}.
 *
 * @module
 */

import { FORMAT_IDS } from "../model/frame.ts";
import type { FormatName } from "../model/frame.ts";
import type { Format } from "../model/sample.ts";
import { BUILTIN_TYPES_DB } from "./_types_db_builtin.ts";
import { createCollectdFormat } from "./collectd.ts";
import { parseCollectdUnixsock } from "./collectd_unixsock.ts";
import { parseCoscaleScript } from "./coscale_script.ts";
import { parseInfluxLine } from "./influx_line.ts";
import { parseJson } from "./json.ts";
import { parseNagios } from "./nagios.ts";
import { parsePromText } from "./prom_text.ts";
import { parseStatsd } from "./statsd.ts";

/**
 * The static options of the formats that need some, one field per such format. Plain data: it crosses
 * to the workers in `workerData` by structured clone.
 */
export interface FormatOptions {
  /** The options of the `collectd` binary-protocol format; tally's built-in types.db when absent. */
  readonly collectd?: {
    /**
     * The types.db text (every configured file concatenated, see `defaultTypesDb`) that names the
     * values of each type. Read on the main thread: workers do no I/O.
     */
    readonly typesDb: string;
  };
}

/** Looks a parser up by the numeric format id read from a frame; `undefined` for an id no format has. */
export type FormatLookup = (id: number) => Format | undefined;

/** Builds one format from the options (pure formats ignore them). */
type _Builder = (options: FormatOptions) => Format;

/** Every format by name; the type makes a missing entry a compile error. */
const BUILDERS: Readonly<Record<FormatName, _Builder>> = {
  statsd: () => parseStatsd,
  collectd: (options) => createCollectdFormat({ typesDb: options.collectd?.typesDb ?? BUILTIN_TYPES_DB }),
  collectd_unixsock: () => parseCollectdUnixsock,
  coscale_script: () => parseCoscaleScript,
  nagios: () => parseNagios,
  prom_text: () => parsePromText,
  influx_line: () => parseInfluxLine,
  json: () => parseJson,
};

/**
 * Builds the format table of one worker (or of the inline path).
 *
 * @param options The static format options; formats that need none ignore them.
 * @returns The lookup from format id to parser: a dense array read per frame.
 * @throws {Error} When a format's factory rejects its options (none does today: the collectd format
 *   skips types.db lines it cannot parse, so validate the text on the main thread first).
 * @example
 * ```ts
 * const formatById = createFormatTable({ collectd: { typesDb } });
 * const lines = formatById(FORMAT_IDS.statsd)?.(bytes, sink) ?? 0;
 * ```
 */
export function createFormatTable(options: FormatOptions): FormatLookup {
  const byId: Array<Format | undefined> = [];
  for (const [name, id] of Object.entries(FORMAT_IDS)) {
    byId[id] = BUILDERS[name as FormatName](options);
  }
  return function formatById(id: number): Format | undefined {
    return byId[id];
  };
}
