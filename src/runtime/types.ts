/**
 * The only things that differ between Bun and Deno. Everything outside `src/runtime/` uses web
 * standards and `node:` built-ins that both runtimes pass; what they do not share goes through here.
 *
 * @module
 */

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
}
