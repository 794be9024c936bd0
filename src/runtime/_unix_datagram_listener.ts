/**
 * A Unix datagram socket read through libc, shared by the Bun and Deno adapters.
 *
 * Neither runtime offers `AF_UNIX`/`SOCK_DGRAM` through `node:dgram`, and Deno's
 * `Deno.listenDatagram({ transport: "unixpacket" })` needs `--unstable-net`, which `deno run -A` does not
 * pass. So each adapter binds the few libc calls below with its FFI (`bun:ffi`, `Deno.dlopen`, both allowed
 * by default / by `-A`) and hands them to {@link UnixDatagramListener}.
 *
 * Reading is non-blocking `recv` until `EAGAIN`, re-polled on a timer: neither runtime can wait on a
 * foreign fd's readiness without a thread. The poll interval adapts:
 * - Linux queues at most `net.unix.max_dgram_qlen` + 1 datagrams per receiving socket (the default is 10,
 *   so 11), and senders then block (or get `EAGAIN`) until we drain. A tick that drains {@link BURST} or
 *   more means timer polling is too slow for the senders, so the listener spins on `setImmediate` (which
 *   still lets I/O and timers run) until the socket has been quiet for {@link SPIN_QUIET_MS};
 * - otherwise a tick that drained something polls again after {@link MIN_DELAY_MS}, and idle ticks double
 *   the delay up to {@link MAX_DELAY_MS}.
 *
 * The trade-off, measured on a 2-core VM: idle, one `recv` every 20 ms costs about 0.5 % of a core, and
 * the first datagram after a quiet spell waits up to 20 ms. A burst of more than 11 datagrams inside that
 * wait blocks blocking senders for up to 20 ms and fails non-blocking ones with `EAGAIN` (DogStatsD
 * clients count that as a drop); hosts expecting bursty senders over UDS should raise
 * `net.unix.max_dgram_qlen`. Under sustained load the spin keeps up with a blocking Python sender (at least
 * 280 000 datagrams/s on both runtimes) at the cost of one busy core while data flows.
 *
 * Linux only: the socket flags and errno numbers below are Linux's.
 *
 * @module
 */

import { lstatSync, unlinkSync } from "node:fs";
import { clearImmediate, setImmediate } from "node:timers";
import type { Closer } from "./types.ts";
import { listenError } from "./_listen_error.ts";
import { type Libc, libcError } from "./_libc.ts";

// Linux values: include/linux/socket.h, include/linux/net.h, asm-generic/fcntl.h, asm-generic/errno*.h.
const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0x800;
const SOCK_CLOEXEC = 0x80000;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const ECONNREFUSED = 111;
/** `sizeof(struct sockaddr_un)`: a u16 family and a 108-byte path including its NUL. */
const SOCKADDR_UN_SIZE = 110;
const SUN_PATH_MAX_BYTES = 107;

/** The receive buffer: StatsD datagrams are at most 64 KiB; longer ones are truncated to it. */
const BUFFER_BYTES = 65536;
/** The kernel receive buffer we ask for (capped by `net.core.rmem_max`): room for 11 large datagrams. */
const RCVBUF_BYTES = 1 << 20;
/** Drained this many in one tick: the queue (11 deep by default) was nearly full, so poll again at once. */
const BURST = 8;
/** How long a spinning listener waits for more data before falling back to timers. */
const SPIN_QUIET_MS = 2;
/** The most datagrams handled in one tick before yielding to the event loop. */
const MAX_PER_TICK = 4096;
/** The poll delay while data flows. */
const MIN_DELAY_MS = 1;
/** The poll delay after a quiet spell. */
const MAX_DELAY_MS = 20;

/** A bound Unix datagram socket, polled until closed. */
export class UnixDatagramListener implements Closer {
  #libc: Libc;
  #path: string;
  #onData: (bytes: Uint8Array) => void;
  #fd: number;
  #buffer = new Uint8Array(BUFFER_BYTES);
  #delay = MIN_DELAY_MS;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #immediate: ReturnType<typeof setImmediate> | undefined;
  #closed = false;
  #spinning = false;
  #lastDataAt = 0;
  #onTick: () => void;

