/**
 * collectd's network-protocol transport security, undone before the `collectd` format sees a packet
 * (like TLS termination; on the main thread, or in the socket-reading worker at level `none` without an
 * auth file, see `src/pipeline/_datagram_opener.ts`): HMAC-SHA-256 signatures (part 0x0200) are checked in constant time and
 * AES-256-OFB encrypted parts (0x0210) are decrypted and their SHA-1 checked. What survives is handed on
 * as *sections*: runs of plain parts that the `collectd` format parses as one packet each.
 *
 * Layouts (collectd `src/network.c`, `parse_part_sign_sha256` / `parse_part_encr_aes256`), big-endian:
 *
 * ```text
 * signature  0x0200 | length u16 | HMAC-SHA-256 (32) | username (length - 36)
 *            HMAC key = the user's password; data = username + every byte after the part, to the end
 * encryption 0x0210 | length u16 | username length u16 | username | IV (16) | encrypted:
 *            SHA-1 (20) of the plaintext | plaintext parts          AES-256-OFB, key = SHA-256(password)
 * ```
 *
 * Policy, as collectd 5.12's `parse_packet` applies it, part by part:
 *
 * - An encrypted part is always decrypted (at every level) and its plaintext opened again as a nested
 *   scope; it needs the user in the auth file, so without one it fails as `unknown_user`.
 * - A signature covers the rest of the packet, which becomes a nested scope. With users it is verified;
 *   without an auth file (only possible at level `none`) the signature part is skipped and the rest read
 *   as plain, unverified, as collectd does ("can't verify it … Will accept it").
 * - `sign` ignores plain parts outside a signed or encrypted scope; `encrypt` ignores every part outside
 *   an encrypted scope, signed ones included. Ignored parts are reported once per packet as `required`.
 * - A failure (unknown user, bad signature, bad checksum, a security part with impossible lengths) drops
 *   the rest of its scope, as collectd's `break` does; sections already complete are still delivered.
 *
 * Each scope (the packet itself, a signed remainder, a decrypted payload) is delivered as one section,
 * because collectd parses each with fresh state: host, plugin and type never carry from an outer scope
 * into a nested one or back. Nested sections are delivered before the scope that holds them. A plain
 * packet at level `none` is delivered as the very bytes received, with no copy.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { aes256Ofb } from "./_aes256_ofb.ts";

/** The security level of a collectd listener: what a packet must carry to be accepted. */
export type SecurityLevel = "none" | "sign" | "encrypt";

/** Why (part of) a packet was refused. */
export type AuthFailure =
  /** The signature or encryption names a user the auth file does not hold (or there is no auth file). */
  | "unknown_user"
  /** The HMAC-SHA-256 does not match the signed bytes. */
  | "bad_signature"
  /** The SHA-1 inside the encrypted part does not match the decrypted payload (wrong password or tampering). */
  | "bad_checksum"
  /** Parts that were not signed or encrypted although the level requires it. */
  | "required"
  /** A signature or encryption part whose lengths cannot be right. */
  | "malformed";

/** Where {@link openCollectdPacket} delivers what it accepted and refused. */
export interface OpenedPacketSink {
  /** Takes one section of plain parts, parsed as a packet of its own; only valid during the call. */
  section(bytes: Uint8Array): void;
  /** Takes one refusal; the user is the name the packet claimed, or `""` where there is none. */
  failure(reason: AuthFailure, user: string): void;
}

/** Options of {@link openCollectdPacket}. */
export interface OpenOptions {
  /** The listener's security level. */
  readonly level: SecurityLevel;
  /** The users and passwords from the auth file, or `undefined` when there is no auth file. */
  readonly users: ReadonlyMap<string, string> | undefined;
}

/** The signature part type (collectd `src/network.h`, `TYPE_SIGN_SHA256`). */
export const PART_SIGNATURE = 0x0200;
/** The encryption part type (collectd `src/network.h`, `TYPE_ENCR_AES256`). */
export const PART_ENCRYPTION = 0x0210;

const HEADER = 4;
/** Header + HMAC: the signature part without its username (`PART_SIGNATURE_SHA256_SIZE`). */
const SIGNATURE_FIXED = 36;
/** Header + username length + IV + SHA-1: the encryption part without username and payload (`PART_ENCRYPTION_AES256_SIZE`). */
const ENCRYPTION_FIXED = 42;
const HMAC_BYTES = 32;
const IV_BYTES = 16;
const SHA1_BYTES = 20;
/** Nested scopes deeper than this are refused as malformed: real senders nest at most twice. */
const MAX_DEPTH = 4;

