/**
 * The `udp_receive` setting of the UDP inputs (statsd, collectd), apart from the listeners so that the
 * config schemas can name it without loading any socket code.
 *
 * @module
 */

/**
 * How an input's UDP sockets are read: `recvmmsg` in batches through the runtime's FFI, `dgram` with
 * `node:dgram`, `auto` the first where FFI is available and the second elsewhere.
 */
export type UdpReceive = "auto" | "recvmmsg" | "dgram";

/** The values of {@link UdpReceive}, for config schemas. */
export const UDP_RECEIVE_MODES: readonly UdpReceive[] = ["auto", "recvmmsg", "dgram"];