  /**
   * Binds `path` (replacing a stale socket file left by a dead process) and starts polling.
   *
   * @param libc The libc calls, bound by the runtime's FFI.
   * @param options The socket path and the datagram callback; the bytes are only valid during the call.
   * @throws {Error} When the path is too long, is taken by a live socket or another file, or cannot be bound.
   */
  constructor(
    libc: Libc,
    options: { readonly path: string; readonly onData: (bytes: Uint8Array) => void },
  ) {
    this.#libc = libc;
    this.#path = options.path;
    this.#onData = options.onData;
    const address = sockaddrUn(options.path);
    removeStaleSocket(libc, options.path, address);
    const fd = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw listenError("unix datagram listener", options.path, libcError(libc, "socket"));
    if (libc.bind(fd, address, address.length) !== 0) {
      const cause = libcError(libc, "bind");
      libc.close(fd);
      throw listenError("unix datagram listener", options.path, cause);
    }
    // Best effort: a bigger buffer only helps, and the kernel silently caps it at net.core.rmem_max.
    const size = new Int32Array([RCVBUF_BYTES]);
    libc.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, new Uint8Array(size.buffer), 4);
    this.#fd = fd;
    // One bound callback for every timer, rather than a closure per tick.
    this.#onTick = this.#tick.bind(this);
    this.#timer = setTimeout(this.#onTick, 0);
  }

  /**
   * Stops polling, closes the socket and removes its file.
   *
   * @returns Resolves when closed; closing twice is harmless.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#libc.close(this.#fd);
    if (isSocket(this.#path)) unlinkSync(this.#path);
    return Promise.resolve();
  }

  #tick(): void {
    this.#timer = undefined;
    this.#immediate = undefined;
    if (this.#closed) return;
    let got = 0;
    try {
      got = this.#drain();
    } finally {
      // A throwing onData still surfaces as an uncaught error, but the socket keeps being read.
      if (!this.#closed) this.#schedule(got);
    }
  }

  #drain(): number {
    const libc = this.#libc;
    const fd = this.#fd;
    const buffer = this.#buffer;
    const onData = this.#onData;
    let count = 0;
    while (count < MAX_PER_TICK) {
      const n = libc.recv(fd, buffer, BUFFER_BYTES, 0);
      // -1 is EAGAIN (drained) nearly always; EINTR or a transient error also ends the tick and the next retries.
      if (n < 0) break;
      count++;
      onData(buffer.subarray(0, n));
      if (this.#closed) break;
    }
    return count;
  }

  #schedule(got: number): void {
    const now = performance.now();
    if (got > 0) this.#lastDataAt = now;
    // A full queue means senders outpace timer polling: spin on setImmediate (which still lets I/O and
    // timers run) until the socket has been quiet for SPIN_QUIET_MS.
    if (got >= BURST) this.#spinning = true;
    else if (this.#spinning && now - this.#lastDataAt > SPIN_QUIET_MS) this.#spinning = false;
    if (this.#spinning) {
      this.#delay = MIN_DELAY_MS;
      this.#immediate = setImmediate(this.#onTick);
      return;
    }
    this.#delay = got > 0 ? MIN_DELAY_MS : Math.min(this.#delay * 2, MAX_DELAY_MS);
    this.#timer = setTimeout(this.#onTick, this.#delay);
  }
}

/**
 * Encodes a `struct sockaddr_un` for `path`.
 *
 * @throws {Error} When the path is empty, holds a NUL, or is longer than 107 bytes.
 */
function sockaddrUn(path: string): Uint8Array {
  const bytes = new TextEncoder().encode(path);
  if (bytes.length === 0 || bytes.includes(0)) {
    throw listenError("unix datagram listener", path, "the path is empty or contains a NUL byte");
  }
  if (bytes.length > SUN_PATH_MAX_BYTES) {
    throw listenError(
      "unix datagram listener",
      path,
      `the path is ${bytes.length} bytes long, the limit is ${SUN_PATH_MAX_BYTES}`,
    );
  }
  const address = new Uint8Array(SOCKADDR_UN_SIZE);
  // sa_family_t is a native-endian u16.
  new Uint16Array(address.buffer, 0, 1)[0] = AF_UNIX;
  address.set(bytes, 2);
  // Pass the used length (family + path + NUL), as the man page's SUN_LEN does.
  return address.subarray(0, 2 + bytes.length + 1);
}

/**
 * Unlinks a socket file nobody listens on (a crashed tally leaves one behind), refusing to touch a live
 * socket or a file that is not a socket.
 */
function removeStaleSocket(libc: Libc, path: string, address: Uint8Array): void {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    return;
  }
  if (!stat.isSocket()) {
    throw listenError("unix datagram listener", path, "the path exists and is not a socket");
  }
  const probe = libc.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return;
  const connected = libc.connect(probe, address, address.length) === 0;
  const errno = connected ? 0 : libc.errno();
  libc.close(probe);
  if (connected) {
    const cause = Object.assign(new Error("A live socket answers on the path"), { code: "EADDRINUSE" });
    throw listenError("unix datagram listener", path, cause);
  }
  if (errno === ECONNREFUSED) unlinkSync(path);
}

function isSocket(path: string): boolean {
  try {
    return lstatSync(path).isSocket();
  } catch {
    return false;
  }
}
