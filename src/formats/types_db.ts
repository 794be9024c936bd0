/**
 * collectd's `types.db`: the table that names the data sources of every value-list type.
 *
 * A value list on the wire carries only its type name (`if_octets`) and its values; the names of those
 * values (`rx`, `tx`) and their data-source types come from this table, as in collectd itself
 * (`types.db(5)`). Syntax, one type per line:
 *
 * ```text
 * # comment
 * if_octets   rx:DERIVE:0:U, tx:DERIVE:0:U
 * load        shortterm:GAUGE:0:5000, midterm:GAUGE:0:5000, longterm:GAUGE:0:5000
 * ```
 *
 * A data source is `name:TYPE:min:max`, TYPE one of GAUGE, COUNTER, DERIVE, ABSOLUTE (any case), min and max
 * a number or `U` (unknown). Data sources are separated by commas and/or blanks (collectd itself needs the
 * blank; tally takes either). Blank lines and lines whose first non-blank is `#` are ignored; a malformed
 * line is skipped and reported, never fatal, and a type defined twice keeps its later definition (so
 * concatenated files override in order, as collectd's `TypesDB` list does).
 *
 * @module
 */

/** A data-source type: how collectd encodes and interprets the value. */
export type DsType = "COUNTER" | "GAUGE" | "DERIVE" | "ABSOLUTE";

/** One data source of a type. */
export interface DataSource {
  /** The data-source name, e.g. `rx`; `value` for single-value types. */
  readonly name: string;
  /** The data-source type. */
  readonly type: DsType;
  /** The minimum, or `null` for `U` (unknown). */
  readonly min: number | null;
  /** The maximum, or `null` for `U` (unknown). */
  readonly max: number | null;
}

/** The parsed table: type name → its data sources, in order. */
export type TypesDb = ReadonlyMap<string, readonly DataSource[]>;

/** A line that was skipped. */
export interface TypesDbProblem {
  /** The 1-based line number. */
  readonly line: number;
  /** The line as read, trimmed. */
  readonly text: string;
  /** What is wrong with it. */
  readonly reason: string;
}

/** What {@link parseTypesDb} returns. */
export interface ParsedTypesDb {
  /** The types. */
  readonly types: TypesDb;
  /** The malformed lines that were skipped, in file order. */
  readonly problems: readonly TypesDbProblem[];
}

const SEPARATOR_REGEXP = /[\s,]+/;
const NUMBER_REGEXP = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DS_TYPES: ReadonlyMap<string, DsType> = new Map([
  ["COUNTER", "COUNTER"],
  ["GAUGE", "GAUGE"],
  ["DERIVE", "DERIVE"],
  ["ABSOLUTE", "ABSOLUTE"],
]);

/**
 * Parses types.db text (one file, or several concatenated with newlines).
 *
 * @param text The text.
 * @returns The types, plus every skipped line with its reason.
 * @example
 * ```ts
 * const { types } = parseTypesDb("if_octets rx:DERIVE:0:U, tx:DERIVE:0:U\n");
 * types.get("if_octets")?.map((ds) => ds.name); // ["rx", "tx"]
 * ```
 */
export function parseTypesDb(text: string): ParsedTypesDb {
  const types = new Map<string, readonly DataSource[]>();
  const problems: TypesDbProblem[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(SEPARATOR_REGEXP);
    const name = fields[0]!;
    if (fields.length < 2) {
      problems.push({ line: i + 1, text: line, reason: `type "${name}" has no data sources` });
      continue;
    }
    const sources: DataSource[] = [];
    let reason: string | null = null;
    for (let f = 1; f < fields.length && reason === null; f++) {
      const spec = fields[f]!;
      if (spec === "") continue;
      const parsed = parseDataSource(spec);
      if (typeof parsed === "string") reason = parsed;
      else if (sources.some((ds) => ds.name === parsed.name)) {
        reason = `data source "${parsed.name}" is repeated`;
      } else sources.push(parsed);
    }
    if (reason === null && sources.length === 0) reason = `type "${name}" has no data sources`;
    if (reason !== null) {
      problems.push({ line: i + 1, text: line, reason });
      continue;
    }
    types.set(name, Object.freeze(sources));
  }
  return { types, problems };
}

/** Parses `name:TYPE:min:max`; returns the reason when it is not that. */
function parseDataSource(spec: string): DataSource | string {
  const parts = spec.split(":");
  if (parts.length !== 4) return `data source "${spec}" is not "name:TYPE:min:max"`;
  const [name, typeText, minText, maxText] = parts as [string, string, string, string];
  if (name === "") return `data source "${spec}" has an empty name`;
  const type = DS_TYPES.get(typeText.toUpperCase());
  if (type === undefined) {
    return `data source "${spec}" has type "${typeText}", expected GAUGE, COUNTER, DERIVE or ABSOLUTE`;
  }
  const min = parseBound(minText);
  if (min === undefined) return `data source "${spec}" has minimum "${minText}", expected a number or "U"`;
  const max = parseBound(maxText);
  if (max === undefined) return `data source "${spec}" has maximum "${maxText}", expected a number or "U"`;
  return Object.freeze({ name, type, min, max });
}

/** A bound: `U` is unknown (null), a decimal number is itself, anything else is malformed (undefined). */
function parseBound(text: string): number | null | undefined {
  if (text === "U" || text === "u") return null;
  if (!NUMBER_REGEXP.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}
