/**
 * A UDP socket opened and read through libc, shared by the Bun and Deno adapters: many datagrams per
 * JS call with `recvmmsg(2)` instead of one `node:dgram` callback per datagram.
 *
 * The kernel writes each datagram into a slot of a `SharedArrayBuffer` (memory the JS engines never move,
 * so the iovec pointers stored in the `struct mmsghdr` array stay valid), and the caller reads the slots as
 * views. Slots are 64 KiB, above the largest UDP payload (65 507 bytes over IPv4, 65 527 over IPv6), so no
 * datagram is ever truncated; the kernel only touches the pages a datagram fills, so a batch of small
 * datagrams keeps one page per slot resident, not the whole buffer.
 *
 * Layouts (64-bit Linux, the only place {@link libcLayoutsHold}): `struct iovec` is `{ base u64, len u64 }`
 * (16 bytes); `struct mmsghdr` is a 56-byte `struct msghdr` (`msg_iov` at 16, `msg_iovlen` at 24,
 * `msg_flags` at 48) followed by `msg_len` (u32 at 56) and padding, 64 bytes in all. `sockaddr_in` is
 * 16 bytes, `sockaddr_in6` 28, family native-endian, port big-endian.
 *
 * @module
 */

import type { DatagramBatch, ReadablePoller, UdpSocket, UdpSocketOptions } from "./types.ts";
import process from "node:process";
import { ffiUnavailable, type Libc, libcError, libcLayoutsHold } from "./_libc.ts";
import { listenError } from "./_listen_error.ts";
import { parseIp } from "./_parse_ip.ts";

// Linux values: include/linux/socket.h, include/linux/net.h, asm-generic/socket.h, asm-generic/errno*.h.
const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0x800;
const SOCK_CLOEXEC = 0x80000;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_RCVBUFFORCE = 33;
const EAGAIN = 11;
const EINTR = 4;
const POLLIN = 1;

const IOVEC_BYTES = 16;
const MMSGHDR_BYTES = 64;
const MSG_IOV = 16;
const MSG_IOVLEN = 24;
const MSG_LEN = 56;
/** Room for any UDP payload. */
const SLOT_BYTES = 65536;

/**
 * Opens, binds and configures a non-blocking UDP socket.
 *
 * @param libc The libc calls, bound by the runtime's FFI.
 * @param options The address, and the receive buffer to ask for (0 keeps the system's).
 * @returns The socket.
 * @throws {Error} `Cannot bind UDP socket "127.0.0.1:8125": address already in use`, with the errno name in
 *   `code` and the libc error as `cause`; or when the host is not an IP address.
 */
export function openUdpSocket(libc: Libc, options: UdpSocketOptions): UdpSocket {
  checkLayouts();
  const display = options.host.includes(":")
    ? `[${options.host}]:${options.port}`
    : `${options.host}:${options.port}`;
  const ip = parseIp(options.host);
  if (ip === undefined) throw listenError("UDP socket", display, "the host is not an IP address");
  const family = ip.length === 4 ? AF_INET : AF_INET6;
  const fd = libc.socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw withCode(listenError("UDP socket", display, libcError(libc, "socket")));
  if (options.receiveBufferBytes > 0) {
    // SO_RCVBUFFORCE gives the size asked for past net.core.rmem_max where the process may (CAP_NET_ADMIN,
    // as journald does); elsewhere it fails with EPERM and SO_RCVBUF is best effort, capped at rmem_max.
    const size = new Uint8Array(new Int32Array([Math.min(options.receiveBufferBytes, 0x7fffffff)]).buffer);
    if (libc.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, size, 4) !== 0) {
      libc.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, size, 4);
    }
  }
  const address = sockaddr(family, ip, options.port);
  if (libc.bind(fd, address, address.length) !== 0) {
    const cause = libcError(libc, "bind");
    libc.close(fd);
    throw withCode(listenError("UDP socket", display, cause));
  }
  return new LibcUdpSocket(libc, fd, options.host, boundPort(libc, fd));
}

/** A bound UDP socket; see {@link openUdpSocket}. */
class LibcUdpSocket implements UdpSocket {
  readonly #libc: Libc;
  readonly fd: number;
  readonly host: string;
  readonly port: number;
  #closed = false;

  constructor(libc: Libc, fd: number, host: string, port: number) {
    this.#libc = libc;
    this.fd = fd;
    this.host = host;
    this.port = port;
  }

  grantedReceiveBuffer(): number {
    const value = new Int32Array(1);
    const length = new Uint32Array([4]);
    const bytes = new Uint8Array(value.buffer);
    if (this.#libc.getsockopt(this.fd, SOL_SOCKET, SO_RCVBUF, bytes, new Uint8Array(length.buffer)) !== 0) {
      return 0;
    }
    // Linux reports double the size set, to account for its bookkeeping overhead (socket(7)).
    return Math.floor((value[0] ?? 0) / 2);
  }

  createBatch(capacity: number): DatagramBatch {
    return new LibcDatagramBatch(this.#libc, this.fd, capacity);
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#libc.close(this.fd);
    }
    return Promise.resolve();
  }
}

/**
 * Creates the buffers one thread reads a socket with (the descriptor is the process's, so a worker thread
 * can read a socket the main thread opened).
 *
 * @param libc The libc calls, bound by the calling thread's FFI.
 * @param fd The socket.
 * @param capacity The most datagrams one read returns, 1 to 1024.
 * @returns The batch.
 * @throws {RangeError} When the capacity is out of range.
 * @throws {Error} With code `FFI_UNAVAILABLE` when the struct layouts do not hold on this platform.
 */
