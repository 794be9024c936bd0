/**
 * The string parts of a collectd packet as the format reads them (`collectd.ts`): each identifier string is
 * checked and hashed where it lies in the packet and kept as its place ({@link CollectdPacketState}), to be
 * decoded only when the identity memo (`_collectd_identity.ts`) misses or a notification needs it.
 *
 * @module
 */

import type { BadReason, SampleSink } from "../model/sample.ts";
import type { CollectdIdentity, CollectdScope, RawIdentifier } from "./_collectd_identity.ts";
import { dispatchCollectdNotification } from "./_collectd_notification.ts";
import { decodeText, isValidUtf8 } from "./_text.ts";

// Identifier part types (collectd src/network.h).
/** The host part. */
export const TYPE_HOST = 0x0000;
/** The plugin part. */
export const TYPE_PLUGIN = 0x0002;
/** The plugin instance part. */
export const TYPE_PLUGIN_INSTANCE = 0x0003;
/** The type part (a types.db entry). */
export const TYPE_TYPE = 0x0004;
/** The type instance part. */
export const TYPE_TYPE_INSTANCE = 0x0005;

const HEADER_BYTES = 4;
/** collectd's DATA_MAX_NAME_LEN: identifier strings, NUL included. */
const MAX_NAME_BYTES = 128;
/** The FNV-1a hash of no bytes (its offset basis), a string part's hash before its first byte. */
const EMPTY_HASH = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/**
 * The per-packet parse state. One object per format instance, reset at the start of each packet (a
 * format call is synchronous and never re-entered), so the hot loop allocates nothing for it. The five
 * identifier strings are kept as where they sit in the packet ({@link RawIdentifier}), decoded only when
 * the memo misses or a notification needs them.
 */
export interface CollectdPacketState extends RawIdentifier {
  /** Why the current strings cannot be used (a separator byte, invalid UTF-8), or null. */
  stringReason: BadReason | null;
  /** Which strings are unusable (a bit per part type), so a later good one of the same part clears it. */
  stringBad: number;
  /** ms since the epoch; 0 for arrival time; NaN when out of range. */
  timeMs: number;
  /** The severity part's value (0 when absent, -1 when past 32 bits). */
  severity: number;
  /** The scope of the current host, plugin and plugin instance, or null when one changed since. */
  scope: CollectdScope | null;
  /** The identity of the current strings, or null when one changed since it was resolved. */
  identity: CollectdIdentity | null;
  /** The hash of the last string read by `scanString` (an out-parameter, so it returns a plain status). */
  hash: number;
  /** Where that string ends (its first NUL). */
  end: number;
}

/**
 * Creates the packet state of one format instance.
 *
 * @returns A state as {@link resetPacketState} leaves it.
 */
export function createPacketState(): CollectdPacketState {
  return {
    hostStart: 0,
    hostLength: 0,
    hostHash: EMPTY_HASH,
    pluginStart: 0,
    pluginLength: 0,
    pluginHash: EMPTY_HASH,
    pluginInstanceStart: 0,
    pluginInstanceLength: 0,
    pluginInstanceHash: EMPTY_HASH,
    typeStart: 0,
    typeLength: 0,
    typeHash: EMPTY_HASH,
    typeInstanceStart: 0,
    typeInstanceLength: 0,
    typeInstanceHash: EMPTY_HASH,
    stringReason: null,
    stringBad: 0,
    timeMs: 0,
    severity: 0,
    scope: null,
    identity: null,
    hash: EMPTY_HASH,
    end: 0,
  };
}

/**
 * Empties the state for a new packet: collectd never carries parts from one packet to the next.
 *
 * @param packet The state.
 */
export function resetPacketState(packet: CollectdPacketState): void {
  packet.hostLength = 0;
  packet.hostHash = EMPTY_HASH;
  packet.pluginLength = 0;
  packet.pluginHash = EMPTY_HASH;
  packet.pluginInstanceLength = 0;
  packet.pluginInstanceHash = EMPTY_HASH;
  packet.typeLength = 0;
  packet.typeHash = EMPTY_HASH;
  packet.typeInstanceLength = 0;
  packet.typeInstanceHash = EMPTY_HASH;
  packet.stringReason = null;
  packet.stringBad = 0;
  packet.timeMs = 0;
  packet.severity = 0;
  packet.scope = null;
  packet.identity = null;
}

/**
 * Reads one of the five identifier strings into the packet state: where it sits, and its hash. A string
 * holding a series-key separator or invalid UTF-8 makes the value lists that use it bad (until a good one of
 * the same part follows), not the packet.
 *
 * @param packet The packet state.
 * @param bytes The packet.
 * @param p Where the part starts.
 * @param length The part's length, header included (checked against the packet's end by the caller).
 * @param type The part type, one of `TYPE_HOST` to `TYPE_TYPE_INSTANCE`.
 * @returns null when read (usable or not); else the reason the packet is malformed.
 */
