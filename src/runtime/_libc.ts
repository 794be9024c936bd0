/**
 * The libc calls tally makes through FFI (`bun:ffi`, `Deno.dlopen`), and the helpers around them that both
 * adapters share: the Unix datagram listener and the batched UDP receive are written once against
 * {@link Libc}, and each adapter binds these symbols with its own FFI.
 *
 * Linux only: the socket flags, struct layouts and errno numbers used with these calls are Linux's.
 *
 * @module
 */

/** The libc entry points, bound by each runtime's FFI. Return values are libc's (-1 with errno set). */
export interface Libc {
  /** The `socket(2)` call. */
  socket(domain: number, type: number, protocol: number): number;
  /** The `bind(2)` call. */
  bind(fd: number, address: Uint8Array, length: number): number;
  /** The `connect(2)` call. */
  connect(fd: number, address: Uint8Array, length: number): number;
  /** The `setsockopt(2)` call. */
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, length: number): number;
  /** The `getsockopt(2)` call; `length` holds a native `socklen_t`, in and out. */
  getsockopt(fd: number, level: number, name: number, value: Uint8Array, length: Uint8Array): number;
  /** The `getsockname(2)` call; `length` holds a native `socklen_t`, in and out. */
  getsockname(fd: number, address: Uint8Array, length: Uint8Array): number;
  /** The `recv(2)` call; the byte count, or -1 with errno set. */
  recv(fd: number, buffer: Uint8Array, length: number, flags: number): number;
  /**
   * The `recvmmsg(2)` call without a timeout; the number of datagrams received, or -1 with errno set.
   * `messages` holds `vlen` `struct mmsghdr` whose pointers the caller filled with {@link Libc.pointer}.
   */
  recvmmsg(fd: number, messages: Uint8Array, vlen: number, flags: number): number;
  /**
   * The `poll(2)` call: blocks the calling thread until one of `nfds` `struct pollfd` (8 bytes each) is
   * ready or `timeoutMs` passes; the number ready, 0 on timeout, or -1 with errno set.
   */
  poll(fds: Uint8Array, nfds: number, timeoutMs: number): number;
  /** The `close(2)` call. */
  close(fd: number): number;
  /** The calling thread's `errno` (through `__errno_location()`). */
  errno(): number;
  /** The `strerror(3)` text for an errno. */
  strerror(errno: number): string;
  /**
   * The address of a view's first byte, to store in a struct the kernel follows (an iovec's base). Only
   * meaningful for memory that never moves: views on a `SharedArrayBuffer`.
   */
  pointer(view: Uint8Array): bigint;
}

import { FFI_UNAVAILABLE } from "./types.ts";

/** The errno names socket calls report, so callers can match on `code` as with Node's errors. */
const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: "EPERM",
  2: "ENOENT",
  11: "EAGAIN",
  13: "EACCES",
  20: "ENOTDIR",
  22: "EINVAL",
  24: "EMFILE",
  30: "EROFS",
  36: "ENAMETOOLONG",
  97: "EAFNOSUPPORT",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
};

/**
 * Wraps the current errno like Node's system errors: a `code` such as `EADDRINUSE`, plus `errno`.
 *
 * @param libc The bound calls, to read errno and its text.
 * @param call The call that failed, e.g. `bind`.
 * @returns The error, `bind() failed: Address already in use`.
 */
export function libcError(
  libc: Libc,
  call: string,
): Error & { readonly code: string; readonly errno: number } {
  const errno = libc.errno();
  const text = libc.strerror(errno);
  return Object.assign(new Error(`${call}() failed: ${text.length > 0 ? text : `errno ${errno}`}`), {
    code: ERRNO_NAMES[errno] ?? `errno ${errno}`,
    errno,
  });
}

/**
 * Marks an error as "FFI or libc is not available here" ({@link FFI_UNAVAILABLE}), so that callers can fall
 * back to a runtime API instead of reporting a socket failure.
 *
 * @param message What could not be loaded, and why.
 * @param cause The runtime's error, if any.
 * @returns The error, with `code` set.
 */
export function ffiUnavailable(message: string, cause?: unknown): Error & { readonly code: string } {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), {
    code: FFI_UNAVAILABLE,
  });
}

/**
 * Whether the process can use the struct layouts this code writes: 64-bit Linux (x86-64 or AArch64), where
 * pointers and `size_t` are 8 bytes and `struct mmsghdr` is 64.
 *
 * @param platform `process.platform`.
 * @param arch `process.arch`.
 * @returns Whether the layouts hold.
 */
export function libcLayoutsHold(platform: string, arch: string): boolean {
  return platform === "linux" && (arch === "x64" || arch === "arm64");
}
