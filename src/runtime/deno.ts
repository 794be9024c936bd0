/**
 * The Deno adapter: `Deno.serve` for HTTP and `Deno.dlopen` over libc for Unix datagram sockets and
 * batched UDP receive (`recvmmsg`).
 *
 * Types come from the `deno.ns` lib that `deno.json` already enables (next to `bun-types`), so there is no
 * hand-written `deno.d.ts`: both adapters type-check under the one `deno check`, and a local copy of the
 * few members used could only drift from the real ones.
 *
 * @module
 */

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

/** The runtime facade on Deno. */
export const denoRuntime: Runtime = {
  name: "deno",
  dgramReceiveBuffer: false,
  serve,
  listenUnixDatagram,
  openUdp,
  datagramBatch: denoDatagramBatch,
  readablePoller: denoReadablePoller,
};

function serve(
  fetch: (req: Request) => Response | Promise<Response>,
  options: { readonly hostname: string; readonly port: number },
): Promise<Server> {
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    // onListen(){} silences Deno's "Listening on …" line.
    server = Deno.serve({ hostname: options.hostname, port: options.port, onListen() {} }, fetch);
  } catch (cause) {
    return Promise.reject(listenError("HTTP listener", hostPort(options.hostname, options.port), cause));
  }
  const bound = server;
  return Promise.resolve({
    hostname: bound.addr.hostname,
    port: bound.addr.port,
    async close() {
      await bound.shutdown();
    },
  });
}

function listenUnixDatagram(path: string, onData: (bytes: Uint8Array) => void): Promise<Closer> {
  try {
    return Promise.resolve(new UnixDatagramListener(denoLibc(), { path, onData }));
  } catch (error) {
    return Promise.reject(error);
  }
}

function openUdp(options: UdpSocketOptions): Promise<UdpSocket> {
  try {
    return Promise.resolve(openUdpSocket(denoLibc(), options));
  } catch (error) {
    return Promise.reject(error);
  }
}

function denoDatagramBatch(fd: number, capacity: number): Promise<DatagramBatch> {
  try {
    return Promise.resolve(datagramBatch(denoLibc(), fd, capacity));
  } catch (error) {
    return Promise.reject(error);
  }
}

function denoReadablePoller(fds: readonly number[]): Promise<ReadablePoller> {
  try {
    return Promise.resolve(readablePoller(denoLibc(), fds));
  } catch (error) {
    return Promise.reject(error);
  }
}

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
  strerror: { parameters: ["i32"], result: "pointer" },
} as const;

let libc: Libc | undefined;

function denoLibc(): Libc {
  if (libc !== undefined) return libc;
  let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;
  const failures: string[] = [];
  let names: readonly string[];
  try {
    names = libcNames();
  } catch (error) {
    throw ffiUnavailable((error as Error).message, error);
  }
  for (const name of names) {
    try {
      lib = Deno.dlopen(name, SYMBOLS);
      break;
    } catch (cause) {
      failures.push(`${JSON.stringify(name)}: ${String(cause)}`);
    }
  }
  if (lib === undefined) {
    throw ffiUnavailable(`Cannot load libc through Deno.dlopen: ${failures.join("; ")}`);
  }
  const s = lib.symbols;
  // size_t parameters must be BigInts; the length is always the same, so convert it once.
  let lastLength = -1;
  let lastLengthBig = 0n;
  let lastNfds = -1;
  let lastNfdsBig = 0n;
  libc = {
    socket: (domain, type, protocol) => s.socket(domain, type, protocol),
    bind: (fd, address, length) => s.bind(fd, address, length),
    connect: (fd, address, length) => s.connect(fd, address, length),
    setsockopt: (fd, level, name, value, length) => s.setsockopt(fd, level, name, value, length),
    getsockopt: (fd, level, name, value, length) => s.getsockopt(fd, level, name, value, length),
    getsockname: (fd, address, length) => s.getsockname(fd, address, length),
    recvmmsg: (fd, messages, vlen, flags) => s.recvmmsg(fd, messages, vlen, flags, null),
    poll(fds, nfds, timeoutMs) {
      if (nfds !== lastNfds) {
        lastNfds = nfds;
        lastNfdsBig = BigInt(nfds);
      }
      return s.poll(fds, lastNfdsBig, timeoutMs);
    },
    recv(fd, buffer, length, flags) {
      if (length !== lastLength) {
        lastLength = length;
        lastLengthBig = BigInt(length);
      }
      return Number(s.recv(fd, buffer, lastLengthBig, flags));
    },
    close: (fd) => s.close(fd),
    errno() {
      const at = s.__errno_location();
      return at === null ? 0 : new Deno.UnsafePointerView(at).getInt32();
    },
    strerror(errno) {
      const text = s.strerror(errno);
      return text === null ? "" : Deno.UnsafePointerView.getCString(text);
    },
    pointer: (view) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(view))),
  };
  return libc;
}
