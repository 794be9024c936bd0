/**
 * `tally push NAME=VALUE[,LABEL=VALUE…]` arguments, turned into the metrics of a `POST /api/v1/push` body.
 *
 * The first `NAME=VALUE` pair is the metric, every further pair a label, as Influx tags follow a
 * measurement: `temperature=21.5,room=kitchen,floor=1`. A backslash escapes a `,`, a `=` or itself inside a
 * name or a value (`path=/a\,b`).
 *
 * @module
 */

/** The metric types of the push API (`POST /api/v1/push`). */
export const METRIC_TYPES = ["counter", "gauge", "timer", "histogram", "distribution", "set"] as const;

/** One of {@link METRIC_TYPES}. */
export type MetricType = (typeof METRIC_TYPES)[number];

/**
 * The type a bare `NAME=VALUE` gets: a gauge, as a Datadog `dog metric post` or a Telegraf field is —
 * "the value is now this", which is also what a shell script measuring something usually means.
 */
export const DEFAULT_METRIC_TYPE: MetricType = "gauge";

/** One metric of a push body, as the push API takes it. */
export interface PushMetric {
  /** The metric name. */
  readonly name: string;
  /** The metric type. */
  readonly type: MetricType;
  /** The value; a set's member is a string. */
  readonly value: number | string;
  /** The labels; absent when there are none. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** A parsed argument: the metric, or why it is refused. */
export type MetricArg =
  | { readonly kind: "metric"; readonly metric: PushMetric }
  | { readonly kind: "error"; readonly message: string };

const NUMBER_REGEXP = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;
const EXPECTED = "expected NAME=VALUE[,LABEL=VALUE...]";
/** A backslash before `,`, `=` or itself. */
const ESCAPE_REGEXP = /\\([,=\\])/g;

/**
 * Tells whether a string names a metric type.
 *
 * @param text The candidate, e.g. the `--type` flag.
 * @returns Whether it is one of {@link METRIC_TYPES}.
 */
export function isMetricType(text: string): text is MetricType {
  return (METRIC_TYPES as readonly string[]).includes(text);
}

/**
 * Parses one `NAME=VALUE[,LABEL=VALUE…]` argument.
 *
 * @param arg The argument as the shell passed it.
 * @param type The metric type (`--type`); a `set` takes any member, every other type a finite number.
 * @returns The metric, or an error message quoting the argument.
 * @example
 * ```ts
 * parseMetricArg("deploys=1,env=prod", "counter");
 * // { kind: "metric", metric: { name: "deploys", type: "counter", value: 1, labels: { env: "prod" } } }
 * ```
 */
export function parseMetricArg(arg: string, type: MetricType): MetricArg {
  const pairs: [string, string][] = [];
  for (const part of splitUnescaped(arg, ",")) {
    // Only the first "=" splits: a label value may hold more ("query=a=b").
    const [key, value] = splitUnescaped(part, "=", 2);
    if (value === undefined) {
      return error(`Invalid metric "${arg}": "${part}" is not NAME=VALUE (${EXPECTED})`);
    }
    pairs.push([unescape(key ?? ""), unescape(value)]);
  }
  const [first, ...labelPairs] = pairs;
  if (first === undefined) return error(`Invalid metric "${arg}": ${EXPECTED}`);
  const [name, valueText] = first;
  if (name === "") return error(`Invalid metric "${arg}": the name is empty (${EXPECTED})`);
  let value: number | string = valueText;
  if (type !== "set") {
    value = NUMBER_REGEXP.test(valueText) ? Number(valueText) : Number.NaN;
    if (!Number.isFinite(value)) {
      return error(`Invalid metric "${arg}": the value "${valueText}" is not a finite number`);
    }
  } else if (valueText === "") {
    return error(`Invalid metric "${arg}": a set member cannot be empty`);
  }
  const seen = new Set<string>();
  for (const [label] of labelPairs) {
    if (label === "") return error(`Invalid metric "${arg}": a label name is empty`);
    if (seen.has(label)) return error(`Invalid metric "${arg}": label "${label}" is given twice`);
    seen.add(label);
  }
  // fromEntries defines own properties, so a label named "__proto__" stays a label.
  const labels = Object.fromEntries(labelPairs);
  const metric: PushMetric = labelPairs.length === 0 ? { name, type, value } : { name, type, value, labels };
  return { kind: "metric", metric };
}

function error(message: string): MetricArg {
  return { kind: "error", message };
}

/** Splits at every `separator` not preceded by an unescaped backslash, keeping escapes for {@link unescape}. */
function splitUnescaped(text: string, separator: string, limit = Infinity): string[] {
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === separator && parts.length < limit - 1) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Removes the backslash before `,`, `=` and `\`; any other backslash is literal. */
function unescape(text: string): string {
  return text.replace(ESCAPE_REGEXP, "$1");
}
