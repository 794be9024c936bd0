/**
 * collectd's `AuthFile`: the users and passwords a collectd listener accepts signatures and encryption
 * from, re-read when the file changes.
 *
 * Format (collectd `src/utils_fbhash.c`, shared with collectd so one file serves both): one
 * `user: password` per line. Leading whitespace is skipped; empty lines and lines starting with `#` are
 * ignored; the user is everything before the first colon (trailing spaces included, as in collectd); the
 * password is everything after it with leading whitespace skipped (trailing spaces kept, `\r` removed).
 * Lines without a colon or without a password are ignored; when a user appears twice the first line wins.
 * Names and passwords are bytes, compared exactly.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { readFileSync, statSync } from "node:fs";

/** How often, at most, the file's status is looked at on packet arrival. */
const CHECK_EVERY_MS = 1_000;
const LEADING_WHITESPACE_REGEXP = /^[ \t\v\f\r\n]+/;

/** Options of {@link AuthFile}. */
export interface AuthFileOptions {
  /** The clock, in ms; `Date.now` by default (tests inject their own). */
  readonly now?: () => number;
  /** The least time between two looks at the file's status; 1 s by default. */
  readonly checkEveryMs?: number;
}

/** What {@link AuthFile.users} found when it looked at the file. */
export type AuthFileChange =
  | { readonly kind: "unchanged" }
  | { readonly kind: "reloaded"; readonly users: number }
  | { readonly kind: "failed"; readonly error: Error };

/**
 * The users of an auth file, kept current: a resource tied to one path.
 *
 * @example
 * ```ts
 * const auth = new AuthFile("/etc/tally/collectd.auth"); // throws when unreadable
 * auth.users().get("alice"); // "secret"; the file is re-read when its mtime, size or inode changed
 * ```
 */
export class AuthFile {
  readonly #path: string;
  readonly #now: () => number;
  readonly #checkEveryMs: number;
  #users: ReadonlyMap<string, string>;
  #stamp: string;
  #checkedAt: number;
  #last: AuthFileChange = { kind: "unchanged" };

  /**
   * Reads the file for the first time.
   *
   * @param path The auth file.
   * @param options The clock and the check interval.
   * @throws {Error} `Cannot read collectd auth_file "/etc/tally/collectd.auth": no such file`, with the
   *   system error as `cause`.
   */
  constructor(path: string, options: AuthFileOptions = {}) {
    this.#path = path;
    this.#now = options.now ?? Date.now;
    this.#checkEveryMs = options.checkEveryMs ?? CHECK_EVERY_MS;
    const { users, stamp } = this.#read();
    this.#users = users;
    this.#stamp = stamp;
    this.#checkedAt = this.#now();
  }

  /** The file's path. */
  get path(): string {
    return this.#path;
  }

  /**
   * Returns the current users, first re-reading the file when at least the check interval has passed
   * since the last look and its modification time, size or inode changed. When the file cannot be read
   * (removed, half-written, permissions) the previous users stay; see {@link lastChange}.
   *
   * @returns The users and their passwords.
   */
  users(): ReadonlyMap<string, string> {
    const now = this.#now();
    if (now - this.#checkedAt < this.#checkEveryMs) {
      this.#last = UNCHANGED;
      return this.#users;
    }
    this.#checkedAt = now;
    this.#last = this.#refresh();
    return this.#users;
  }

  /**
   * What the last call to {@link users} found: nothing new, a reload, or a failure to read.
   *
   * @returns The change.
   */
  lastChange(): AuthFileChange {
    return this.#last;
  }

  /**
   * Parses the text of an auth file.
   *
   * @param text The file's content, decoded byte for byte (latin1), so names and passwords stay bytes.
   * @returns The users and their passwords.
   * @example
   * ```ts
   * AuthFile.parse("# users\nalice: secret\nbob:  two words \n"); // Map { alice → "secret", bob → "two words " }
   * ```
   */
  static parse(text: string): Map<string, string> {
    const users = new Map<string, string>();
    for (const raw of text.split("\n")) {
      const line = raw.replace(/[\r\n]+$/, "").replace(LEADING_WHITESPACE_REGEXP, "");
      if (line === "" || line.startsWith("#")) continue;
      const colon = line.indexOf(":");
      if (colon < 0) continue;
      const user = line.slice(0, colon);
      const password = line.slice(colon + 1).replace(LEADING_WHITESPACE_REGEXP, "");
      if (password === "" || users.has(user)) continue;
      users.set(user, password);
    }
    return users;
  }

  #refresh(): AuthFileChange {
    let stamp: string;
    try {
      stamp = stampOf(statSync(this.#path));
    } catch (error) {
      return { kind: "failed", error: readError(this.#path, error) };
    }
    if (stamp === this.#stamp) return UNCHANGED;
    try {
      const read = this.#read();
      this.#users = read.users;
      this.#stamp = read.stamp;
      return { kind: "reloaded", users: read.users.size };
    } catch (error) {
      return { kind: "failed", error: error as Error };
    }
  }

  #read(): { users: Map<string, string>; stamp: string } {
    try {
      // Status first: a change landing between the two reads is then seen at the next check.
      const stamp = stampOf(statSync(this.#path));
      const text = Buffer.from(readFileSync(this.#path)).toString("latin1");
      return { users: AuthFile.parse(text), stamp };
    } catch (error) {
      throw readError(this.#path, error);
    }
  }
}

const UNCHANGED: AuthFileChange = { kind: "unchanged" };

function stampOf(stat: { readonly mtimeMs: number; readonly size: number; readonly ino: number }): string {
  return `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
}

function readError(path: string, cause: unknown): Error {
  const code = (cause as { code?: unknown } | null)?.code;
  const reason = code === "ENOENT"
    ? "no such file"
    : code === "EACCES" || code === "EPERM"
    ? "permission denied"
    : code === "EISDIR"
    ? "it is a directory"
    : cause instanceof Error
    ? cause.message
    : String(cause);
  return new Error(`Cannot read collectd auth_file ${JSON.stringify(path)}: ${reason}`, { cause });
}
