/**
 * The `udp_receive` setting of the UDP inputs (statsd, collectd), apart from the listeners so that the
 * config schemas can name it without loading any socket code.
 *
 * @module
 */

import * as v from "valibot";

/**
 * How an input's UDP sockets are read: `recvmmsg` in batches through the runtime's FFI, `dgram` with
 * `node:dgram`, `auto` the first where FFI is available and the second elsewhere.
 */
export type UdpReceive = "auto" | "recvmmsg" | "dgram";

/** The values of {@link UdpReceive}, for config schemas. */
export const UDP_RECEIVE_MODES: readonly UdpReceive[] = ["auto", "recvmmsg", "dgram"];

/**
 * The `udp_receive` key of a UDP input's table. `recvmmsg` reads up to 64 datagrams per call through the
 * runtime's FFI (libc, 64-bit Linux); `dgram` uses `node:dgram`, one callback per datagram; `auto` takes
 * `recvmmsg` where it is available and falls back to `dgram` (with a warning) where it is not. The log's
 * `Listening` line says which is in use (`receive=`).
 */
export const UDP_RECEIVE_FIELD = v.optional(
  v.pipe(
    v.picklist(UDP_RECEIVE_MODES, 'one of "auto", "recvmmsg" or "dgram"'),
    v.description(
      'How UDP sockets are read: "recvmmsg" (batched, through FFI), "dgram" (node:dgram) or "auto" ' +
        "(recvmmsg where available, else dgram).",
    ),
  ),
  "auto",
);
