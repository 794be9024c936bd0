/**
 * How a CoScale metric definition becomes a tally metric: its name (the display name in snake_case plus a
 * unit suffix) and its kind. Used by the CoScale generic-script format (`coscale_script.ts`), whose module
 * docs give the whole mapping.
 *
 * @module
 */

import type { SampleKind } from "../model/sample.ts";
import { snakeCase } from "./_text.ts";
import type { CoscaleMetric } from "./coscale_definitions.ts";

/**
 * The tally kind of a CoScale metric (see `coscale_script.ts`'s module docs for why).
 *
 * @param metric The metric definition.
 * @returns `cumulative` for Difference or COUNTER, `counter` for COUNT, `gauge` otherwise.
 */
export function coscaleKind(metric: CoscaleMetric): SampleKind {
  if (metric.calctype === "Difference" || metric.datatype === "COUNTER") return "cumulative";
  if (metric.datatype === "COUNT") return "counter";
  return "gauge";
}

/**
 * The tally metric name of a CoScale metric: the display name in snake_case plus the unit suffix.
 *
 * @param metric The metric definition.
 * @returns The name, e.g. `server_time_hours`; `coscale_metric_<id>` when the display name is empty.
 */
export function coscaleMetricName(metric: CoscaleMetric): string {
  const base = snakeCase(metric.name);
  if (base === "") return `coscale_metric_${metric.id}`;
  const suffix = unitSuffix(metric.unit);
  if (suffix === "") return base;
  // "Response time ms" with unit ms is already suffixed, by the unit's word or by the unit itself.
  const raw = snakeCase(metric.unit);
  for (const end of [suffix, raw]) {
    if (end !== "" && (base === end || base.endsWith(`_${end}`))) return base;
  }
  return `${base}_${suffix}`;
}

/** Units CoScale scripts use, to the Prometheus-style words used as name suffixes. */
const UNIT_WORDS: Readonly<Record<string, string>> = {
  "#": "",
  "ms": "milliseconds",
  "us": "microseconds",
  "µs": "microseconds",
  "ns": "nanoseconds",
  "s": "seconds",
  "sec": "seconds",
  "min": "minutes",
  "h": "hours",
  "b": "bytes",
  "kb": "kilobytes",
  "mb": "megabytes",
  "gb": "gigabytes",
  "tb": "terabytes",
  "b/s": "bytes_per_second",
  "%": "percent",
};

/**
 * The name suffix for a CoScale unit.
 *
 * @param unit The free-text unit of a metric definition.
 * @returns The suffix without its `_`: a known unit's word, else the unit in snake_case with `/` as
 *   `per` and `%` as `percent`; empty for no unit or `#`.
 */
export function unitSuffix(unit: string): string {
  const trimmed = unit.trim();
  const known = UNIT_WORDS[trimmed.toLowerCase()];
  if (known !== undefined) return known;
  return snakeCase(trimmed.replaceAll("/", " per ").replaceAll("%", " percent "));
}
