/**
 * The Prometheus text exposition format 0.0.4 for `GET /metrics`: a pure function from the latest
 * aggregated metrics and tally's own families to the scrape body.
 *
 * Spec: https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
 *
 * @module
 */

import type { Metric } from "../../model/metric.ts";
import type { Labels } from "../../model/sample.ts";
import type { SelfFamily } from "../../internal/self_stats.ts";
import {
  type KindMask,
  kindsByName,
  prometheusCounterName,
  prometheusFamilyName,
  prometheusLabelPairs,
  prometheusMetricName,
  type PrometheusType,
} from "./prometheus_names.ts";

/** The family that counts what a render left out; always present so alerts never see it vanish. */
export const SKIPPED_SERIES_FAMILY = "tally_prometheus_skipped_series";

interface Family {
  readonly name: string;
  readonly type: PrometheusType;
  readonly help: string;
  /** Claimed by tally (self families, the skipped-series family): user metrics never join it. */
  readonly reserved: boolean;
  body: string;
}

interface RenderState {
  /** Families by their Prometheus name. */
  readonly families: Map<string, Family>;
  /** Which family writes each sample name (a summary `x` writes `x`, `x_sum` and `x_count`). */
  readonly owners: Map<string, string>;
  /** Family name + rendered labels of every series written, to drop duplicates. */
  readonly series: Set<string>;
  conflicts: number;
  duplicates: number;
}

