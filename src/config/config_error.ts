/**
 * The one error type of config loading: unreadable files, TOML syntax errors, schema violations and
 * cross-checks (port conflicts, an unauthenticated public HTTP endpoint) all end up here.
 *
 * @module
 */

/** A segment of a key path: a table key or an array index. */
export type PathSegment = string | number;

/** One problem found in a config. */
export interface ConfigIssue {
  /** The key path inside the config, e.g. `["inputs", "statsd", "listen", 0]`; empty for the whole file. */
  readonly path: readonly PathSegment[];
  /** The path as shown to the user: dotted keys, `[i]` indices, or the flag it came from (`--statsd[0]`). */
  readonly where: string;
  /** What was wrong, e.g. `expected a duration like "10s", found "10 seconds"`. */
  readonly text: string;
}

/** Options for {@link ConfigError}. */
export interface ConfigErrorOptions {
  /** The config file, when there is one. */
  readonly file?: string | undefined;
  /** The problems, in document order. */
  readonly issues?: readonly ConfigIssue[];
  /** The underlying error (a TOML syntax error, an `ENOENT`, …). */
  readonly cause?: unknown;
}

/**
 * A config that cannot be used. The message names the file, each key path, what was expected and what
 * was found, one problem per line:
 *
 * `Invalid config "/etc/tally.toml" at inputs.statsd.listen[0]: expected an address like "udp:HOST:PORT", found "foo"`
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  /** The config file, when there is one. */
  readonly file: string | undefined;
  /** The problems found; empty when the file could not be read or parsed. */
  readonly issues: readonly ConfigIssue[];

  /**
   * Creates the error.
   *
   * @param message The complete message (see {@link ConfigError.fromIssues} for the usual one).
   * @param options The file, the issues and the cause.
   */
  constructor(message: string, options: ConfigErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.file = options.file;
    this.issues = options.issues ?? [];
  }

  /**
   * Creates the error for a list of issues: one line for one issue, a header and one indented line per
   * issue for several.
   *
   * @param file The config file, or `undefined` when there is none.
   * @param issues The problems; at least one.
   * @returns The error.
   */
  static fromIssues(file: string | undefined, issues: readonly ConfigIssue[]): ConfigError {
    const subject = file === undefined ? "Invalid config" : `Invalid config "${file}"`;
    const [only] = issues;
    const message = issues.length === 1 && only !== undefined
      ? `${subject} ${at(only)}: ${only.text}`
      : `${subject}: ${issues.length} problems\n${issues.map((i) => `  ${at(i)}: ${i.text}`).join("\n")}`;
    return new ConfigError(message, { file, issues });
  }
}

/**
 * Renders a key path for a message: dotted keys and `[i]` indices, keys that are not bare quoted
 * (`inputs.web.scripts[0].command`).
 *
 * @param path The key path.
 * @param prefix What the path continues (a flag such as `--statsd`); empty by default.
 * @returns The path as shown to the user.
 */
export function keyPath(path: readonly PathSegment[], prefix = ""): string {
  let out = prefix;
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else {out += `${out === "" ? "" : "."}${
        BARE_KEY_REGEXP.test(segment) ? segment : JSON.stringify(segment)
      }`;}
  }
  return out;
}

/** A TOML key that needs no quotes. */
export const BARE_KEY_REGEXP = /^[A-Za-z0-9_-]+$/;

function at(issue: ConfigIssue): string {
  return issue.where === "" ? "at the top level" : `at ${issue.where}`;
}
