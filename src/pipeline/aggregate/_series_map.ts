/**
 * A map of series by key and kind that keeps no string of its own per series.
 *
 * A series is a key and a kind, and filing it under `seriesKindKey(key, kind)` costs a second string per
 * series (about 60 bytes of heap and malloc at 100 000 series: 6 MiB the main thread kept for as long as
 * the series lived, and a JavaScriptCore heap grows to about twice what it keeps). Nearly every key has one
 * kind, so the map files each key's first kind under the key itself, which the series holds anyway, and
 * only a key's further kinds (rare) under `seriesKindKey`.
 *
 * @module
 */

import type { SampleKind } from "../../model/sample.ts";
import { seriesKindKey } from "../../model/series_key.ts";

/**
 * Values by series key and kind. Each value knows its kind (`kindOf`), which a lookup compares.
 *
 * @example
 * ```ts
 * const map = new SeriesMap<{ kind: SampleKind }>((v) => v.kind);
 * map.set("api.hits", "counter", { kind: "counter" });
 * map.get("api.hits", "timer"); // undefined
 * ```
 */
export class SeriesMap<V> {
  readonly #kindOf: (value: V) => SampleKind;
  /** Each key's value of the first kind filed while the key had none. */
  readonly #first = new Map<string, V>();
  /** The values of keys' further kinds, by `seriesKindKey`. */
  readonly #others = new Map<string, V>();

  /**
   * Creates an empty map.
   *
   * @param kindOf Reads a value's kind.
   */
  constructor(kindOf: (value: V) => SampleKind) {
    this.#kindOf = kindOf;
  }

  /**
   * Finds the value of a series.
   *
   * @param key The series key.
   * @param kind The kind.
   * @returns The value, or `undefined`.
   */
  get(key: string, kind: SampleKind): V | undefined {
    const first = this.#first.get(key);
    if (first !== undefined && this.#kindOf(first) === kind) return first;
    return this.#others.size === 0 ? undefined : this.#others.get(seriesKindKey(key, kind));
  }

  /**
   * Files the value of a series that has none yet (a series already filed gets a second entry).
   *
   * @param key The series key.
   * @param kind The kind, the value's own.
   * @param value The value.
   */
  add(key: string, kind: SampleKind, value: V): void {
    if (!this.#first.has(key)) this.#first.set(key, value);
    else this.#others.set(seriesKindKey(key, kind), value);
  }

  /**
   * Removes the value of a series.
   *
   * @param key The series key.
   * @param kind The kind.
   * @returns Whether there was one.
   */
  delete(key: string, kind: SampleKind): boolean {
    const first = this.#first.get(key);
    if (first !== undefined && this.#kindOf(first) === kind) return this.#first.delete(key);
    return this.#others.size > 0 && this.#others.delete(seriesKindKey(key, kind));
  }

  /**
   * The values, each key's first kind in the order filed, then the further kinds.
   *
   * @returns An iterator over the values.
   */
  *values(): IterableIterator<V> {
    yield* this.#first.values();
    yield* this.#others.values();
  }

  /** How many values are filed. */
  get size(): number {
    return this.#first.size + this.#others.size;
  }
}