const HELP_ESCAPE_REGEXP = /[\\\n]/g;
const LABEL_VALUE_ESCAPE_REGEXP = /[\\"\n]/g;
const ESCAPES: Readonly<Record<string, string>> = { "\\": "\\\\", "\n": "\\n", '"': '\\"' };

/**
 * Renders metrics and self-metrics in the Prometheus text format 0.0.4, without timestamps.
 *
 * Names are sanitised (see `prometheusMetricName`); counters become `counter` families named `…_total`
 * with the cumulative total (for a `cumulative` series, the source's own last total); gauges stay gauges;
 * timers, histograms and distributions become summaries (`quantile` lines from the window, `_sum`/`_count`
 * cumulative); sets become gauges of the window's distinct count. A name carrying several kinds gets one
 * family per kind (`prometheusFamilyName`: `db_query` for its gauge, `db_query_timer` for its timer), so
 * Prometheus sees no clash and nothing is skipped. Series of one family are written together whatever
 * the input order. When different names sanitise to a family (or a summary's `_sum`/`_count`) of another
 * type, or repeat a series already written, the later one is skipped and counted in
 * {@link SKIPPED_SERIES_FAMILY}; self families are claimed first, so user metrics can never shadow them.
 * Self families follow the user families.
 *
 * @param metrics The latest point of each series.
 * @param self tally's own families.
 * @returns The exposition text, ending in a newline.
 * @example
 * ```ts
 * renderPrometheus(store.latest(), stats.snapshot());
 * // # HELP api_requests_total tally counter api.requests
 * // # TYPE api_requests_total counter
 * // api_requests_total{env="prod"} 42
 * ```
 */
export function renderPrometheus(metrics: readonly Metric[], self: readonly SelfFamily[]): string {
  const state: RenderState = {
    families: new Map(),
    owners: new Map(),
    series: new Set(),
    conflicts: 0,
    duplicates: 0,
  };
  // Claimed first so that no user metric can take this name or a self family's.
  familyFor(state, { name: SKIPPED_SERIES_FAMILY, type: "gauge", help: "", reserved: true }, []);
  const selfFamilies: Family[] = [];
  for (const family of self) addSelfFamily(state, family, selfFamilies);
  const userFamilies: Family[] = [];
  const kinds = kindsByName(metrics);
  for (const metric of metrics) addMetric(state, metric, kinds.get(metric.name)!, userFamilies);

  let out = "";
  for (const family of userFamilies) out += familyText(family);
  for (const family of selfFamilies) out += familyText(family);
  out +=
    `# HELP ${SKIPPED_SERIES_FAMILY} Series left out of this /metrics render: a name that sanitised to a` +
    ` family of another type, or a repeated series\n# TYPE ${SKIPPED_SERIES_FAMILY} gauge\n` +
    `${SKIPPED_SERIES_FAMILY}{reason="duplicate_series"} ${state.duplicates}\n` +
    `${SKIPPED_SERIES_FAMILY}{reason="name_conflict"} ${state.conflicts}\n`;
  return out;
}

function addSelfFamily(state: RenderState, self: SelfFamily, order: Family[]): void {
  const name = self.type === "counter" ? prometheusCounterName(self.name) : prometheusMetricName(self.name);
  const family = familyFor(state, { name, type: self.type, help: self.help, reserved: true }, order);
  if (family === undefined) {
    state.conflicts += self.series.length;
    return;
  }
  for (const series of self.series) {
    const labels = labelText(series.labels, "");
    if (!claimSeries(state, name, labels)) continue;
    family.body += `${name}${braced(labels)} ${formatValue(series.value)}\n`;
  }
}

function addMetric(state: RenderState, metric: Metric, kinds: KindMask, order: Family[]): void {
  const point = metric.point;
  const type: PrometheusType = point.kind === "set" || metric.kind === "signed_cumulative"
    ? "gauge"
    : point.kind;
  const name = prometheusFamilyName(metric.name, metric.kind, kinds);
  const family = familyFor(state, {
    name,
    type,
    help: `tally ${metric.kind} ${metric.name}`,
    reserved: false,
  }, order);
  if (family === undefined) {
    state.conflicts++;
    return;
  }
  // `quantile` is the summary's own label; a user label of that name is kept as `exported_quantile`,
  // the prefix Prometheus itself uses for clashing labels.
  const labels = labelText(metric.labels, point.kind === "summary" ? "quantile" : "");
  if (!claimSeries(state, name, labels)) return;
  switch (point.kind) {
    case "counter":
      family.body += `${name}${braced(labels)} ${formatValue(point.total)}\n`;
      break;
    case "gauge":
      family.body += `${name}${braced(labels)} ${formatValue(point.value)}\n`;
      break;
    case "set":
      family.body += `${name}${braced(labels)} ${point.count}\n`;
      break;
    case "summary": {
      const sep = labels === "" ? "" : ",";
      let text = "";
      for (const quantile of point.quantiles) {
        text += `${name}{${labels}${sep}quantile="${quantile.q}"} ${formatValue(quantile.value)}\n`;
      }
      text += `${name}_sum${braced(labels)} ${formatValue(point.totalSum)}\n`;
      text += `${name}_count${braced(labels)} ${formatValue(point.totalCount)}\n`;
      family.body += text;
      break;
    }
  }
}

/**
 * Returns the family named like `want`, creating it from `want`, or `undefined` when the name belongs to
 * another type, to a reserved family, or (for a summary) when `_sum`/`_count` are another family's.
 */
function familyFor(
  state: RenderState,
  want: Omit<Family, "body">,
  order: Family[],
): Family | undefined {
  const { name, type } = want;
  const existing = state.families.get(name);
  if (existing !== undefined) {
    return existing.type === type && existing.reserved === want.reserved ? existing : undefined;
  }
  const samples = type === "summary" ? [name, `${name}_sum`, `${name}_count`] : [name];
  for (const sample of samples) {
    if (state.owners.has(sample)) return undefined;
  }
  for (const sample of samples) state.owners.set(sample, name);
  const family: Family = { ...want, body: "" };
  state.families.set(name, family);
  order.push(family);
  return family;
}

function claimSeries(state: RenderState, name: string, labels: string): boolean {
  const id = `${name}{${labels}}`;
  if (state.series.has(id)) {
    state.duplicates++;
    return false;
  }
  state.series.add(id);
  return true;
}

/**
 * Renders labels as `a="1",b="2"` (no braces): names sanitised, first of any names that sanitise alike
 * kept, sorted by the sanitised name so equal sets render equally, `reserved` renamed `exported_…`.
 */
function labelText(labels: Labels, reserved: string): string {
  const pairs = prometheusLabelPairs(labels, reserved);
  let text = "";
  for (let i = 0; i < pairs.length; i++) {
    const [name, value] = pairs[i]!;
    text += `${i === 0 ? "" : ","}${name}="${escape(value, LABEL_VALUE_ESCAPE_REGEXP)}"`;
  }
  return text;
}

function braced(labels: string): string {
  return labels === "" ? "" : `{${labels}}`;
}

function familyText(family: Family): string {
  return `# HELP ${family.name} ${
    escape(family.help, HELP_ESCAPE_REGEXP)
  }\n# TYPE ${family.name} ${family.type}\n` +
    family.body;
}

function escape(text: string, pattern: RegExp): string {
  pattern.lastIndex = 0;
  return pattern.test(text) ? text.replace(pattern, replaceEscape) : text;
}

function replaceEscape(char: string): string {
  return ESCAPES[char] ?? char;
}

/** Formats a sample value the way Go's `strconv.ParseFloat` reads it back; `NaN`, `+Inf`, `-Inf`. */
function formatValue(value: number): string {
  if (Number.isFinite(value)) return String(value);
  if (Number.isNaN(value)) return "NaN";
  return value > 0 ? "+Inf" : "-Inf";
}
