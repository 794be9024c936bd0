/**
 * Signs or encrypts a plain collectd packet the way collectd's `network` plugin does when it sends with
 * `SecurityLevel Sign` or `Encrypt`: the inverse of `openCollectdPacket` (`src/formats/collectd_security.ts`), for tests, benchmarks and
 * any future collectd output.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHash, createHmac, randomBytes } from "node:crypto";
import { aes256Ofb } from "../../formats/_aes256_ofb.ts";
import { PART_ENCRYPTION, PART_SIGNATURE } from "../../formats/collectd_security.ts";

/** Options of {@link sealCollectdPacket}. */
export interface SealOptions {
  /** `sign` prepends an HMAC-SHA-256 signature part; `encrypt` wraps the packet in an AES-256-OFB part. */
  readonly mode: "sign" | "encrypt";
  /** The username, as in the receiver's auth file. */
  readonly user: string;
  /** The user's password. */
  readonly password: string;
  /** The 16-byte IV for `encrypt`; random by default (collectd draws a fresh one per packet). */
  readonly iv?: Uint8Array;
}

const MAX_PART = 0xffff;

/**
 * Seals a plain packet (a run of collectd parts).
 *
 * @param payload The plain parts.
 * @param options The mode and credentials.
 * @returns The sealed datagram.
 * @throws {RangeError} When the user name is empty, or the sealed part would exceed 65535 bytes.
 * @example
 * ```ts
 * const datagram = sealCollectdPacket(plain, { mode: "encrypt", user: "alice", password: "secret" });
 * ```
 */
export function sealCollectdPacket(payload: Uint8Array, options: SealOptions): Uint8Array {
  const user = Buffer.from(options.user, "latin1");
  const password = Buffer.from(options.password, "latin1");
  if (user.length === 0) throw new RangeError("Cannot seal a collectd packet: the user name is empty");
  if (options.mode === "sign") {
    const length = 36 + user.length;
    if (length > MAX_PART) throw tooLong(length);
    const hmac = createHmac("sha256", password).update(user).update(payload).digest();
    const out = new Uint8Array(length + payload.length);
    const view = new DataView(out.buffer);
    view.setUint16(0, PART_SIGNATURE);
    view.setUint16(2, length);
    out.set(hmac, 4);
    out.set(user, 36);
    out.set(payload, length);
    return out;
  }
  const iv = options.iv ?? randomBytes(16);
  if (iv.length !== 16) {
    throw new RangeError(`Cannot seal a collectd packet: the IV has ${iv.length} bytes, not 16`);
  }
  const length = 42 + user.length + payload.length;
  if (length > MAX_PART) throw tooLong(length);
  const plain = new Uint8Array(20 + payload.length);
  plain.set(createHash("sha1").update(payload).digest(), 0);
  plain.set(payload, 20);
  const key = createHash("sha256").update(password).digest();
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  view.setUint16(0, PART_ENCRYPTION);
  view.setUint16(2, length);
  view.setUint16(4, user.length);
  out.set(user, 6);
  out.set(iv, 6 + user.length);
  out.set(aes256Ofb(key, iv, plain), 22 + user.length);
  return out;
}

function tooLong(length: number): RangeError {
  return new RangeError(`Cannot seal a collectd packet: the part would be ${length} bytes, over 65535`);
}