export function readIdentifierString(
  packet: CollectdPacketState,
  bytes: Uint8Array,
  p: number,
  length: number,
  type: number,
): BadReason | null {
  const status = scanString(packet, bytes, p, length, MAX_NAME_BYTES, true);
  const bit = 1 << type;
  if (status === "bad_tags" || status === "invalid_utf8") {
    // The part is well-formed; only value lists that use this string are bad.
    packet.stringBad |= bit;
    packet.stringReason = status;
    packet.identity = null;
    return null;
  }
  if (status !== null) return status;
  packet.stringBad &= ~bit;
  if (packet.stringBad === 0) packet.stringReason = null;
  const start = p + HEADER_BYTES;
  const n = packet.end - start;
  const hash = packet.hash;
  packet.identity = null;
  switch (type) {
    case TYPE_HOST:
      packet.hostStart = start;
      packet.hostLength = n;
      packet.hostHash = hash;
      packet.scope = null;
      break;
    case TYPE_PLUGIN:
      packet.pluginStart = start;
      packet.pluginLength = n;
      packet.pluginHash = hash;
      packet.scope = null;
      break;
    case TYPE_PLUGIN_INSTANCE:
      packet.pluginInstanceStart = start;
      packet.pluginInstanceLength = n;
      packet.pluginInstanceHash = hash;
      packet.scope = null;
      break;
    case TYPE_TYPE:
      packet.typeStart = start;
      packet.typeLength = n;
      packet.typeHash = hash;
      break;
    default:
      packet.typeInstanceStart = start;
      packet.typeInstanceLength = n;
      packet.typeInstanceHash = hash;
  }
  return null;
}

/**
 * Checks a string part and finds its end (`packet.end`, the first NUL: C semantics) and the FNV-1a hash of
 * its bytes (`packet.hash`). The payload must end in NUL (collectd's rule).
 *
 * @param packet The packet state, which receives `hash` and `end`.
 * @param bytes The packet.
 * @param p Where the part starts.
 * @param length The part's length, header included.
 * @param maxBytes The most payload bytes collectd allows, NUL included.
 * @param keyText Whether the string goes into series keys (then separators make it unusable).
 * @returns null when usable; `bad_tags` (a series-key separator, when `keyText`) / `invalid_utf8` when
 *   well-formed but unusable; else the reason the packet is malformed.
 */
export function scanString(
  packet: CollectdPacketState,
  bytes: Uint8Array,
  p: number,
  length: number,
  maxBytes: number,
  keyText: boolean,
): BadReason | null {
  const s = p + HEADER_BYTES;
  const e = p + length;
  if (e - s > maxBytes) return "too_long";
  if (e <= s || bytes[e - 1] !== 0) return "malformed_part";
  let h = EMPTY_HASH;
  let high = 0;
  let separator = false;
  let i = s;
  for (; i < e; i++) {
    const b = bytes[i]!;
    if (b === 0) break;
    if (b <= 2) separator = true;
    high |= b;
    h = Math.imul(h ^ b, FNV_PRIME);
  }
  packet.hash = h;
  packet.end = i;
  if (separator && keyText) return "bad_tags";
  if ((high & 0x80) !== 0 && !isValidUtf8(bytes, s, i)) return "invalid_utf8";
  return null;
}

/**
 * Dispatches the notification of a message part, with the identifier strings the packet set before it.
 *
 * @param packet The packet state.
 * @param bytes The packet.
 * @param text The message.
 * @param sink Receives one event or one `bad`.
 */
export function dispatchNotification(
  packet: CollectdPacketState,
  bytes: Uint8Array,
  text: string,
  sink: SampleSink,
): void {
  dispatchCollectdNotification({
    host: decodeText(bytes, packet.hostStart, packet.hostStart + packet.hostLength),
    plugin: decodeText(bytes, packet.pluginStart, packet.pluginStart + packet.pluginLength),
    pluginInstance: decodeText(
      bytes,
      packet.pluginInstanceStart,
      packet.pluginInstanceStart + packet.pluginInstanceLength,
    ),
    type: decodeText(bytes, packet.typeStart, packet.typeStart + packet.typeLength),
    typeInstance: decodeText(
      bytes,
      packet.typeInstanceStart,
      packet.typeInstanceStart + packet.typeInstanceLength,
    ),
    text,
    severity: packet.severity,
    stringReason: packet.stringReason,
    timeMs: packet.timeMs,
  }, sink);
}
