/**
 * The only things that differ between Bun and Deno. Everything outside `src/runtime/` uses web
 * standards and `node:` built-ins that both runtimes pass; what they do not share goes through here.
 *
 * @module
 */

/**
 * The `code` of the error {@link Runtime.openUdp} and {@link Runtime.datagramBatch} throw when FFI or libc
 * is not available here (another OS or architecture, FFI not permitted), as opposed to a socket error.
 */
export const FFI_UNAVAILABLE = "ERR_TALLY_FFI_UNAVAILABLE";

/** A handle that releases a listener. */
export interface Closer {
  /** Stops accepting and resolves when the listener is closed. */
  close(): Promise<void>;
}

/** A bound HTTP server. */
export interface Server extends Closer {
  /** The bound host. */
  readonly hostname: string;
  /** The bound port (useful with port 0). */
  readonly port: number;
}

/** The runtime facade. */
export interface Runtime {
  /** Which runtime this is. */
  readonly name: "bun" | "deno";
  /**
   * Whether `node:dgram`'s `recvBufferSize` really sets SO_RCVBUF. Deno 2.9 does not: it allocates a JS
   * buffer of twice that size for every datagram instead, which at 8 MiB would cost 16 MiB per packet.
   */
  readonly dgramReceiveBuffer: boolean;
  /**
   * Serves HTTP on `hostname:port`.
   *
   * @throws {Error} When the address cannot be bound.
   */
  serve(
    fetch: (req: Request) => Response | Promise<Response>,
    options: { readonly hostname: string; readonly port: number },
  ): Promise<Server>;
  /**
   * Binds a Unix datagram socket at `path` and calls `onData` with each datagram. The bytes are only
   * valid during the call.
   *
   * @throws {Error} When the path cannot be bound.
   */
  listenUnixDatagram(path: string, onData: (bytes: Uint8Array) => void): Promise<Closer>;
  /**
   * Opens and binds a non-blocking UDP socket through libc, to be read in batches ({@link DatagramBatch},
   * `recvmmsg`). Absent where the runtime offers no FFI.
   *
   * @throws {Error} When libc cannot be loaded through FFI (not Linux x86-64/AArch64, FFI not permitted), or
   *   `Cannot bind UDP socket "127.0.0.1:8125": address already in use` with the libc error as `cause`.
   */
  readonly openUdp?: (options: UdpSocketOptions) => Promise<UdpSocket>;
  /**
   * Reads a UDP socket opened by {@link Runtime.openUdp}, possibly in another thread of this process (the
   * descriptor is the process's): a batch for `fd`. Absent where the runtime offers no FFI.
   *
   * @throws {Error} When libc cannot be loaded through FFI.
   */
  readonly datagramBatch?: (fd: number, capacity: number) => Promise<DatagramBatch>;
  /**
   * A way for a worker thread to sleep until one of `fds` is readable (`poll(2)`), blocking the thread:
   * only for threads with nothing else to do meanwhile. Absent where the runtime offers no FFI.
   *
   * @throws {Error} When libc cannot be loaded through FFI.
   */
  readonly readablePoller?: (fds: readonly number[]) => Promise<ReadablePoller>;
}

/** Blocks the calling thread until a descriptor is readable; see {@link Runtime.readablePoller}. */
export interface ReadablePoller {
  /**
   * Waits until one of the descriptors is readable or `timeoutMs` passed.
   *
   * @param timeoutMs The longest wait, ms.
   * @returns How many are readable; 0 after the timeout (or an interrupted wait).
   */
  wait(timeoutMs: number): number;
}

/** Where and how {@link Runtime.openUdp} binds. */
export interface UdpSocketOptions {
  /** An IPv4 or IPv6 address (no host names: resolve them first). */
  readonly host: string;
  /** The port; 0 lets the system pick. */
  readonly port: number;
  /** The `SO_RCVBUF` to ask for, in bytes; 0 keeps the system's default. */
  readonly receiveBufferBytes: number;
}

/** A bound UDP socket read through libc. */
export interface UdpSocket extends Closer {
  /** The file descriptor. */
  readonly fd: number;
  /** The bound address, as given. */
  readonly host: string;
  /** The bound port (the one the system picked for port 0). */
  readonly port: number;
  /** The receive buffer the kernel granted (`SO_RCVBUF` as set, not Linux's doubled report). */
  grantedReceiveBuffer(): number;
  /**
   * Creates the buffers for reading this socket in batches; one per reading thread.
   *
   * @param capacity The most datagrams one read returns.
   */
  createBatch(capacity: number): DatagramBatch;
}

/** Reusable buffers for reading up to `capacity` datagrams from one socket in one call. */
export interface DatagramBatch {
  /** The most datagrams {@link DatagramBatch.receive} returns. */
  readonly capacity: number;
  /**
   * Reads the datagrams waiting, without blocking.
   *
   * @returns How many were read (0 when none waited), or a negative errno when the read failed.
   */
  receive(): number;
  /**
   * One datagram of the last {@link DatagramBatch.receive}, as a view valid until the next one.
   *
   * @param index From 0 to the count read, exclusive.
   */
  datagram(index: number): Uint8Array;
  /**
   * The memory every datagram of the batch is read into; datagram i of the last
   * {@link DatagramBatch.receive} is `[start(i), start(i) + length(i))` of it. For readers that would
   * otherwise allocate one {@link DatagramBatch.datagram} view per datagram.
   */
  readonly bytes: Uint8Array;
  /**
   * Where one datagram of the last {@link DatagramBatch.receive} starts in {@link DatagramBatch.bytes}.
   *
   * @param index From 0 to the count read, exclusive.
   * @returns The offset.
   */
  start(index: number): number;
  /**
   * The length of one datagram of the last {@link DatagramBatch.receive}.
   *
   * @param index From 0 to the count read, exclusive.
   * @returns Its bytes.
   */
  length(index: number): number;
}
