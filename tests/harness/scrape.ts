/**
 * Fetches tally's `/metrics` and parses the Prometheus text exposition into a map of canonical series keys
 * (`name{a="1",b="2"}`, labels sorted) to values, for exact assertions in end-to-end tests.
 *
 * @module
 * @see https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 */

/** Series key → value. */
export type MetricValues = Map<string, number>;

/** Options for {@link scrape}. */
export interface ScrapeOptions {
  /** Aborts the request. */
  readonly signal?: AbortSignal;
  /** The path, `/metrics` by default. */
  readonly path?: string;
}

/** Thrown when the exposition text is malformed. */
export class ExpositionParseError extends Error {
  /**
   * @param message Which line failed and what was found.
   */
  constructor(message: string) {
    super(message);
    this.name = "ExpositionParseError";
  }
}

const METRIC_NAME_REGEXP = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME_REGEXP = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const WHITESPACE_REGEXP = /[ \t]+/;

/**
 * Builds the canonical key of a series, the form {@link parsePrometheusText} uses: the name, then the
 * labels sorted by name with values escaped as in the exposition format; no braces without labels.
 *
 * @param name The metric name, e.g. `tally_statsd_lines_total`.
 * @param labels The labels, unescaped.
 * @returns The key, e.g. `tally_statsd_lines_total{component_id="udp",component_type="statsd"}`.
 */
export function metricKey(name: string, labels: Readonly<Record<string, string>> = {}): string {
  const names = Object.keys(labels).sort();
  if (names.length === 0) return name;
  return `${name}{${names.map((label) => `${label}="${escapeLabelValue(labels[label] ?? "")}"`).join(",")}}`;
}

/**
 * Parses Prometheus text exposition into canonical series keys and values. Comments, `# HELP` and
 * `# TYPE` lines and timestamps are skipped; `+Inf`, `-Inf` and `NaN` are numbers.
 *
 * @param text The exposition.
 * @returns Series key → value.
 * @throws {ExpositionParseError} When a line is malformed or a series appears twice.
 */
export function parsePrometheusText(text: string): MetricValues {
  const values: MetricValues = new Map();
  const lines = text.split("\n");
  for (let index = 0; index < lines.length; index++) {
    const line = (lines[index] ?? "").trim();
    if (line === "" || line.startsWith("#")) continue;
    const { key, value } = parseSampleLine(line, index + 1);
    if (values.has(key)) throw new ExpositionParseError(`Duplicate series on line ${index + 1}: "${key}"`);
    values.set(key, value);
  }
  return values;
}

/**
 * Fetches `/metrics` from a running tally and parses it.
 *
 * @param baseUrl The HTTP endpoint, e.g. `http://127.0.0.1:8127`.
 * @param options An abort signal and the path.
 * @returns Series key → value.
 * @throws {Error} When the response is not 200 or the text is malformed.
 */
export async function scrape(baseUrl: string | URL, options: ScrapeOptions = {}): Promise<MetricValues> {
  const url = new URL(options.path ?? "/metrics", baseUrl);
  const response = await fetch(url, options.signal === undefined ? {} : { signal: options.signal });
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(`Cannot scrape "${url.href}": status ${response.status}, body "${text.slice(0, 200)}"`);
  }
  return parsePrometheusText(text);
}

function parseSampleLine(line: string, lineNumber: number): { readonly key: string; readonly value: number } {
  const name = METRIC_NAME_REGEXP.exec(line)?.[0];
  if (name === undefined) throw malformed(lineNumber, "a metric name", line);
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith("{")) {
    rest = parseLabels(rest.slice(1), labels, lineNumber, line);
  }
  const fields = rest.trim().split(WHITESPACE_REGEXP);
  const rawValue = fields[0] ?? "";
  if (rest.length > 0 && !(rest.startsWith(" ") || rest.startsWith("\t"))) {
    throw malformed(lineNumber, "a space before the value", line);
  }
  if (fields.length > 2) throw malformed(lineNumber, "a value and an optional timestamp", line);
  const value = parseValue(rawValue);
  if (value === undefined) throw malformed(lineNumber, "a number value", line);
  return { key: metricKey(name, labels), value };
}

/** Parses `a="1",b="2"}` into `labels` and returns what follows the closing brace. */
function parseLabels(
  input: string,
  labels: Record<string, string>,
  lineNumber: number,
  line: string,
): string {
  let rest = input.trimStart();
  while (!rest.startsWith("}")) {
    const label = LABEL_NAME_REGEXP.exec(rest)?.[0];
    if (label === undefined) throw malformed(lineNumber, "a label name", line);
    rest = rest.slice(label.length).trimStart();
    if (!rest.startsWith("=")) throw malformed(lineNumber, `"=" after label "${label}"`, line);
    rest = rest.slice(1).trimStart();
    if (!rest.startsWith('"')) throw malformed(lineNumber, `a quoted value for label "${label}"`, line);
    let value = "";
    let i = 1;
    for (; i < rest.length; i++) {
      const char = rest[i];
      if (char === '"') break;
      if (char === "\\") {
        const next = rest[++i];
        value += next === "n" ? "\n" : next ?? "";
      } else {
        value += char;
      }
    }
    if (i >= rest.length) throw malformed(lineNumber, `a closing quote for label "${label}"`, line);
    if (label in labels) throw malformed(lineNumber, `label "${label}" once`, line);
    labels[label] = value;
    rest = rest.slice(i + 1).trimStart();
    if (rest.startsWith(",")) rest = rest.slice(1).trimStart();
    else if (!rest.startsWith("}")) throw malformed(lineNumber, `"," or "}" after label "${label}"`, line);
  }
  return rest.slice(1);
}

function parseValue(raw: string): number | undefined {
  switch (raw) {
    case "+Inf":
    case "Inf":
      return Number.POSITIVE_INFINITY;
    case "-Inf":
      return Number.NEGATIVE_INFINITY;
    case "NaN":
      return Number.NaN;
    case "":
      return undefined;
  }
  const value = Number(raw);
  return Number.isNaN(value) ? undefined : value;
}

function escapeLabelValue(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function malformed(lineNumber: number, expected: string, line: string): ExpositionParseError {
  return new ExpositionParseError(
    `Cannot parse exposition line ${lineNumber}: expected ${expected}, found "${line}"`,
  );
}
