/**
 * The Prometheus text exposition format 0.0.4 for `GET /metrics`: a pure function from the latest
 * aggregated metrics and tally's own families to the scrape body, written in chunks so that a scrape of
 * many series never holds the whole body (nor a string for each of its lines) at once.
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
const SKIPPED_SERIES_HELP = "Series left out of this /metrics render: a name that sanitised to a family of " +
  "another type, or a repeated series";

/** How many characters a chunk of the body gathers before it is handed on (64 KiB of ASCII). */
const CHUNK_CHARS = 65_536;

interface Family {
  readonly name: string;
  readonly type: PrometheusType;
  /** A self family's help; a user family's is made from its first series when it is written. */
  readonly help: string;
  /** Claimed by tally (self families, the skipped-series family): user metrics never join it. */
  readonly reserved: boolean;
  /** The rendered labels of its first series (`undefined` before one). */
  first: string | undefined;
  /** The rendered labels of all its series, from its second on, to drop duplicates. */
  seen: Set<string> | undefined;
  /** A self family's lines. */
  body: string;
  /** A user family's place among the user families, its series count, and where they start in the order. */
  index: number;
  count: number;
  start: number;
}

interface RenderState {
  /** Families by their Prometheus name. */
  readonly families: Map<string, Family>;
  /** The other sample names the summaries write (a summary `x` writes `x`, `x_sum` and `x_count`). */
  readonly suffixes: Set<string>;
  conflicts: number;
  duplicates: number;
}

/** What the first pass over the metrics decided: the families, and each series' place and labels. */
interface RenderPlan {
  readonly state: RenderState;
  readonly userFamilies: readonly Family[];
  readonly selfFamilies: readonly Family[];
  /** The indexes of the series written, family by family, each family's in input order. */
  readonly order: Int32Array;
  /** Each series' rendered labels (by index into the metrics). */
  readonly labels: readonly string[];
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
  let out = "";
  for (const chunk of prometheusChunks(metrics, self)) out += chunk;
  return out;
}

/**
 * Renders what {@link renderPrometheus} renders, as chunks of about 64 KiB handed out one at a time: the
 * families and labels are settled in a first pass (a number and a string per series), then each chunk is
 * written when asked for, so a scrape of 100 000 series holds one chunk of text, not the whole body.
 *
 * @param metrics The latest point of each series (held until the last chunk is written).
 * @param self tally's own families.
 * @param chunkChars How many characters a chunk gathers before it is handed out.
 * @returns The chunks, in order; joined, the exposition text.
 */
export function* prometheusChunks(
  metrics: readonly Metric[],
  self: readonly SelfFamily[],
  chunkChars: number = CHUNK_CHARS,
): Generator<string, void, undefined> {
  const plan = planRender(metrics, self);
  const { order, labels } = plan;
  let out = "";
  for (const family of plan.userFamilies) {
    const end = family.start + family.count;
    const first = metrics[order[family.start]!]!;
    out += familyHeader(family.name, `tally ${first.kind} ${first.name}`, family.type);
    for (let k = family.start; k < end; k++) {
      const i = order[k]!;
      out += seriesText(family.name, metrics[i]!.point, labels[i]!);
      if (out.length >= chunkChars) {
        yield out;
        out = "";
      }
    }
  }
  for (const family of plan.selfFamilies) out += familyText(family);
  out += familyHeader(SKIPPED_SERIES_FAMILY, SKIPPED_SERIES_HELP, "gauge") +
    `${SKIPPED_SERIES_FAMILY}{reason="duplicate_series"} ${plan.state.duplicates}\n` +
    `${SKIPPED_SERIES_FAMILY}{reason="name_conflict"} ${plan.state.conflicts}\n`;
  yield out;
}

