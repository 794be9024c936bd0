/**
 * Byte sizes as written in config: `"512KiB"`, `"4MiB"`, `"1GiB"`, `"100B"` or an integer of bytes.
 *
 * @module
 */

/** Bytes per unit, largest first so {@link formatSize} picks the coarsest exact unit. */
const UNIT_BYTES: Readonly<Record<string, number>> = {
  TiB: 1024 ** 4,
  GiB: 1024 ** 3,
  MiB: 1024 ** 2,
  KiB: 1024,
  B: 1,
};
const SIZE_REGEXP = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB)$/;

/**
 * Parses a size: an integer of bytes, or a number and a binary unit (`B`, `KiB`, `MiB`, `GiB`, `TiB`).
 *
 * Decimal units (`MB`) are refused rather than guessed at: `1MB` is 10^6 to some and 2^20 to others.
 *
 * @param value The size from TOML (a string or an integer).
 * @returns The size in whole bytes (rounded down), or `undefined` when the value is not a size.
 * @example
 * ```ts
 * parseSize("4MiB"); // 4194304
 * ```
 */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === "number") return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  const m = SIZE_REGEXP.exec(value.trim());
  if (m === null) return undefined;
  const bytes = Math.floor(Number(m[1]) * (UNIT_BYTES[m[2] ?? ""] ?? Number.NaN));
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/**
 * Formats bytes in the coarsest binary unit that represents them exactly.
 *
 * @param bytes The size in bytes.
 * @returns The text, e.g. `"4MiB"` for 4194304 or `"1000B"` for 1000.
 */
export function formatSize(bytes: number): string {
  for (const unit of ["TiB", "GiB", "MiB", "KiB"]) {
    const size = UNIT_BYTES[unit] ?? 1;
    if (bytes !== 0 && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}B`;
}
