/**
 * Which Prometheus samples one aggregated metric becomes, the same way `/metrics` renders it (names and
 * labels through `prometheus_names.ts`), so a series has one name whether it is scraped or pushed:
 *
 * | metric | samples |
 * |---|---|
 * | counter (StatsD `c`, ABSOLUTE) | `<name>_total` = the running total since the series started (never the window's delta) |
 * | cumulative (collectd COUNTER, DERIVE with min ≥ 0, Prometheus counters, …) | `<name>_total` = the source's own total (a fall is a real reset) |
 * | signed_cumulative (collectd DERIVE with min < 0 or U) | `<name>` gauge = the source's total (it may fall) |
 * | gauge | `<name>` = the value |
 * | set | `<name>` gauge = the window's distinct count |
 * | timer, histogram, distribution (summary) | `<name>{quantile="q"}` per configured quantile (this window), `<name>_sum` and `<name>_count` (running totals) |
 *
 * @module
 */

import type { Metric } from "../../model/metric.ts";
import {
  prometheusCounterName,
  prometheusLabelPairs,
  prometheusMetricName,
} from "../prometheus_scrape/prometheus_names.ts";

/** One sample's identity, without its value: the metric name, the labels, and the summary quantile if any. */
export interface SampleShape {
  /** The Prometheus metric name (`__name__`). */
  readonly name: string;
  /** The series' labels, sanitised and sorted, without `__name__` and external labels. */
  readonly labels: ReadonlyArray<readonly [string, string]>;
}

/**
 * The shapes of the samples a metric becomes, in a fixed order per kind (see the module table). The
 * values come from {@link sampleValues} in the same order.
 *
 * @param metric The metric.
 * @returns The shapes.
 */
export function sampleShapes(metric: Metric): SampleShape[] {
  const point = metric.point;
  switch (point.kind) {
    case "counter": {
      const labels = prometheusLabelPairs(metric.labels, "");
      if (metric.kind === "signed_cumulative") return [{ name: prometheusMetricName(metric.name), labels }];
      return [{ name: prometheusCounterName(metric.name), labels }];
    }
    case "gauge":
    case "set":
      return [{ name: prometheusMetricName(metric.name), labels: prometheusLabelPairs(metric.labels, "") }];
    case "summary": {
      const name = prometheusMetricName(metric.name);
      const labels = prometheusLabelPairs(metric.labels, "quantile");
      const out: SampleShape[] = point.quantiles.map((quantile) => ({
        name,
        labels: withLabel(labels, "quantile", String(quantile.q)),
      }));
      out.push({ name: `${name}_sum`, labels }, { name: `${name}_count`, labels });
      return out;
    }
  }
}

/**
 * Writes the values of a metric's samples into `out`, in the order of {@link sampleShapes}.
 *
 * @param metric The metric.
 * @param out Receives the values (cleared first).
 * @returns `out`.
 */
export function sampleValues(metric: Metric, out: number[]): number[] {
  out.length = 0;
  const point = metric.point;
  switch (point.kind) {
    case "counter":
      out.push(point.total);
      break;
    case "gauge":
      out.push(point.value);
      break;
    case "set":
      out.push(point.count);
      break;
    case "summary":
      for (const quantile of point.quantiles) out.push(quantile.value);
      out.push(point.totalSum, point.totalCount);
      break;
  }
  return out;
}

/** Adds a label to sorted pairs, keeping them sorted. */
function withLabel(
  pairs: ReadonlyArray<readonly [string, string]>,
  name: string,
  value: string,
): Array<readonly [string, string]> {
  const out = [...pairs, [name, value] as const];
  out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return out;
}
