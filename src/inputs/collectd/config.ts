/**
 * The config of the `collectd` input: where it listens, the transport security it demands and the
 * types.db files the pipeline reads data-source names from.
 *
 * The config loader adds `type = "collectd"` and makes the table strict, so these are the only other keys.
 *
 * @module
 */

import * as v from "valibot";
import { formatListenAddress, parseListenAddress } from "../../config/address.ts";
import { size } from "../../config/fields.ts";
import { UDP_RECEIVE_FIELD } from "../_udp_receive.ts";
import { WARM_UP_FIELD } from "../_warm_up_field.ts";

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const UDP_EXPECTED = 'a UDP address like "udp:HOST:PORT" (collectd\'s network protocol runs over UDP only)';
const LEVELS = ["none", "sign", "encrypt"] as const;
const AUTH_FILE_EXPECTED = 'the path of an auth file (required when security_level is "sign" or "encrypt")';

/**
 * The valibot schema of an `[inputs.<id>]` table with `type = "collectd"` (without `type`).
 *
 * Output: `listen` holds canonical address texts (`udp:127.0.0.1:25826`), `read_buffer` is in bytes.
 */
export const schema = v.pipe(
  v.strictObject({
    /**
     * The UDP addresses to listen on, `udp:HOST:PORT` (IPv6 in brackets). collectd's network protocol is
     * UDP only, so `tcp:` and `unix:` addresses are refused.
     */
    listen: v.optional(
      v.pipe(
        v.array(udpAddress(), "an array of addresses"),
        v.minLength(1, 'at least one address like "udp:127.0.0.1:25826"'),
        v.description(
          'The UDP addresses to listen on, "udp:HOST:PORT" (IPv6 in brackets: "udp:[::1]:25826"); ' +
            "collectd's network protocol runs over UDP only.",
        ),
      ),
      ["udp:127.0.0.1:25826"],
    ),
    /**
     * What a packet must carry: `none` accepts plain packets (and signed or encrypted ones it can open),
     * `sign` only signed or encrypted ones, `encrypt` only encrypted ones. As collectd's `SecurityLevel`.
     */
    security_level: v.optional(
      v.pipe(
        v.picklist(LEVELS, 'one of "none", "sign" or "encrypt"'),
        v.description(
          'What packets must carry: "none" accepts plain ones too, "sign" requires an HMAC-SHA-256 ' +
            'signature or encryption, "encrypt" requires AES-256 encryption (as collectd\'s SecurityLevel).',
        ),
      ),
      "none",
    ),
    /**
     * collectd's `AuthFile`: `user: password` lines. Required for `sign` and `encrypt`; with `none` it lets
     * signed packets be verified and encrypted ones be decrypted. Re-read when it changes.
     */
    auth_file: v.optional(
      v.pipe(
        v.string("a file path"),
        v.nonEmpty("a non-empty file path"),
        v.description(
          'The users and passwords, one "user: password" per line (collectd\'s AuthFile format); ' +
            'required for "sign" and "encrypt". Re-read when it changes.',
        ),
      ),
    ),
    /**
     * The types.db files naming each type's data sources, later files winning. Empty: the system's
     * `/usr/share/collectd/types.db` when present, else tally's built-in table of common types.
     */
    types_db: v.optional(
      v.pipe(
        v.array(v.pipe(v.string("a file path"), v.nonEmpty("a non-empty file path")), "an array of paths"),
        v.description(
          "The types.db files that name each type's data sources, later files winning; empty uses " +
            "/usr/share/collectd/types.db when present, else a built-in table of common types.",
        ),
      ),
      [],
    ),
    /**
     * The kernel receive buffer (`SO_RCVBUF`) asked for on each socket, in bytes or with a binary unit;
     * 0 keeps the system default. Linux caps it at `net.core.rmem_max`, except for a process with
     * `CAP_NET_ADMIN` reading through `recvmmsg`, which gets the size asked for (`SO_RCVBUFFORCE`).
     */
    read_buffer: v.optional(
      v.pipe(
        size({ min: 0, max: GIB }),
        v.description(
          "The kernel receive buffer (SO_RCVBUF) asked for on each socket; 0 keeps the system default. " +
            "Linux caps it at net.core.rmem_max (raise that with `sysctl -w net.core.rmem_max=8388608`) " +
            "unless tally has CAP_NET_ADMIN, as root does.",
        ),
      ),
      8 * MIB,
    ),
    /** How UDP sockets are read; see {@link UDP_RECEIVE_FIELD}. */
    udp_receive: UDP_RECEIVE_FIELD,
    /** Whether workers warm the collectd path up before the sockets are bound; see {@link WARM_UP_FIELD}. */
    warm_up: WARM_UP_FIELD,
  }, "a table"),
  v.rawCheck(function requireAuthFile({ dataset, addIssue }): void {
    if (!dataset.typed || dataset.value.security_level === "none" || dataset.value.auth_file !== undefined) {
      return;
    }
    // Reported at the missing key, so the message reads "at inputs.<id>.auth_file: expected …, found nothing".
    addIssue({
      message: AUTH_FILE_EXPECTED,
      input: undefined,
      path: [{ type: "object", origin: "value", input: dataset.value, key: "auth_file", value: undefined }],
    });
  }),
  v.description(
    "A collectd input: collectd's binary network protocol over UDP, plain, signed or encrypted " +
      "(see src/inputs/collectd/README.md).",
  ),
);

/** The validated config of a `collectd` input. */
export type CollectdConfig = v.InferOutput<typeof schema>;

/**
 * A complete example: loopback, signed or encrypted packets only, the system's types.db. It is what
 * `tally config example collectd` prints and what the README's config block shows.
 */
export const example: v.InferInput<typeof schema> = {
  listen: ["udp:127.0.0.1:25826"],
  security_level: "sign",
  auth_file: "/etc/tally/collectd.auth",
  types_db: ["/usr/share/collectd/types.db"],
  read_buffer: "8MiB",
  udp_receive: "auto",
  warm_up: false,
};

/** A UDP listen address, kept as its canonical text; TCP and Unix addresses get their own explanation. */
function udpAddress() {
  return v.pipe(
    v.string(UDP_EXPECTED),
    v.rawTransform(function toCanonicalUdpAddress({ dataset, addIssue, NEVER }) {
      const address = parseListenAddress(dataset.value);
      if (address === undefined || address.transport !== "udp") {
        addIssue({ message: UDP_EXPECTED });
        return NEVER;
      }
      return formatListenAddress(address);
    }),
  );
}