export function datagramBatch(libc: Libc, fd: number, capacity: number): DatagramBatch {
  checkLayouts();
  return new LibcDatagramBatch(libc, fd, capacity);
}

/**
 * Creates a poller that blocks the calling thread until one of `fds` is readable.
 *
 * @param libc The libc calls, bound by the calling thread's FFI.
 * @param fds The descriptors.
 * @returns The poller.
 */
export function readablePoller(libc: Libc, fds: readonly number[]): ReadablePoller {
  // struct pollfd { int fd; short events; short revents; }: 8 bytes, POLLIN = 1.
  const pollfds = new Uint8Array(fds.length * 8);
  const view = new DataView(pollfds.buffer);
  fds.forEach((fd, i) => {
    view.setInt32(i * 8, fd, true);
    view.setInt16(i * 8 + 4, POLLIN, true);
  });
  return {
    wait(timeoutMs: number): number {
      return Math.max(0, libc.poll(pollfds, fds.length, Math.max(0, Math.round(timeoutMs))));
    },
  };
}

function checkLayouts(): void {
  if (!libcLayoutsHold(process.platform, process.arch)) {
    throw ffiUnavailable(
      `Cannot read UDP through libc: the struct layouts are 64-bit Linux's, found "${process.platform}/${process.arch}"`,
    );
  }
}

/** The slots and headers one reader reuses for every `recvmmsg` on one socket. */
class LibcDatagramBatch implements DatagramBatch {
  readonly capacity: number;
  readonly #libc: Libc;
  readonly #fd: number;
  readonly #data: Uint8Array;
  readonly #headers: Uint8Array;
  /** `msg_len` of message i is at index `i * 16 + 14`. */
  readonly #words: Uint32Array;
  /** Keeps the memory the kernel writes into alive as long as the batch. */
  readonly #memory: SharedArrayBuffer;

  constructor(libc: Libc, fd: number, capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1024) {
      throw new RangeError(`Cannot create a datagram batch of "${capacity}": expected 1 to 1024 datagrams`);
    }
    this.capacity = capacity;
    this.#libc = libc;
    this.#fd = fd;
    const dataBytes = capacity * SLOT_BYTES;
    const iovBytes = capacity * IOVEC_BYTES;
    this.#memory = new SharedArrayBuffer(dataBytes + iovBytes + capacity * MMSGHDR_BYTES);
    this.#data = new Uint8Array(this.#memory, 0, dataBytes);
    const iovs = new Uint8Array(this.#memory, dataBytes, iovBytes);
    this.#headers = new Uint8Array(this.#memory, dataBytes + iovBytes, capacity * MMSGHDR_BYTES);
    this.#words = new Uint32Array(this.#memory, dataBytes + iovBytes, capacity * MMSGHDR_BYTES / 4);
    const iovView = new DataView(this.#memory, dataBytes, iovBytes);
    const headerView = new DataView(this.#memory, dataBytes + iovBytes, capacity * MMSGHDR_BYTES);
    const dataAt = libc.pointer(this.#data);
    const iovAt = libc.pointer(iovs);
    for (let i = 0; i < capacity; i++) {
      iovView.setBigUint64(i * IOVEC_BYTES, dataAt + BigInt(i * SLOT_BYTES), true);
      iovView.setBigUint64(i * IOVEC_BYTES + 8, BigInt(SLOT_BYTES), true);
      headerView.setBigUint64(i * MMSGHDR_BYTES + MSG_IOV, iovAt + BigInt(i * IOVEC_BYTES), true);
      headerView.setBigUint64(i * MMSGHDR_BYTES + MSG_IOVLEN, 1n, true);
    }
  }

  receive(): number {
    for (;;) {
      const n = this.#libc.recvmmsg(this.#fd, this.#headers, this.capacity, 0);
      if (n >= 0) return n;
      const errno = this.#libc.errno();
      if (errno === EAGAIN) return 0;
      if (errno !== EINTR) return -errno;
    }
  }

  datagram(index: number): Uint8Array {
    const start = index * SLOT_BYTES;
    return this.#data.subarray(start, start + this.length(index));
  }

  get bytes(): Uint8Array {
    return this.#data;
  }

  start(index: number): number {
    return index * SLOT_BYTES;
  }

  length(index: number): number {
    return this.#words[index * (MMSGHDR_BYTES / 4) + MSG_LEN / 4] ?? 0;
  }
}

/** Copies the errno name of the cause onto the error, as Node's socket errors carry it (`EADDRINUSE`). */
function withCode(error: Error): Error {
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? Object.assign(error, { code }) : error;
}

function sockaddr(family: number, ip: Uint8Array, port: number): Uint8Array {
  const address = new Uint8Array(family === AF_INET ? 16 : 28);
  const view = new DataView(address.buffer);
  // sa_family_t is a native-endian u16 (little-endian on both supported architectures); ports are network order.
  view.setUint16(0, family, true);
  view.setUint16(2, port, false);
  address.set(ip, family === AF_INET ? 4 : 8);
  return address;
}

function boundPort(libc: Libc, fd: number): number {
  const address = new Uint8Array(28);
  const length = new Uint32Array([address.length]);
  if (libc.getsockname(fd, address, new Uint8Array(length.buffer)) !== 0) return 0;
  return new DataView(address.buffer).getUint16(2, false);
}
