/**
 * Finds a stored metric name from the spelling a user brings: the name as received (`api.requests`), its
 * `/metrics` name (`api_requests_total`, a summary's `_sum`/`_count`) or its Prometheus-sanitised form.
 *
 * @module
 */

import { prometheusMetricName } from "../outputs/prometheus_scrape/prometheus_names.ts";

/** What {@link matchName} found for a name that is not stored as typed. */
export interface NameMatch {
  /** Stored names whose `/metrics` or sanitised spelling is the one asked for. */
  readonly matches: readonly string[];
  /** Other stored names that look alike, for "did you mean"; empty when there are matches. */
  readonly similar: readonly string[];
}

/**
 * The suffixes `/metrics` adds to a stored name: a kind's when one name carries several kinds (`_timer`,
 * see `prometheusFamilyName`), then counters' `_total`, summaries' `_sum` and `_count`.
 */
const EXPOSITION_SUFFIXES = ["", "_timer", "_hist", "_distribution", "_set", "_cumulative"].flatMap((kind) =>
  ["", "_total", "_sum", "_count"].map((sample) => kind + sample)
);

/** The most "did you mean" names offered. */
const MAX_SIMILAR = 5;

/**
 * Matches `wanted` against the stored names by their Prometheus spellings.
 *
 * @param wanted The name the user typed, not stored as such.
 * @param names The stored names (`Store.names()`).
 * @returns The names `wanted` is another spelling of, else up to five look-alikes.
 * @example
 * ```ts
 * matchName("deploys_total", ["deploys", "api.requests"]); // { matches: ["deploys"], similar: [] }
 * ```
 */
export function matchName(wanted: string, names: readonly string[]): NameMatch {
  const matches = names.filter((name) => {
    const exposed = prometheusMetricName(name);
    return EXPOSITION_SUFFIXES.some((suffix) => exposed + suffix === wanted);
  });
  if (matches.length > 0) return { matches, similar: [] };
  const key = comparable(wanted);
  const similar = names
    .map((name) => ({ name, distance: distance(comparable(name), key) }))
    .filter(({ name, distance: d }) => d <= Math.max(2, key.length / 4) || comparable(name).includes(key))
    .sort((a, b) => a.distance - b.distance || a.name.localeCompare(b.name))
    .slice(0, MAX_SIMILAR)
    .map(({ name }) => name);
  return { matches: [], similar };
}

/** A spelling for comparing: sanitised, lower case, without an exposition suffix. */
function comparable(name: string): string {
  return prometheusMetricName(name).toLowerCase().replace(/_(?:total|sum|count)$/, "")
    .replace(/_(?:timer|hist|distribution|set|cumulative)$/, "");
}

/** The Levenshtein distance, on two rows. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}