/** The first pass: every family and its series, the skipped ones counted, nothing written yet. */
function planRender(metrics: readonly Metric[], self: readonly SelfFamily[]): RenderPlan {
  const state: RenderState = { families: new Map(), suffixes: new Set(), conflicts: 0, duplicates: 0 };
  // Claimed first so that no user metric can take this name or a self family's.
  familyFor(state, { name: SKIPPED_SERIES_FAMILY, type: "gauge", help: "", reserved: true }, []);
  const selfFamilies: Family[] = [];
  for (const family of self) addSelfFamily(state, family, selfFamilies);
  const userFamilies: Family[] = [];
  const kinds = kindsByName(metrics);
  const familyOf = new Int32Array(metrics.length).fill(-1);
  const labels: string[] = new Array(metrics.length);
  for (let i = 0; i < metrics.length; i++) {
    const metric = metrics[i]!;
    const family = userFamily(state, metric, kinds.get(metric.name)!, userFamilies);
    if (family === undefined) continue;
    // `quantile` is the summary's own label; a user label of that name is kept as `exported_quantile`,
    // the prefix Prometheus itself uses for clashing labels.
    const text = labelText(metric.labels, metric.point.kind === "summary" ? "quantile" : "");
    if (!claimSeries(state, family, text)) continue;
    familyOf[i] = family.index;
    labels[i] = text;
    family.count++;
  }
  // Each family's series together, in input order: a counting sort by family.
  let next = 0;
  for (const family of userFamilies) {
    family.start = next;
    next += family.count;
  }
  const order = new Int32Array(next);
  const cursor = userFamilies.map((family) => family.start);
  for (let i = 0; i < metrics.length; i++) {
    const f = familyOf[i]!;
    if (f >= 0) order[cursor[f]!++] = i;
  }
  return { state, userFamilies, selfFamilies, order, labels };
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
    if (!claimSeries(state, family, labels)) continue;
    family.body += `${name}${braced(labels)} ${formatValue(series.value)}\n`;
  }
}

function userFamily(
  state: RenderState,
  metric: Metric,
  kinds: KindMask,
  order: Family[],
): Family | undefined {
  const type: PrometheusType = metric.point.kind === "set" || metric.kind === "signed_cumulative"
    ? "gauge"
    : metric.point.kind;
  const name = prometheusFamilyName(metric.name, metric.kind, kinds);
  const family = familyFor(state, { name, type, help: "", reserved: false }, order);
  if (family === undefined) state.conflicts++;
  return family;
}

/** One series' lines: one sample, or a summary's quantiles, `_sum` and `_count`. */
function seriesText(name: string, point: Metric["point"], labels: string): string {
  switch (point.kind) {
    case "counter":
      return `${name}${braced(labels)} ${formatValue(point.total)}\n`;
    case "gauge":
      return `${name}${braced(labels)} ${formatValue(point.value)}\n`;
    case "set":
      return `${name}${braced(labels)} ${point.count}\n`;
    case "summary": {
      const sep = labels === "" ? "" : ",";
      let text = "";
      for (const quantile of point.quantiles) {
        text += `${name}{${labels}${sep}quantile="${quantile.q}"} ${formatValue(quantile.value)}\n`;
      }
      text += `${name}_sum${braced(labels)} ${formatValue(point.totalSum)}\n`;
      return text + `${name}_count${braced(labels)} ${formatValue(point.totalCount)}\n`;
    }
  }
}

/**
 * Returns the family named like `want`, creating it from `want`, or `undefined` when the name belongs to
 * another type, to a reserved family, or (for a summary) when `_sum`/`_count` are another family's.
 */
function familyFor(
  state: RenderState,
  want: Pick<Family, "name" | "type" | "help" | "reserved">,
  order: Family[],
): Family | undefined {
  const { name, type } = want;
  const existing = state.families.get(name);
  if (existing !== undefined) {
    return existing.type === type && existing.reserved === want.reserved ? existing : undefined;
  }
  // Every sample name a family writes is taken: its own name (in `families`) and a summary's two others.
  const { families, suffixes } = state;
  if (suffixes.has(name)) return undefined;
  if (type === "summary") {
    const sum = `${name}_sum`;
    const count = `${name}_count`;
    if (families.has(sum) || families.has(count) || suffixes.has(sum) || suffixes.has(count)) {
      return undefined;
    }
    suffixes.add(sum);
    suffixes.add(count);
  }
  const family: Family = {
    ...want,
    first: undefined,
    seen: undefined,
    body: "",
    index: order.length,
    count: 0,
    start: 0,
  };
  state.families.set(name, family);
  order.push(family);
  return family;
}

/** Whether a family's series with these labels is new (else it is counted as a duplicate). */
function claimSeries(state: RenderState, family: Family, labels: string): boolean {
  if (family.first === undefined) {
    // Most families hold one series: no set for them.
    family.first = labels;
    return true;
  }
  family.seen ??= new Set([family.first]);
  if (family.seen.has(labels)) {
    state.duplicates++;
    return false;
  }
  family.seen.add(labels);
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
  return familyHeader(family.name, family.help, family.type) + family.body;
}

/** A family's `# HELP` and `# TYPE` lines. */
function familyHeader(name: string, help: string, type: PrometheusType): string {
  return `# HELP ${name} ${escape(help, HELP_ESCAPE_REGEXP)}\n# TYPE ${name} ${type}\n`;
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
