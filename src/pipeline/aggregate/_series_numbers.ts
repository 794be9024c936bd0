/**
 * Numbers for the series one thread has seen: the aggregator files each window's states by them, and the
 * worker's namer names each number once to the main thread.
 *
 * A window used to file its states in a map of its own, each state wrapped with its key, name, labels and
 * kind: 140 bytes a series and window before the state itself (68 for the map's entry, 72 for the wrapper),
 * and at the hand-over two windows are alive at once. Numbered once for the thread's life, a window needs a
 * number and a position (about 20 bytes), and the namer no longer keeps a map of its own.
 *
 * @module
 */

import type { Labels, SampleKind } from "../../model/sample.ts";
import { SeriesMap } from "./_series_map.ts";

/** The next generation's stamp, for every `SeriesNumbers` of the thread; 0 is a memo nobody wrote. */
let nextStamp = 1;

/**
 * The series seen, by number. Numbers are given in the order series are first seen, from 0; past a bound
 * (series come and go) the owner starts a new generation that keeps only the series still in use.
 *
 * @example
 * ```ts
 * const numbers = new SeriesNumbers();
 * const n = numbers.find("api.hits", "counter"); // -1: not seen yet
 * const m = numbers.add("api.hits", "api.hits", [], "counter"); // 0
 * numbers.name(m); // "api.hits"
 * ```
 */
export class SeriesNumbers {
  /** The number of each series, by key and kind (the kind of a number is in `#kinds`). */
  #byKey = this.#emptyMap();
  #keys: string[] = [];
  #names: string[] = [];
  #labels: Labels[] = [];
  #kinds: SampleKind[] = [];
  #generation = 1;
  #stamp = nextStamp++;

  /** The generation: it changes whenever the numbers start over. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * What a sample's memo (`Sample.memo`) holds beside a number of this generation: unique to this
   * instance and generation in the thread, so a memo written by another aggregator, or before the numbers
   * started over, never passes for one of these numbers.
   */
  get stamp(): number {
    return this.#stamp;
  }

  /** How many numbers were given in this generation. */
  get size(): number {
    return this.#kinds.length;
  }

  /**
   * Finds the number of a series.
   *
   * @param key The series key.
   * @param kind The kind.
   * @returns The number, or -1 when the series has none.
   */
  find(key: string, kind: SampleKind): number {
    return this.#byKey.get(key, kind) ?? -1;
  }

  /**
   * Whether `n` is the number of the series of `key` and `kind`: the check on a number a memo carried.
   *
   * @param n A number, possibly not one given (a memo cloned from another thread).
   * @param key The series key.
   * @param kind The kind.
   * @returns True when `n` was given to that series in this generation.
   */
  holds(n: number, key: string, kind: SampleKind): boolean {
    return n >= 0 && n < this.#kinds.length && this.#keys[n] === key && this.#kinds[n] === kind;
  }

  /**
   * Numbers a series that has no number yet ({@link SeriesNumbers.find} said -1).
   *
   * @param key The series key.
   * @param name The metric name.
   * @param labels The labels.
   * @param kind The kind.
   * @returns Its number.
   */
  add(key: string, name: string, labels: Labels, kind: SampleKind): number {
    const n = this.#kinds.length;
    this.#byKey.add(key, kind, n);
    this.#keys.push(key);
    this.#names.push(name);
    this.#labels.push(labels);
    this.#kinds.push(kind);
    return n;
  }

  /**
   * The key of a number.
   *
   * @param n The number.
   * @returns The key.
   */
  key(n: number): string {
    return this.#keys[n]!;
  }

  /**
   * The metric name of a number.
   *
   * @param n The number.
   * @returns The name.
   */
  name(n: number): string {
    return this.#names[n]!;
  }

  /**
   * The labels of a number.
   *
   * @param n The number.
   * @returns The labels.
   */
  labels(n: number): Labels {
    return this.#labels[n]!;
  }

  /**
   * The kind of a number.
   *
   * @param n The number.
   * @returns The kind.
   */
  kind(n: number): SampleKind {
    return this.#kinds[n]!;
  }

  /**
   * Starts a new generation that numbers only the series of `keep`, from 0 in that order.
   *
   * @param keep The numbers (of the current generation) still in use; no repeats.
   * @returns The new number of each old one, -1 for those not kept.
   */
  renew(keep: readonly number[]): Int32Array {
    const keys = this.#keys;
    const names = this.#names;
    const labels = this.#labels;
    const kinds = this.#kinds;
    const renumbered = new Int32Array(kinds.length).fill(-1);
    this.#byKey = this.#emptyMap();
    this.#keys = [];
    this.#names = [];
    this.#labels = [];
    this.#kinds = [];
    this.#generation++;
    this.#stamp = nextStamp++;
    for (const n of keep) renumbered[n] = this.add(keys[n]!, names[n]!, labels[n]!, kinds[n]!);
    return renumbered;
  }

  /** An empty map of numbers by key and kind, reading each number's kind from the current generation. */
  #emptyMap(): SeriesMap<number> {
    return new SeriesMap<number>((n) => this.#kinds[n]!);
  }
}
