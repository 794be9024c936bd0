/**
 * What an output's encoder derives once per series and reuses at every flush (a line-protocol prefix,
 * protobuf label bytes), kept by sample kind and series key: a name used as several kinds is several
 * series. A lookup concatenates no key.
 *
 * @module
 */

import type { SampleKind } from "../model/sample.ts";

/** Identifies a series: a `Metric` or anything with its kind and key. */
export interface SeriesId {
  /** The sample kind. */
  readonly kind: SampleKind;
  /** The series key (name and labels). */
  readonly key: string;
}

/**
 * A cache by series. A resource with no lifecycle; the encoder that owns it bounds it (by emptying it).
 *
 * @example
 * ```ts
 * const prefixes = new SeriesCache<string>();
 * const prefix = prefixes.get(metric) ?? build(metric);
 * prefixes.set(metric, prefix);
 * ```
 */
export class SeriesCache<T> {
  readonly #byKind = new Map<SampleKind, Map<string, T>>();

  /**
   * The value kept for a series.
   *
   * @param series The series.
   * @returns The value, or `undefined`.
   */
  get(series: SeriesId): T | undefined {
    return this.#byKind.get(series.kind)?.get(series.key);
  }

  /**
   * Keeps a value for a series.
   *
   * @param series The series.
   * @param value The value.
   */
  set(series: SeriesId, value: T): void {
    let byKey = this.#byKind.get(series.kind);
    if (byKey === undefined) {
      byKey = new Map();
      this.#byKind.set(series.kind, byKey);
    }
    byKey.set(series.key, value);
  }

  /** Forgets every series. */
  clear(): void {
    this.#byKind.clear();
  }
}
