/**
 * The set reducer: the distinct members of a StatsD `|s` series in one window.
 *
 * Part of the mergeable reducers (`reducers.ts` holds the contract and the dispatch): merging the
 * states of any split of a stream (each part fed in arrival order, a frame never split) finishes to the
 * same value as one state fed the whole stream. States are plain data that cross `postMessage` by
 * structured clone; `merge` consumes `from`.
 *
 * @module
 */

/**
 * A set's window state: the distinct members, each kept as a 53-bit hash of its text, in an open-addressed
 * table of numbers rather than a `Set` of strings. Unbounded within a window; the series cap bounds the
 * number of sets, not their size.
 *
 * In a 100 000-series window of the StatsD benchmark's mix, a tenth of them sets of about 26 members,
 * the sets were more than half the worker's memory: a `Set<string>` of 26 members took 4 KB (a string
 * is about 60 bytes of heap, and the engine's hash table about 40 more per entry), a `Set<number>` still
 * 3 KB. This table takes 8 bytes a slot, at most half of them used (about 0.5 KB for 26 members), and
 * crosses to the main thread as one block of bytes. Two different members count as one only when their
 * hashes collide: with n members in one window, the chance of any collision is about n² / 2^54 (under
 * one in 10^8 at 10 000 members, one in 18 000 at a million).
 */
export interface SetState {
  /** The discriminant. */
  readonly kind: "set";
  /** The members' {@link memberHash}es plus one (0 marks a free slot), linear probing; a power of two long. */
  slots: Float64Array;
  /** The distinct members held. */
  size: number;
}

/** The slots of a new set: room for 4 members before it doubles. */
const INITIAL_SLOTS = 8;

/** The murmur3 finaliser: spreads every input bit over the 32-bit result. */
function _mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * Hashes a member to a non-negative integer below 2^53 (exact as a number): two independent 32-bit
 * multiplicative hashes of the UTF-16 code units, finalised, 32 + 21 of their bits.
 *
 * @param member The member.
 * @returns The hash.
 */
export function memberHash(member: string): number {
  let h1 = 0x811c9dc5;
  let h2 = 0x9747b28c;
  for (let i = 0; i < member.length; i++) {
    const c = member.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  h1 = _mix32(h1 ^ member.length);
  h2 = _mix32(h2 ^ Math.imul(member.length, 0x27d4eb2f));
  return (h1 >>> 0) * 2097152 + (h2 >>> 11);
}

/**
 * Creates an empty set state.
 *
 * @returns The state.
 */
export function setInit(): SetState {
  return { kind: "set", slots: new Float64Array(INITIAL_SLOTS), size: 0 };
}

/** Puts a stored value (hash + 1) into `slots` unless there; returns whether it was new. No growing. */
function _put(slots: Float64Array, value: number): boolean {
  const mask = slots.length - 1;
  // The low 32 bits of the hash (ToUint32 keeps them for any integer below 2^53).
  let i = (value >>> 0) & mask;
  for (;;) {
    const at = slots[i]!;
    if (at === 0) {
      slots[i] = value;
      return true;
    }
    if (at === value) return false;
    i = (i + 1) & mask;
  }
}

/** Doubles the table when one more member would fill more than half of it. */
function _reserve(s: SetState, more: number): void {
  let length = s.slots.length;
  while ((s.size + more) * 2 > length) length *= 2;
  if (length === s.slots.length) return;
  const old = s.slots;
  const slots = new Float64Array(length);
  for (let i = 0; i < old.length; i++) if (old[i] !== 0) _put(slots, old[i]!);
  s.slots = slots;
}

/**
 * Adds one member.
 *
 * @param s The state.
 * @param member The member.
 */
export function setAdd(s: SetState, member: string): void {
  _reserve(s, 1);
  if (_put(s.slots, memberHash(member) + 1)) s.size++;
}

/**
 * Merges `from` into `into` (union); the larger set receives.
 *
 * @param into The state that receives.
 * @param from The state merged in (consumed).
 */
export function setMerge(into: SetState, from: SetState): void {
  let small = from;
  if (from.size > into.size) {
    small = { kind: "set", slots: into.slots, size: into.size };
    into.slots = from.slots;
    into.size = from.size;
  }
  _reserve(into, small.size);
  const slots = small.slots;
  for (let i = 0; i < slots.length; i++) {
    if (slots[i] !== 0 && _put(into.slots, slots[i]!)) into.size++;
  }
}

/**
 * Finishes a set.
 *
 * @param s The state.
 * @returns The number of distinct members.
 */
export function setFinish(s: SetState): number {
  return s.size;
}
