/**
 * The config of the `statsd` input: where it listens and how much it buffers.
 *
 * The config loader adds `type = "statsd"` and makes the table strict, so these are the only other keys.
 *
 * @module
 */

import * as v from "valibot";
import { listenAddress, size } from "../../config/fields.ts";
import { UDP_RECEIVE_FIELD } from "../_udp_receive.ts";
import { WARM_UP_FIELD } from "../_warm_up_field.ts";

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;
const CONNECTIONS_EXPECTED = "an integer from 1 to 65536";

/**
 * The valibot schema of an `[inputs.<id>]` table with `type = "statsd"` (without `type`).
 *
 * Output: `listen` holds canonical address texts (`udp:127.0.0.1:8125`), sizes are in bytes.
 */
export const schema = v.pipe(
  v.strictObject({
    /**
     * The addresses to listen on: `udp:HOST:PORT`, `tcp:HOST:PORT` (newline-delimited lines) or
     * `unix:PATH` (a Unix datagram socket). IPv6 hosts go in brackets: `udp:[::1]:8125`. Loopback by
     * default; bind `0.0.0.0` or `[::]` to accept from other hosts.
     */
    listen: v.optional(
      v.pipe(
        v.array(listenAddress(["udp", "tcp", "unix"]), "an array of addresses"),
        v.minLength(1, 'at least one address like "udp:127.0.0.1:8125"'),
        v.description(
          'The addresses to listen on: "udp:HOST:PORT", "tcp:HOST:PORT" (newline-delimited lines) or ' +
            '"unix:PATH" (a Unix datagram socket). IPv6 hosts go in brackets: "udp:[::1]:8125".',
        ),
      ),
      ["udp:127.0.0.1:8125"],
    ),
    /**
     * The kernel receive buffer (`SO_RCVBUF`) asked for on each UDP socket, in bytes or with a binary
     * unit (`"8MiB"`); 0 keeps the system default. It absorbs bursts while tally is busy; when it is full
     * the kernel drops datagrams (counted as `reason="kernel"`). Linux silently caps it at
     * `net.core.rmem_max` (often 208 KiB): raise that with `sysctl -w net.core.rmem_max=8388608` (and
     * persist it in `/etc/sysctl.d/`). A process with `CAP_NET_ADMIN` reading through `recvmmsg` gets the
     * size asked for past that cap (`SO_RCVBUFFORCE`). Unix datagram sockets use the runtime's fixed buffer.
     */
    read_buffer: v.optional(
      v.pipe(
        size({ min: 0, max: GIB }),
        v.description(
          "The kernel receive buffer (SO_RCVBUF) asked for on each UDP socket; 0 keeps the system default. " +
            "Linux caps it at net.core.rmem_max (raise that with `sysctl -w net.core.rmem_max=8388608`) " +
            "unless tally has CAP_NET_ADMIN, as root does.",
        ),
      ),
      8 * MIB,
    ),
    /** How UDP sockets are read; see {@link UDP_RECEIVE_FIELD}. */
    udp_receive: UDP_RECEIVE_FIELD,
    /** Whether workers warm the StatsD path up before the sockets are bound; see {@link WARM_UP_FIELD}. */
    warm_up: WARM_UP_FIELD,
    /**
     * The longest TCP line accepted, in bytes without its newline. A longer line is skipped up to the
     * next newline and counted as dropped (`reason="line_too_long"`); the lines around it are kept.
     */
    max_line_length: v.optional(
      v.pipe(
        size({ min: 16, max: MIB }),
        v.description(
          "The longest TCP line accepted, without its newline; a longer line is skipped and counted, " +
            "its neighbours kept.",
        ),
      ),
      64 * KIB,
    ),
    /**
     * The most TCP connections open at once; a connection past it is closed at once and counted as an
     * error (`error_type="tcp_connection_limit"`).
     */
    max_tcp_connections: v.optional(
      v.pipe(
        v.number(CONNECTIONS_EXPECTED),
        v.integer(CONNECTIONS_EXPECTED),
        v.minValue(1, CONNECTIONS_EXPECTED),
        v.maxValue(65_536, CONNECTIONS_EXPECTED),
        v.description("The most TCP connections open at once; one past it is closed at once and counted."),
      ),
      256,
    ),
  }, "a table"),
  v.description(
    "A statsd input: StatsD and DogStatsD lines over UDP, TCP and Unix datagram sockets " +
      "(see src/inputs/statsd/README.md).",
  ),
);

/** The validated config of a `statsd` input. */
export type StatsdConfig = v.InferOutput<typeof schema>;

/**
 * A complete example: UDP and TCP on loopback plus a Unix datagram socket. It is what
 * `tally config example statsd` prints and what the README's config block shows.
 */
export const example: v.InferInput<typeof schema> = {
  listen: ["udp:127.0.0.1:8125", "tcp:127.0.0.1:8125", "unix:/run/tally/statsd.sock"],
  read_buffer: "8MiB",
  udp_receive: "auto",
  warm_up: false,
  max_line_length: "64KiB",
  max_tcp_connections: 256,
};
