/**
 * StatsD set members as strings without decoding the same member again and again: a small direct-mapped
 * table of recently seen ASCII members, keyed by a hash of their bytes.
 *
 * A set line (`users:alice|s`) hands its member to the sink as a string, and decoding it allocated one
 * string per line: in the StatsD benchmark's mix (a ninth of the lines are sets) that was 3-4 % of the
 * worker's time and most of the garbage a steady stream of known series still made. Members repeat
 * (the same users, hosts, ids within a window), so a hit returns the string decoded the last time; a
 * miss decodes and takes the slot. The table is bounded ({@link MEMBER_SLOTS} strings of at most
 * {@link MEMBER_MAX_BYTES} bytes), so members of any cardinality cost at most its size in memory.
 *
 * @module
 */

import { FNV_OFFSET, FNV_PRIME } from "./_statsd_identity.ts";
import { decode } from "./_statsd_slices.ts";
import { sameAscii } from "./_text.ts";

/** The slots of the table; a power of two. */
const MEMBER_SLOTS = 4096;
/** Longer members are decoded every time (they are rarely repeated ids, and comparing costs as much). */
const MEMBER_MAX_BYTES = 64;

const members: Array<string | undefined> = new Array(MEMBER_SLOTS).fill(undefined);

/**
 * Returns the text of a set member's bytes `[s, e)`: the string decoded for the same bytes before when
 * the table still holds it, else a new one (then remembered).
 *
 * @param bytes The line's bytes.
 * @param s The member's start.
 * @param e Its end (exclusive), after `s`.
 * @param ascii Whether the line is all ASCII (only ASCII members are remembered).
 * @returns The member's text.
 */
export function memberText(bytes: Uint8Array, s: number, e: number, ascii: boolean): string {
  const n = e - s;
  if (!ascii || n > MEMBER_MAX_BYTES) return decode(bytes, s, e, ascii);
  let h = FNV_OFFSET;
  for (let i = s; i < e; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
  const slot = (h ^ (h >>> 15)) & (MEMBER_SLOTS - 1);
  const known = members[slot];
  if (known !== undefined && known.length === n && sameAscii(known, bytes, s)) return known;
  const text = decode(bytes, s, e, true);
  members[slot] = text;
  return text;
}

/**
 * Empties the member table (a worker's warm-up parses made-up members; see `forgetIdentities`).
 */
export function forgetMembers(): void {
  members.fill(undefined);
}

/** The members the table holds now (for tests). */
export function rememberedMembers(): number {
  let n = 0;
  for (const member of members) if (member !== undefined) n++;
  return n;
}
