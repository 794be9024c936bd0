import type { Labels } from "./sample.ts";

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
