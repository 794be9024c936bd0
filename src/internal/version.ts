/**
 * tally's version, for every part that names it: `tally version`, the CLI's and the outputs' User-Agent,
 * the OTLP instrumentation scope.
 *
 * @module
 */

/** tally's version; a test keeps it equal to `package.json`'s. */
export const VERSION = "0.1.0";
