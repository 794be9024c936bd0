/**
 * The CoScale CLI's custom-data string (`coscale-cli data insert --data '…'`, coscale.md §2.2), parsed into
 * entries that `tally push --stdin --format coscale` turns into the data-insert payload (§3.3).
 *
 * ```text
 * <entries> := <entry>[;<entry>…]        (a newline ends an entry too)
 * <entry>   := M<metricId>:<subject>:<points>[:<dimsJSON>]
 * <subject> := A | S<serverId>
 * <points>  := <point> | [<point>,<point>…] | <point>,<point>…
 * <point>   := <time>:<value>
 * <time>    := -?[0-9]+                  >0 Unix seconds, 0 now, <0 seconds ago
 * <value>   := <number> | [<samples>,<percentileWidth>,[<number>,<number>…]]   (a histogram)
 * <dimsJSON>:= {"<dimension name>":"<value>",…}
 * ```
 *
 * Where tally differs from the original, on purpose:
 * - Values may be negative and in exponent notation (`-1.5`, `2.5e-3`, `1E6`); the original's `[0-9.]+`
 *   rejected both.
 * - The dimensions are real JSON: a `;` or `}` inside a quoted value, and escapes (`\"`), survive.
 * - Blanks around entries, points and values are ignored.
 * - A malformed entry is reported with its line and the reason, and its neighbours are kept (the original
 *   rejected the whole string).
 *
 * Times are kept as written: the receiver resolves 0 and negative times against its own clock, as CoScale
 * does. Pure: no I/O, no clock.
 *
 * @module
 */

/** A CoScale HISTOGRAM value: `[sampleCount, percentileWidth, [percentile values…]]`. */
export type CoscaleHistogram = readonly [
  samples: number,
  percentileWidth: number,
  percentiles: readonly number[],
];

/** One data point: the time as written (seconds) and a number or a histogram. */
export type CoscalePoint = readonly [time: number, value: number | CoscaleHistogram];

/** One parsed entry: a metric, a subject, its points and its dimension values. */
export interface CoscaleDataEntry {
  /** The CoScale metric id (`M<id>`). */
  readonly metricId: number;
  /** The subject: `A` (the application) or `S<serverId>`. */
  readonly subject: string;
  /** The points, in the order written. */
  readonly points: readonly CoscalePoint[];
  /** The dimension values keyed by dimension name, in the order written; empty without dimensions. */
  readonly dimensions: readonly (readonly [name: string, value: string])[];
  /** The 1-based line the entry is on. */
  readonly line: number;
}

/** A malformed entry: where it is, what it says and why it was refused. */
export interface CoscaleDataError {
  /** The 1-based line the entry is on. */
  readonly line: number;
  /** The entry as written (trimmed). */
  readonly entry: string;
  /** What is wrong, in sentence case, quoting the offending part. */
  readonly message: string;
}

/** What {@link parseCoscaleData} found: the good entries and the refused ones, each in input order. */
export interface CoscaleDataResult {
  /** The well-formed entries. */
  readonly entries: readonly CoscaleDataEntry[];
  /** The malformed entries. */
  readonly errors: readonly CoscaleDataError[];
}

const ENTRY_HEAD_REGEXP = /^M(\d+):([^:]*):/;
const SUBJECT_REGEXP = /^(?:A|S\d+)$/;
const TIME_REGEXP = /^-?\d+$/;
const NUMBER_REGEXP = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const COUNT_REGEXP = /^\d+$/;
const TIME_EXPECTED = "expected whole seconds: > 0 Unix time, 0 now, < 0 seconds ago";
const HISTOGRAM_EXPECTED = "expected [samples,percentileWidth,[value,value,…]]";

/**
 * Parses CoScale custom-data text: entries separated by `;` or newlines.
 *
 * @param text The text, e.g. `M1:S100:-60:1.2;M2:S100:0:2`.
 * @param firstLine The line number of the text's first line, when it is a slice of a longer input (1 by default).
 * @returns The good entries and the malformed ones; blank entries (`;;`, a trailing `;`) are neither.
 * @example
 * ```ts
 * parseCoscaleData('M1:S1:-60:1.3:{"Queue":"q1"};M2:A:[-60:1.2,0:-1e3]').entries.length; // 2
 * ```
 */
export function parseCoscaleData(text: string, firstLine = 1): CoscaleDataResult {
  const entries: CoscaleDataEntry[] = [];
  const errors: CoscaleDataError[] = [];
  let line = firstLine;
  let start = 0;
  let depth = 0;
  let inString = false;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text[i] : "\n";
    if (c === "\n") {
      // A newline always ends an entry, so an unclosed `{` cannot swallow the lines after it.
      take(text.slice(start, i), line);
      line++;
      start = i + 1;
      depth = 0;
      inString = false;
    } else if (inString) {
      // An escape skips the next character, but never the newline that ends the entry.
      if (c === "\\" && text[i + 1] !== "\n") i++;
      else if (c === '"') inString = false;
    } else if (c === '"' && depth > 0) {
      inString = true;
    } else if (c === "{") {
      depth++;
    } else if (c === "}") {
      if (depth > 0) depth--;
    } else if (c === ";" && depth === 0) {
      take(text.slice(start, i), line);
      start = i + 1;
    }
  }
  return { entries, errors };

  function take(raw: string, at: number): void {
    const entry = raw.trim();
    if (entry === "") return;
    const parsed = parseEntry(entry, at);
    if (typeof parsed === "string") errors.push({ line: at, entry, message: parsed });
    else entries.push(parsed);
  }
}