const SIGNED = 1;
const ENCRYPTED = 2;

/** Per-call state, so that the recursion needs no closures. */
interface Opening {
  readonly sink: OpenedPacketSink;
  readonly level: SecurityLevel;
  readonly users: ReadonlyMap<string, string> | undefined;
  /** Whether some part was ignored for lack of a signature or encryption. */
  ignored: boolean;
}

/**
 * Undoes the transport security of one collectd datagram and delivers its plain sections.
 *
 * Never throws on any input: impossible lengths end the scope they are in (plain parts are left for the
 * format to judge, security parts are reported as `malformed`).
 *
 * @param packet One datagram as received; not retained, never modified.
 * @param sink Receives each section and each refusal.
 * @param options The level and the users of the auth file.
 * @returns The number of sections delivered.
 * @example
 * ```ts
 * openCollectdPacket(datagram, {
 *   section: (bytes) => ctx.emit(bytes, FORMAT_IDS.collectd),
 *   failure: (reason) => ctx.stats.dropped(`auth_${reason}`).add(),
 * }, { level: "sign", users: new Map([["alice", "secret"]]) });
 * ```
 */
export function openCollectdPacket(packet: Uint8Array, sink: OpenedPacketSink, options: OpenOptions): number {
  // The common case, a plain packet at level none, goes out untouched after a walk over its headers.
  if (options.level === "none" && !hasSecurityPart(packet)) {
    if (packet.length === 0) return 0;
    sink.section(packet);
    return 1;
  }
  const opening: Opening = { sink, level: options.level, users: options.users, ignored: false };
  const sections = openScope(opening, packet, 0, 0);
  if (opening.ignored) sink.failure("required", "");
  return sections;
}

