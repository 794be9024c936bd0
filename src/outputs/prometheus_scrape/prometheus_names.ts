/**
 * Prometheus naming rules, shared by everything that writes Prometheus series (`/metrics`, and any output
 * that sends Prometheus names, such as remote-write).
 *
 * Metric names match `[a-zA-Z_:][a-zA-Z0-9_:]*` and label names `[a-zA-Z_][a-zA-Z0-9_]*`
 * (https://prometheus.io/docs/concepts/data_model/#metric-names-and-labels); label names starting with
 * `__` are reserved for Prometheus itself.
 *
 * One tally name can carry several kinds (a counter and a timer both called `api.calls`: each kind is its
 * own series). Prometheus allows one type per family name, so {@link prometheusFamilyName} gives each kind
 * of a name a family of its own: counters are `<name>_total` anyway, and of the kinds that would all be
 * written as `<name>` (gauge, timer, histogram, distribution, set) the first in that order keeps it while
 * the others take a suffix naming their kind (`<name>_timer`, `<name>_hist`, `<name>_distribution`,
 * `<name>_set`; a cumulative total beside a counter `<name>_cumulative_total`). A name with one kind is
 * written as it always was.
 *
 * @module
 */

import type { Labels, SampleKind } from "../../model/sample.ts";

const METRIC_NAME_REGEXP = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const METRIC_NAME_INVALID_REGEXP = /[^a-zA-Z0-9_:]/gu;
const LABEL_NAME_REGEXP = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LABEL_NAME_INVALID_REGEXP = /[^a-zA-Z0-9_]/gu;
const LEADING_UNDERSCORES_REGEXP = /^_+/;
const TOTAL_SUFFIX_REGEXP = /_total$/;

/**
 * Turns any name into a valid Prometheus metric name: every character outside `[a-zA-Z0-9_:]` (one per
 * code point) becomes `_`, and a leading digit gets a `_` prefix.
 *
 * @param name The name as received, e.g. `api.requests-ok`.
 * @returns The Prometheus name, e.g. `api_requests_ok`; `_` for an empty name.
 * @example
 * ```ts
 * prometheusMetricName("5xx.rate"); // "_5xx_rate"
 * ```
 */
export function prometheusMetricName(name: string): string {
  if (METRIC_NAME_REGEXP.test(name)) return name;
  const out = name.replace(METRIC_NAME_INVALID_REGEXP, "_");
  return out === "" || isDigit(out.charCodeAt(0)) ? "_" + out : out;
}

/**
 * Turns any label name into a valid, non-reserved Prometheus label name: every character outside
 * `[a-zA-Z0-9_]` becomes `_` (so `:` too), a leading digit gets a `_` prefix, and a leading run of two or
 * more underscores shrinks to one.
 *
 * @param name The label name as received, e.g. `http.method`.
 * @returns The Prometheus label name, e.g. `http_method`; `_` for an empty name.
 * @example
 * ```ts
 * prometheusLabelName("__name__"); // "_name__"
 * ```
 */
export function prometheusLabelName(name: string): string {
  let out = LABEL_NAME_REGEXP.test(name) ? name : name.replace(LABEL_NAME_INVALID_REGEXP, "_");
  if (out === "" || isDigit(out.charCodeAt(0))) out = "_" + out;
  if (out.startsWith("__")) out = "_" + out.replace(LEADING_UNDERSCORES_REGEXP, "");
  return out;
}

/** The Prometheus metric types tally writes. */
export type PrometheusType = "counter" | "gauge" | "summary";

/**
 * The Prometheus type a tally kind is written as: counters (and cumulative totals) as counters, gauges and
 * sets (their distinct count) as gauges, timers, histograms and distributions as summaries.
 *
 * @param kind The sample kind.
 * @returns The Prometheus type.
 */
export function prometheusType(kind: SampleKind): PrometheusType {
  switch (kind) {
    case "counter":
    case "cumulative":
      return "counter";
    case "gauge":
    case "set":
    // A total that may fall: a counter that falls would read as a reset.
    case "signed_cumulative":
      return "gauge";
    case "timer":
    case "histogram":
    case "distribution":
      return "summary";
  }
}

/** Which kind keeps the plain family name when one name carries several kinds that would share it. */
const KIND_PRECEDENCE: readonly SampleKind[] = [
  "gauge",
  "timer",
  "histogram",
  "distribution",
  "set",
  "counter",
  "cumulative",
  "signed_cumulative",
];

/**
 * The suffix a kind takes when another kind of its name keeps the plain family name. Not the Prometheus
 * type words (`counter`, `gauge`, `histogram`, `summary`), which `promtool check metrics` flags in names.
 */