/** Parses one trimmed, non-empty entry; a string is the reason it is refused. */
function parseEntry(entry: string, line: number): CoscaleDataEntry | string {
  const head = ENTRY_HEAD_REGEXP.exec(entry);
  if (head === null) return `Expected "M<metric id>:<subject>:<points>", found "${clip(entry)}"`;
  const metricId = Number(head[1]);
  if (!Number.isSafeInteger(metricId)) return `Metric id "${head[1]}" is too large`;
  const subject = head[2] ?? "";
  if (!SUBJECT_REGEXP.test(subject)) {
    return `Subject "${subject}" is not A (the application) or S<server id>`;
  }
  let rest = entry.slice(head[0].length);
  let dimensions: (readonly [string, string])[] = [];
  const dimsAt = dimensionsStart(rest);
  if (dimsAt >= 0) {
    const dims = parseDimensions(rest.slice(dimsAt + 1).trim());
    if (typeof dims === "string") return dims;
    dimensions = dims;
    rest = rest.slice(0, dimsAt);
  }
  const points = parsePoints(rest.trim());
  if (typeof points === "string") return points;
  return { metricId, subject, points, dimensions, line };
}

/** The index of the `:` that starts the dimensions (`:{` outside brackets), or -1. */
function dimensionsStart(rest: string): number {
  let depth = 0;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (c === "[") depth++;
    else if (c === "]") depth--;
    else if (c === ":" && depth === 0 && rest.slice(i + 1).trimStart().startsWith("{")) return i;
  }
  return -1;
}

function parseDimensions(text: string): (readonly [string, string])[] | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The engine's own message differs between runtimes, and the text is quoted anyway.
    return `Dimensions ${clip(text)} are not valid JSON`;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return `Dimensions ${clip(text)} are not a JSON object`;
  }
  const pairs: (readonly [string, string])[] = [];
  // JSON.parse makes every key an own property, "__proto__" included.
  for (const [name, dimValue] of Object.entries(value)) {
    if (typeof dimValue !== "string") {
      return `Dimension "${name}" must be a string, found ${clip(JSON.stringify(dimValue))}`;
    }
    pairs.push([name, dimValue]);
  }
  return pairs;
}

function parsePoints(text: string): CoscalePoint[] | string {
  if (text === "") return "Expected at least one <time>:<value> point, found none";
  let list = text;
  if (text.startsWith("[")) {
    if (!text.endsWith("]")) return `Point list "${clip(text)}" has no closing "]"`;
    list = text.slice(1, -1);
  }
  const points: CoscalePoint[] = [];
  for (const item of splitTopLevel(list)) {
    const point = parsePoint(item.trim());
    if (typeof point === "string") return point;
    points.push(point);
  }
  return points;
}

function parsePoint(text: string): CoscalePoint | string {
  const colon = text.indexOf(":");
  if (colon < 0) return `Point "${clip(text)}" is not <time>:<value>`;
  const timeText = text.slice(0, colon).trim();
  const valueText = text.slice(colon + 1).trim();
  if (!TIME_REGEXP.test(timeText)) return `Time "${clip(timeText)}" is not valid: ${TIME_EXPECTED}`;
  const time = Number(timeText);
  if (!Number.isSafeInteger(time)) return `Time "${clip(timeText)}" is out of range: ${TIME_EXPECTED}`;
  if (valueText.startsWith("[")) {
    const histogram = parseHistogram(valueText);
    return typeof histogram === "string" ? histogram : [time, histogram];
  }
  const value = parseNumber(valueText);
  return value === undefined ? `Value "${clip(valueText)}" is not a number` : [time, value];
}

function parseHistogram(text: string): CoscaleHistogram | string {
  const bad = `Histogram "${clip(text)}" is not valid: ${HISTOGRAM_EXPECTED}`;
  if (!text.endsWith("]")) return bad;
  const parts = splitTopLevel(text.slice(1, -1)).map((part) => part.trim());
  if (parts.length !== 3) return bad;
  const [samplesText = "", widthText = "", percentilesText = ""] = parts;
  if (!COUNT_REGEXP.test(samplesText) || !COUNT_REGEXP.test(widthText)) return bad;
  if (!percentilesText.startsWith("[") || !percentilesText.endsWith("]")) return bad;
  const inner = percentilesText.slice(1, -1).trim();
  if (inner === "") return `Histogram "${clip(text)}" has no percentile values: ${HISTOGRAM_EXPECTED}`;
  const percentiles: number[] = [];
  for (const item of inner.split(",")) {
    const value = parseNumber(item.trim());
    if (value === undefined) return `Histogram percentile value "${clip(item.trim())}" is not a number`;
    percentiles.push(value);
  }
  return [Number(samplesText), Number(widthText), percentiles];
}

/** A finite decimal number (negative and exponent forms included), or undefined. */
function parseNumber(text: string): number | undefined {
  if (!NUMBER_REGEXP.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Splits at the commas outside brackets. */
function splitTopLevel(text: string): string[] {
  const items: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "[") depth++;
    else if (c === "]") depth--;
    else if (c === "," && depth === 0) {
      items.push(text.slice(start, i));
      start = i + 1;
    }
  }
  items.push(text.slice(start));
  return items;
}

/** Quotes at most 60 characters of user input in a message. */
function clip(text: string): string {
  return text.length <= 60 ? text : `${text.slice(0, 57)}...`;
}
