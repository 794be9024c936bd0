/**
 * Prometheus naming rules, shared by everything that writes Prometheus series (`/metrics`, and any output
 * that sends Prometheus names).
 *
 * Metric names match `[a-zA-Z_:][a-zA-Z0-9_:]*` and label names `[a-zA-Z_][a-zA-Z0-9_]*`
 * (https://prometheus.io/docs/concepts/data_model/#metric-names-and-labels); label names starting with
 * `__` are reserved for Prometheus itself.
 *
 * @module
 */

import type { Labels } from "../../model/sample.ts";

const METRIC_NAME_REGEXP = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const METRIC_NAME_INVALID_REGEXP = /[^a-zA-Z0-9_:]/gu;
const LABEL_NAME_REGEXP = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const LABEL_NAME_INVALID_REGEXP = /[^a-zA-Z0-9_]/gu;
const LEADING_UNDERSCORES_REGEXP = /^_+/;

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
