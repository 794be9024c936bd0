/**
 * Picks the runtime facade for the runtime we are running on.
 *
 * @module
 */

import type { Runtime } from "./types.ts";
import { bunRuntime } from "./bun.ts";
import { denoRuntime } from "./deno.ts";

/**
 * Returns the facade for the current runtime: Bun when `globalThis.Bun` exists, else Deno when
 * `globalThis.Deno` exists.
 *
 * @returns The runtime facade.
 * @throws {Error} When running on neither (e.g. plain Node).
 * @example
 * ```ts
 * const runtime = detectRuntime();
 * const server = await runtime.serve(app.fetch, { hostname: "127.0.0.1", port: 0 });
 * ```
 */
export function detectRuntime(): Runtime {
  if ("Bun" in globalThis) return bunRuntime;
  if ("Deno" in globalThis) return denoRuntime;
  throw new Error(
    'Cannot detect the runtime: tally runs on Bun or Deno, found neither "Bun" nor "Deno" global',
  );
}
