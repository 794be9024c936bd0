/**
 * Puts one Etsy statsd flush and one tally window side by side, metric by metric, and lists every
 * difference beyond the stated tolerances; also compares, line by line, how many bad values each counted.
 *
 * A tally series is matched to the Etsy key Etsy would build for the same line: the name, then each tag as
 * `;k=v` (DogStatsD `k:v` with its first `:` made `=`, its first `;` made `_`) in the order tally holds them
 * (sorted; the streams send tags sorted), then Etsy's key sanitising. Types: Etsy's counters, gauges, sets
 * and timers against tally's counter, gauge, set and timer series; tally's histograms and distributions
 * have no Etsy type, so they are listed apart (Etsy counts `h`/`d` lines as counters).
 *
 * Tolerances:
 * - counter values, gauge values, timer count, sum and mean: relative 1e-9 (floating-point sums in another
 *   order; `v / rate` against `v * (1 / rate)`);
 * - set counts, timer lower and upper: exact;
 * - timer percentiles: exact while the window kept at most `exactLimit` observations, else relative 1 % (tally
 *   switches to its DDSketch, whose relative error is below 1 %).
 *
 * @module
 */
import type { Metric } from "../../src/model/metric.ts";
import type { BadReason, Labels } from "../../src/model/sample.ts";
import type { EtsyFlush } from "../harness/etsy_statsd.ts";

/** One difference between the two servers. */
export type Difference =
  | {
    /** A metric field differs, or the metric exists on one side only (`field: "present"`). */
    readonly kind: "metric";
    /** `counter`, `gauge`, `set`, `timer`, or tally's `histogram`/`distribution`. */
    readonly type: string;
    /** The Etsy key (for tally series, the key Etsy would give them). */
    readonly key: string;
    /** The field: `value`, `count`, `sum`, `mean`, `lower`, `upper`, `p50`… or `present`. */
    readonly field: string;
    /** Etsy's value; `undefined` when Etsy has no such metric. */
    readonly etsy: number | undefined;
    /** tally's value; `undefined` when tally has no such metric. */
    readonly tally: number | undefined;
  }
  | {
    /** One line (every copy of it sent) was counted bad a different number of times. */
    readonly kind: "bad";
    /** The line. */
    readonly line: string;
    /** How many bad values Etsy logged for it, over every copy sent. */
    readonly etsy: number;
    /** The reasons tally counted for one copy of it. */
    readonly tally: readonly BadReason[];
    /** How many copies were sent. */
    readonly copies: number;
  };

/** One comparable metric: its type, Etsy key and fields. */
interface Entry {
  readonly type: string;
  readonly key: string;
  readonly fields: Readonly<Record<string, number>>;
}

/** Etsy's own metrics, which tally has no counterpart for. */
const ETSY_SELF_PREFIX = "statsd.";
const WHITESPACE_REGEXP = /\s+/g;
const SLASH_REGEXP = /\//g;
const UNSAFE_REGEXP = /[^a-zA-Z_\-0-9.;=]/g;

/**
 * The key Etsy statsd 0.9.0 builds for a line with this name and these DogStatsD tags (`stats.js`).
 *
 * @param name The metric name.
 * @param labels The tags, as tally holds them.
 * @returns The sanitised key, e.g. `api.hits;env=prod`.
 */
export function etsyKey(name: string, labels: Labels): string {
  let key = name;
  if (labels.length > 0) {
    const tags = labels.map(([k, value]) => (value === "" ? k : `${k}:${value}`));
    key += ";" + tags.map((tag) => tag.replace(";", "_").replace(":", "=")).join(";");
  }
  return sanitise(key);
}

/**
 * The key Etsy statsd 0.9.0 files a raw line under (`stats.js`: tags after `|#`, the name up to the first
 * `:`, then its key sanitising), whatever type or value the line has.
 *
 * @param line The line as sent.
 * @returns The key.
 */
export function etsyLineKey(line: string): string {
  const bits = line.split("|#");
  const tags = bits.length > 1 && bits[1]!.length > 0 ? bits[1]!.split(",") : [];
  let key = bits[0]!.split(":")[0]!;
  if (tags.length > 0) key += ";" + tags.map((tag) => tag.replace(";", "_").replace(":", "=")).join(";");
  return sanitise(key);
}

function sanitise(key: string): string {
  return key.replace(WHITESPACE_REGEXP, "_").replace(SLASH_REGEXP, "-").replace(UNSAFE_REGEXP, "");
}

