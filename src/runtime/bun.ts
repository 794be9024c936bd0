/**
 * The Bun adapter: `Bun.serve` for HTTP and `bun:ffi` over libc for Unix datagram sockets and batched
 * UDP receive (`recvmmsg`).
 *
 * `bun:ffi` is imported lazily so this module loads under Deno too (`detect.ts` imports both adapters, and
 * the esbuild bundle that Deno runs contains both).
 *
 * @module
 */

import type * as BunFfi from "bun:ffi";
import type {
  Closer,
  DatagramBatch,
  ReadablePoller,
  Runtime,
  Server,
  UdpSocket,
  UdpSocketOptions,
} from "./types.ts";
import { hostPort, listenError } from "./_listen_error.ts";
import { UnixDatagramListener } from "./_unix_datagram_listener.ts";
import { ffiUnavailable, type Libc } from "./_libc.ts";
import { libcNames } from "./_libc_names.ts";
import { datagramBatch, openUdpSocket, readablePoller } from "./_udp_socket.ts";

/** The runtime facade on Bun. */
export const bunRuntime: Runtime = {
  name: "bun",
  dgramReceiveBuffer: true,
  serve,
  listenUnixDatagram,
  openUdp,
  datagramBatch: bunDatagramBatch,
  readablePoller: bunReadablePoller,
};

function serve(
  fetch: (req: Request) => Response | Promise<Response>,
  options: { readonly hostname: string; readonly port: number },
): Promise<Server> {
  let server: ReturnType<typeof Bun.serve>;
  try {
    // development: false keeps Bun's error pages (with stack traces) out of responses. It also turns on
    // SO_REUSEPORT unless told otherwise, which would let a second tally share the port silently
    // instead of failing to bind: hence reusePort: false.
    server = Bun.serve({
      hostname: options.hostname,
      port: options.port,
      development: false,
      reusePort: false,
      fetch,
    });
  } catch (cause) {
    return Promise.reject(listenError("HTTP listener", hostPort(options.hostname, options.port), cause));
  }
  const bound = server;
  return Promise.resolve({
    hostname: bound.hostname ?? options.hostname,
    port: bound.port ?? options.port,
    async close() {
      await bound.stop();
    },
  });
}

async function listenUnixDatagram(path: string, onData: (bytes: Uint8Array) => void): Promise<Closer> {
  return new UnixDatagramListener(await bunLibc(), { path, onData });
}

async function openUdp(options: UdpSocketOptions): Promise<UdpSocket> {
  return openUdpSocket(await bunLibc(), options);
}

async function bunDatagramBatch(fd: number, capacity: number): Promise<DatagramBatch> {
  return datagramBatch(await bunLibc(), fd, capacity);
}

async function bunReadablePoller(fds: readonly number[]): Promise<ReadablePoller> {
  return readablePoller(await bunLibc(), fds);
}

type Library<S extends Record<string, BunFfi.FFIFunction>> = BunFfi.Library<S>;

let libc: Libc | undefined;

async function bunLibc(): Promise<Libc> {
  if (libc !== undefined) return libc;
  const ffi = await import("bun:ffi");
  // i64_fast: a ssize_t that fits a double comes back as a number, not a BigInt (no allocation per recv).
  const symbols = {
    socket: { args: ["i32", "i32", "i32"], returns: "i32" },
    bind: { args: ["i32", "ptr", "u32"], returns: "i32" },
    connect: { args: ["i32", "ptr", "u32"], returns: "i32" },
    setsockopt: { args: ["i32", "i32", "i32", "ptr", "u32"], returns: "i32" },
    getsockopt: { args: ["i32", "i32", "i32", "ptr", "ptr"], returns: "i32" },
    getsockname: { args: ["i32", "ptr", "ptr"], returns: "i32" },
    recv: { args: ["i32", "ptr", "u64", "i32"], returns: ffi.FFIType.i64_fast },
    recvmmsg: { args: ["i32", "ptr", "u32", "i32", "ptr"], returns: "i32" },
    poll: { args: ["ptr", "u64", "i32"], returns: "i32" },
    close: { args: ["i32"], returns: "i32" },
    __errno_location: { args: [], returns: "ptr" },
    strerror: { args: ["i32"], returns: "ptr" },
  } as const;
  let lib: Library<typeof symbols> | undefined;
  const failures: string[] = [];
  let names: readonly string[];
  try {
    names = libcNames();
  } catch (error) {
    throw ffiUnavailable((error as Error).message, error);
  }
  for (const name of names) {
    try {
      lib = ffi.dlopen(name, symbols);
      break;
    } catch (cause) {
      failures.push(`${JSON.stringify(name)}: ${String(cause)}`);
    }
  }
  if (lib === undefined) {
    throw ffiUnavailable(`Cannot load libc through bun:ffi: ${failures.join("; ")}`);
  }
  const s = lib.symbols;
  const bound: Libc = {
    socket: (domain, type, protocol) => s.socket(domain, type, protocol),
    bind: (fd, address, length) => s.bind(fd, address, length),
    connect: (fd, address, length) => s.connect(fd, address, length),
    setsockopt: (fd, level, name, value, length) => s.setsockopt(fd, level, name, value, length),
    getsockopt: (fd, level, name, value, length) => s.getsockopt(fd, level, name, value, length),
    getsockname: (fd, address, length) => s.getsockname(fd, address, length),
    recv: (fd, buffer, length, flags) => Number(s.recv(fd, buffer, length, flags)),
    recvmmsg: (fd, messages, vlen, flags) => s.recvmmsg(fd, messages, vlen, flags, null),
    poll: (fds, nfds, timeoutMs) => s.poll(fds, nfds, timeoutMs),
    close: (fd) => s.close(fd),
    errno() {
      const at = s.__errno_location();
      return at === null ? 0 : ffi.read.i32(at, 0);
    },
    strerror(errno) {
      const text = s.strerror(errno);
      return text === null ? "" : new ffi.CString(text).toString();
    },
    pointer: (view) => BigInt(ffi.ptr(view)),
  };
  libc = bound;
  return bound;
}
