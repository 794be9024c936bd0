/**
 * Picks and reads the types.db text the `collectd` format is built with. This is the I/O half of
 * types.db support: it runs on the main thread (config resolution), and only the resulting text crosses
 * to the workers, so the format itself stays a pure function of its options and bytes.
 *
 * @module
 */

import { existsSync, readFileSync } from "node:fs";
import { BUILTIN_TYPES_DB } from "./_types_db_builtin.ts";

/** Where Debian's and most distributions' collectd packages install the types table. */
export const SYSTEM_TYPES_DB_PATH = "/usr/share/collectd/types.db";

/** Options of {@link defaultTypesDb}. */
export interface DefaultTypesDbOptions {
  /** The system file tried when no paths are given; {@link SYSTEM_TYPES_DB_PATH} by default. */
  readonly systemPath?: string;
}

/**
 * Returns the types.db text to use: the given files concatenated in order (later definitions win),
 * else the system's `/usr/share/collectd/types.db` when it exists, else tally's built-in table.
 *
 * @param paths The configured `types_db` files; empty or absent for the default.
 * @param options Where the system file is (tests point it elsewhere).
 * @returns The types.db text.
 * @throws {Error} When a configured file cannot be read (the cause says why).
 * @example
 * ```ts
 * const typesDb = defaultTypesDb(config.types_db);
 * const parse = createCollectdFormat({ typesDb });
 * ```
 */
export function defaultTypesDb(paths: readonly string[] = [], options: DefaultTypesDbOptions = {}): string {
  if (paths.length > 0) {
    const texts: string[] = [];
    for (const path of paths) {
      try {
        texts.push(readFileSync(path, "utf8"));
      } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new Error(`Cannot read types.db file "${path}": ${reason}`, { cause });
      }
    }
    // A newline between files, so a file without a final newline cannot glue its last line to the next.
    return texts.join("\n");
  }
  const systemPath = options.systemPath ?? SYSTEM_TYPES_DB_PATH;
  if (existsSync(systemPath)) {
    try {
      return readFileSync(systemPath, "utf8");
    } catch {
      // Present but unreadable (permissions): the built-in table still lets common types through.
    }
  }
  return BUILTIN_TYPES_DB;
}
