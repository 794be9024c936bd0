/**
 * Looks a user up in `/etc/passwd`, without native code and without NSS (`getpwnam`), which can hang
 * (collectd #229). Users that exist only in LDAP/SSSD are not found: give them as a numeric `uid:gid`.
 *
 * @module
 */

import { readFileSync } from "node:fs";

/** The ids a script runs as. */
export interface UserIds {
  /** The user name as configured. */
  readonly name: string;
  /** The numeric user id. */
  readonly uid: number;
  /** The numeric primary group id. */
  readonly gid: number;
}

const NUMERIC_REGEXP = /^(\d{1,10})(?::(\d{1,10}))?$/;

/**
 * Resolves a user name (`nobody`), a numeric uid (`65534`, the group taken from `/etc/passwd` when the
 * uid is listed there, else equal to the uid) or `uid:gid` (`65534:65534`, used as given).
 *
 * @param user The configured user.
 * @param passwd The contents of `/etc/passwd`; read from disk when absent (tests pass their own).
 * @returns The ids.
 * @throws {Error} When the name is not in the file or the file cannot be read.
 */
export function resolveUser(user: string, passwd?: string): UserIds {
  const numeric = NUMERIC_REGEXP.exec(user);
  if (numeric !== null && numeric[2] !== undefined) {
    return { name: user, uid: Number(numeric[1]), gid: Number(numeric[2]) };
  }
  let text = passwd;
  if (text === undefined) {
    try {
      text = readFileSync("/etc/passwd", "utf8");
    } catch (error) {
      if (numeric !== null) return { name: user, uid: Number(numeric[1]), gid: Number(numeric[1]) };
      throw new Error(`Cannot look up user "${user}": /etc/passwd is not readable`, { cause: error });
    }
  }
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields.length < 4 || line.startsWith("#")) continue;
    const uid = Number(fields[2]);
    const gid = Number(fields[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid) || fields[2] === "" || fields[3] === "") continue;
    if (numeric === null ? fields[0] === user : uid === Number(numeric[1])) return { name: user, uid, gid };
  }
  if (numeric !== null) return { name: user, uid: Number(numeric[1]), gid: Number(numeric[1]) };
  throw new Error(`Cannot look up user "${user}": no such user in /etc/passwd (give "UID:GID" for others)`);
}