/** Etsy's flush as comparable entries, its own `statsd.*` metrics left out. */
function etsyEntries(flush: EtsyFlush, percentiles: readonly number[]): Map<string, Entry> {
  const out = new Map<string, Entry>();
  const add = (type: string, key: string, fields: Record<string, number>): void => {
    if (!key.startsWith(ETSY_SELF_PREFIX)) out.set(`${type} ${key}`, { type, key, fields });
  };
  for (const [key, value] of Object.entries(flush.counters)) add("counter", key, { value });
  for (const [key, value] of Object.entries(flush.gauges)) add("gauge", key, { value });
  for (const [key, members] of Object.entries(flush.sets)) add("set", key, { count: members.length });
  for (const [key, data] of Object.entries(flush.timerData)) {
    const fields: Record<string, number> = {
      count: data["count"] ?? NaN,
      sum: data["sum"] ?? NaN,
      mean: data["mean"] ?? NaN,
      lower: data["lower"] ?? NaN,
      upper: data["upper"] ?? NaN,
    };
    for (const p of percentiles) {
      const value = data[`upper_${String(p).replace(".", "_")}`];
      if (value !== undefined) fields[`p${p}`] = value;
    }
    add("timer", key, fields);
  }
  return out;
}

/** tally's window as comparable entries. */
function tallyEntries(metrics: readonly Metric[]): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const metric of metrics) {
    const key = etsyKey(metric.name, metric.labels);
    const point = metric.point;
    let fields: Record<string, number>;
    switch (point.kind) {
      case "counter":
        fields = { value: point.delta };
        break;
      case "gauge":
        fields = { value: point.value };
        break;
      case "set":
        fields = { count: point.count };
        break;
      case "summary":
        fields = { count: point.count, sum: point.sum, mean: point.mean, lower: point.min, upper: point.max };
        for (const q of point.quantiles) fields[`p${Math.round(q.q * 10000) / 100}`] = q.value;
        break;
    }
    const type = metric.kind;
    const id = `${type} ${key}`;
    if (out.has(id)) throw new Error(`Cannot compare: two tally series map to Etsy key "${id}"`);
    out.set(id, { type, key, fields });
  }
  return out;
}

/** Whether two values agree within the tolerance of their field. */
function agree(type: string, field: string, a: number, b: number, sketched: boolean): boolean {
  if (Object.is(a, b) || a === b) return true;
  if (type === "set" || field === "lower" || field === "upper") return false;
  const relative = field.startsWith("p") && sketched ? 0.01 : 1e-9;
  return Math.abs(a - b) <= relative * Math.max(Math.abs(a), Math.abs(b), 1);
}

/**
 * Lists every metric difference between an Etsy flush and a tally window.
 *
 * @param flush Etsy's flush.
 * @param metrics tally's window.
 * @param options The percentiles both computed and tally's exact limit.
 * @returns The differences, sorted by type and key.
 */
export function compareMetrics(
  flush: EtsyFlush,
  metrics: readonly Metric[],
  options: { readonly percentiles: readonly number[]; readonly exactLimit: number },
): Difference[] {
  const etsy = etsyEntries(flush, options.percentiles);
  const tally = tallyEntries(metrics);
  const out: Difference[] = [];
  for (const id of [...new Set([...etsy.keys(), ...tally.keys()])].sort()) {
    const e = etsy.get(id);
    const t = tally.get(id);
    const type = (e ?? t)!.type;
    const key = (e ?? t)!.key;
    if (e === undefined || t === undefined) {
      const value = (entry: Entry | undefined): number | undefined =>
        entry === undefined ? undefined : Object.values(entry.fields)[0];
      out.push({ kind: "metric", type, key, field: "present", etsy: value(e), tally: value(t) });
      continue;
    }
    const sketched = (flush.timers[key]?.length ?? 0) > options.exactLimit;
    for (const [field, ev] of Object.entries(e.fields)) {
      const tv = t.fields[field];
      if (tv === undefined || !agree(type, field, ev, tv, sketched)) {
        out.push({ kind: "metric", type, key, field, etsy: ev, tally: tv });
      }
    }
  }
  return out;
}

/**
 * Lists the lines each server counted bad a different number of times.
 *
 * @param etsyBad Line → how many bad values Etsy logged for it (every copy).
 * @param tallyBad Line → the reasons tally counts for one copy.
 * @param copies Line → how many copies were sent.
 * @returns The differences, in line order.
 */
export function compareBadLines(
  etsyBad: ReadonlyMap<string, number>,
  tallyBad: ReadonlyMap<string, readonly BadReason[]>,
  copies: ReadonlyMap<string, number>,
): Difference[] {
  const out: Difference[] = [];
  for (const [line, n] of copies) {
    const e = etsyBad.get(line) ?? 0;
    const t = tallyBad.get(line) ?? [];
    if (e !== t.length * n) out.push({ kind: "bad", line, etsy: e, tally: t, copies: n });
  }
  return out;
}
