import type { Labels, SampleKind } from "./sample.ts";

/**
 * Builds the identity of a series from its name and sorted labels.
 *
 * The separators are bytes that never appear in a valid name or label (`\x00`, `\x01`, `\x02`), so two
 * different series can never produce the same key.
 *
 * @param name The metric name.
 * @param labels The labels, already sorted by name.
 * @returns The series key.
 * @example
 * ```ts
 * seriesKey("api.hits", [["env", "prod"]]); // "api.hits\x00env\x01prod"
 * ```
 */
export function seriesKey(name: string, labels: Labels): string {
  let key = name;
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    key += (i === 0 ? "\x00" : "\x02") + label[0] + "\x01" + label[1];
  }
  return key;
}

/**
 * Builds the identity of a series *and kind*: what the aggregation and the store tell series apart by. A
 * name used both as a counter and a timer (Etsy setups keep a namespace per type) is two series, one per
 * kind, and neither drops the other's samples.
 *
 * The kind comes first and ends at the first `\x00`, which no kind name holds, so two different pairs can
 * never produce the same identity.
 *
 * @param key The series key, from {@link seriesKey}.
 * @param kind The sample kind.
 * @returns The identity.
 * @example
 * ```ts
 * seriesKindKey(seriesKey("api.hits", []), "timer"); // "timer\x00api.hits"
 * ```
 */
export function seriesKindKey(key: string, kind: SampleKind): string {
  return kind + "\x00" + key;
}
