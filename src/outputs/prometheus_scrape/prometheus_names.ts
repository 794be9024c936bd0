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

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}
