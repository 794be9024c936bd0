/**
 * The sonames to try when loading libc through FFI.
 *
 * @module
 */

import process from "node:process";

/**
 * Lists the libc sonames to `dlopen`, most likely first: glibc's, then musl's (Alpine).
 *
 * @returns The names.
 * @throws {Error} When the platform is not Linux: the socket flags and errno values we use are Linux's.
 */
export function libcNames(): readonly string[] {
  if (process.platform !== "linux") {
    throw new Error(
      `Cannot open unix datagram sockets: tally supports them on Linux only, found "${process.platform}"`,
    );
  }
  const arch = process.arch === "arm64" ? "aarch64" : process.arch === "x64" ? "x86_64" : process.arch;
  return ["libc.so.6", `libc.musl-${arch}.so.1`];
}