/** Whether a walk over the part headers meets a signature or encryption part before it ends. */
function hasSecurityPart(bytes: Uint8Array): boolean {
  const end = bytes.length;
  let offset = 0;
  while (end - offset > HEADER) {
    const type = (bytes[offset]! << 8) | bytes[offset + 1]!;
    const length = (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
    if (type === PART_SIGNATURE || type === PART_ENCRYPTION) return true;
    if (length < HEADER || length > end - offset) return false;
    offset += length;
  }
  return false;
}

/**
 * Walks one scope (`bytes` from 0 to its end) and delivers its plain parts as one section, after the
 * sections of the scopes nested in it.
 *
 * @returns The sections delivered.
 */
function openScope(opening: Opening, bytes: Uint8Array, flags: number, depth: number): number {
  const end = bytes.length;
  const level = opening.level;
  const plainAllowed = level === "none" ||
    (level === "sign" && flags !== 0) ||
    (level === "encrypt" && (flags & ENCRYPTED) !== 0);
  // Accepted plain parts as [start, end) pairs, adjacent ones merged.
  const ranges: number[] = [];
  let sections = 0;
  let offset = 0;
  while (end - offset > HEADER) {
    const type = (bytes[offset]! << 8) | bytes[offset + 1]!;
    const length = (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
    if (length < HEADER || length > end - offset) break;
    if (type === PART_ENCRYPTION) {
      const opened = openEncrypted(opening, bytes, offset, flags, depth);
      if (opened < 0) return sections + deliver(opening, bytes, ranges);
      sections += opened;
      offset += length;
      continue;
    }
    if (level === "encrypt" && (flags & ENCRYPTED) === 0) {
      opening.ignored = true;
      offset += length;
      continue;
    }
    if (type === PART_SIGNATURE) {
      if (opening.users === undefined) {
        // No auth file: collectd skips the signature and reads on as if the packet were plain.
        offset += length;
        continue;
      }
      sections += openSigned(opening, bytes, offset, flags, depth);
      offset = end;
      break;
    }
    if (!plainAllowed) {
      opening.ignored = true;
      offset += length;
      continue;
    }
    addRange(ranges, offset, offset + length);
    offset += length;
  }
  // What is left cannot be a whole part: the format counts it when it is ours to hand on.
  if (offset < end) {
    if (plainAllowed) addRange(ranges, offset, end);
    else opening.ignored = true;
  }
  return sections + deliver(opening, bytes, ranges);
}

/**
 * Verifies the signature part at `offset` and opens the rest of the scope as a signed scope.
 *
 * @returns The sections delivered from the signed remainder (0 when refused).
 */
function openSigned(
  opening: Opening,
  bytes: Uint8Array,
  offset: number,
  flags: number,
  depth: number,
): number {
  const length = (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
  if (length <= SIGNATURE_FIXED || depth >= MAX_DEPTH) {
    opening.sink.failure("malformed", "");
    return 0;
  }
  const user = latin1(bytes, offset + SIGNATURE_FIXED, offset + length);
  const password = opening.users!.get(user);
  if (password === undefined) {
    opening.sink.failure("unknown_user", user);
    return 0;
  }
  const expected = createHmac("sha256", Buffer.from(password, "latin1"))
    .update(bytes.subarray(offset + SIGNATURE_FIXED))
    .digest();
  const received = bytes.subarray(offset + HEADER, offset + HEADER + HMAC_BYTES);
  if (!timingSafeEqual(expected, received)) {
    opening.sink.failure("bad_signature", user);
    return 0;
  }
  return openScope(opening, bytes.subarray(offset + length), flags | SIGNED, depth + 1);
}

/**
 * Decrypts the encryption part at `offset`, checks its SHA-1 and opens the plaintext as an encrypted scope.
 *
 * @returns The sections delivered from the plaintext, or -1 when refused (the caller's scope ends).
 */
function openEncrypted(
  opening: Opening,
  bytes: Uint8Array,
  offset: number,
  flags: number,
  depth: number,
): number {
  const length = (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
  if (bytes.length - offset <= ENCRYPTION_FIXED || length <= ENCRYPTION_FIXED || depth >= MAX_DEPTH) {
    opening.sink.failure("malformed", "");
    return -1;
  }
  const userLength = (bytes[offset + 4]! << 8) | bytes[offset + 5]!;
  if (userLength === 0 || userLength > length - (ENCRYPTION_FIXED + 1)) {
    opening.sink.failure("malformed", "");
    return -1;
  }
  const userStart = offset + 6;
  const user = latin1(bytes, userStart, userStart + userLength);
  const password = opening.users?.get(user);
  if (password === undefined) {
    opening.sink.failure("unknown_user", user);
    return -1;
  }
  const ivStart = userStart + userLength;
  const iv = bytes.subarray(ivStart, ivStart + IV_BYTES);
  const decrypted = aes256Ofb(passwordKey(password), iv, bytes.subarray(ivStart + IV_BYTES, offset + length));
  const payload = decrypted.subarray(SHA1_BYTES);
  const digest = createHash("sha1").update(payload).digest();
  if (!timingSafeEqual(digest, decrypted.subarray(0, SHA1_BYTES))) {
    opening.sink.failure("bad_checksum", user);
    return -1;
  }
  return openScope(opening, payload, flags | ENCRYPTED, depth + 1);
}

/** Delivers the accepted ranges of a scope as one section; one range is a view, several are joined. */
function deliver(opening: Opening, bytes: Uint8Array, ranges: readonly number[]): number {
  if (ranges.length === 0) return 0;
  if (ranges.length === 2) {
    opening.sink.section(bytes.subarray(ranges[0]!, ranges[1]!));
    return 1;
  }
  let size = 0;
  for (let i = 0; i < ranges.length; i += 2) size += ranges[i + 1]! - ranges[i]!;
  const joined = new Uint8Array(size);
  let at = 0;
  for (let i = 0; i < ranges.length; i += 2) {
    joined.set(bytes.subarray(ranges[i]!, ranges[i + 1]!), at);
    at += ranges[i + 1]! - ranges[i]!;
  }
  opening.sink.section(joined);
  return 1;
}

function addRange(ranges: number[], start: number, end: number): void {
  if (ranges.length > 0 && ranges[ranges.length - 1] === start) ranges[ranges.length - 1] = end;
  else ranges.push(start, end);
}

/** Byte-exact text: usernames and passwords are compared as collectd compares them, as bytes. */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString("latin1");
}

/** The AES-256 key collectd derives from a password: its SHA-256. */
function passwordKey(password: string): Buffer {
  return createHash("sha256").update(Buffer.from(password, "latin1")).digest();
}
