/**
 * What tells the `scripts` input that a CoScale script changed, so its definitions (`-c`) are read again.
 *
 * @module
 */

import { stat } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";

/**
 * The identity of the files a script consists of: `argv[0]` when it is a path, and the first argument
 * that names an existing regular file (an interpreter's script). A change of any of them re-reads `-c`.
 *
 * @param argv The script's command and arguments.
 * @param cwd The directory relative paths are resolved against.
 * @returns Inode, size, mtime and kind of each file, joined; a missing file says so. Never throws.
 */
export async function fingerprintOf(argv: readonly string[], cwd: string): Promise<string> {
  const parts: string[] = [];
  const command = argv[0] ?? "";
  if (command.includes("/")) parts.push(await identity(resolvePath(command, cwd)));
  for (const arg of argv.slice(1)) {
    if (arg.startsWith("-") || arg === "") continue;
    const found = await identity(resolvePath(arg, cwd));
    if (found.endsWith(":file")) {
      parts.push(found);
      break;
    }
  }
  return parts.join("|");
}

async function identity(path: string): Promise<string> {
  try {
    const info = await stat(path);
    return `${path}:${info.ino}:${info.size}:${info.mtimeMs}:${info.isFile() ? "file" : "other"}`;
  } catch {
    return `${path}:missing`;
  }
}

function resolvePath(path: string, cwd: string): string {
  return isAbsolute(path) ? path : resolve(cwd, path);
}