const KIND_SUFFIX: Readonly<Record<SampleKind, string>> = {
  counter: "count",
  cumulative: "cumulative",
  gauge: "value",
  timer: "timer",
  histogram: "hist",
  distribution: "distribution",
  set: "set",
  signed_cumulative: "signed",
};

/** A set of kinds as a bit mask: bit i stands for `KIND_PRECEDENCE[i]`. */
export type KindMask = number;

/**
 * The bit of a kind in a {@link KindMask}.
 *
 * @param kind The sample kind.
 * @returns The bit.
 */
export function kindBit(kind: SampleKind): KindMask {
  return 1 << KIND_PRECEDENCE.indexOf(kind);
}

/**
 * Collects, per tally name, the kinds it carries: what {@link prometheusFamilyName} needs.
 *
 * @param series The series (any objects with a name and a kind).
 * @returns Name → the mask of its kinds.
 */
export function kindsByName(
  series: Iterable<{ readonly name: string; readonly kind: SampleKind }>,
): Map<string, KindMask> {
  const out = new Map<string, KindMask>();
  for (const s of series) out.set(s.name, (out.get(s.name) ?? 0) | kindBit(s.kind));
  return out;
}

/**
/**
 * The name of a Prometheus counter family: the sanitised name with `_total` appended unless it already
 * ends so (OpenMetrics' rule).
 *
 * @param name The name as received, e.g. `api.requests`.
 * @returns The family name, e.g. `api_requests_total`.
 * @example
 * ```ts
 * prometheusCounterName("jobs_total"); // "jobs_total"
 * ```
 */
export function prometheusCounterName(name: string): string {
  const sanitised = prometheusMetricName(name);
  return sanitised.endsWith("_total") ? sanitised : `${sanitised}_total`;
}

/**
 * The Prometheus family name of one kind of a tally name, given every kind the name carries: the plain
 * name (`<name>`, or `<name>_total` for counters) unless another kind of the same name takes precedence
 * for it, then a suffix naming the kind (`<name>_timer`, `<name>_hist`, `<name>_cumulative_total`).
 *
 * The result depends only on the name and the set of its kinds, never on the order series arrive in.
 *
 * @param name The name as received.
 * @param kind The kind of the series.
 * @param kinds Every kind the name carries (see {@link kindsByName}); must include `kind`.
 * @returns The family name.
 * @example
 * ```ts
 * const kinds = kindBit("gauge") | kindBit("timer");
 * prometheusFamilyName("db.query", "gauge", kinds); // "db_query"
 * prometheusFamilyName("db.query", "timer", kinds); // "db_query_timer"
 * ```
 */
export function prometheusFamilyName(name: string, kind: SampleKind, kinds: KindMask): string {
  const counter = prometheusType(kind) === "counter";
  // The first kind in precedence order that would write the same plain family keeps it.
  for (const other of KIND_PRECEDENCE) {
    if ((kinds & kindBit(other)) === 0 || (prometheusType(other) === "counter") !== counter) continue;
    if (other === kind) break;
    if (!counter) return `${prometheusMetricName(name)}_${KIND_SUFFIX[kind]}`;
    const base = prometheusMetricName(name).replace(TOTAL_SUFFIX_REGEXP, "");
    return `${base}_${KIND_SUFFIX[kind]}_total`;
  }
  return counter ? prometheusCounterName(name) : prometheusMetricName(name);
}

/**
 * Sanitises a series' labels for Prometheus: names through {@link prometheusLabelName}, the first of any
 * names that sanitise alike kept, `reserved` (e.g. a summary's `quantile`) renamed `exported_…` (the prefix
 * Prometheus itself uses for clashing labels), sorted by name so equal sets come out equal.
 *
 * @param labels The labels as received.
 * @param reserved A label name the series sets itself, or `""`.
 * @returns The pairs, sorted by name.
 * @example
 * ```ts
 * prometheusLabelPairs([["http.method", "GET"], ["quantile", "x"]], "quantile");
 * // [["exported_quantile", "x"], ["http_method", "GET"]]
 * ```
 */
export function prometheusLabelPairs(
  labels: Labels,
  reserved: string,
): Array<readonly [name: string, value: string]> {
  const pairs: Array<readonly [string, string]> = [];
  if (labels.length === 0) return pairs;
  const names = new Set<string>();
  for (const [rawName, value] of labels) {
    let name = prometheusLabelName(rawName);
    if (name === reserved) name = `exported_${name}`;
    if (names.has(name)) continue;
    names.add(name);
    pairs.push([name, value]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return pairs;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
