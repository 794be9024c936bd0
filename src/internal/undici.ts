/**
 * undici, loaded on first use. It is more than half of tally's bundle (1.4 of 2.3 MB), and a collector
 * that forwards nothing, the default, never sends a request: importing it at start held about 3.5 MiB of
 * heap for nothing (idle `RssAnon` of `tally run`, 18.5 → 15.0 MiB).
 *
 * @module
 */

/** The undici module. */
export type Undici = typeof import("undici/index.js");

let loading: Promise<Undici> | undefined;

/**
 * Loads undici once; later calls share the first load.
 *
 * @returns The undici module.
 */
export function loadUndici(): Promise<Undici> {
  // undici from its index.js: Bun replaces a bare "undici" import with its own partial stub.
  loading ??= import("undici/index.js");
  return loading;
}
