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
 * A set's window state: the distinct members. Exact and unbounded within a window; the series cap
 * bounds the number of sets, not their size.
 */
export interface SetState {
  /** The discriminant. */
  readonly kind: "set";
  /** The distinct members seen. */
  members: Set<string>;
}

/**
 * Creates an empty set state.
 *
 * @returns The state.
 */
export function setInit(): SetState {
  return { kind: "set", members: new Set() };
}

/**
 * Adds one member.
 *
 * @param s The state.
 * @param member The member.
 */
export function setAdd(s: SetState, member: string): void {
  s.members.add(member);
}

/**
 * Merges `from` into `into` (union); the larger set receives.
 *
 * @param into The state that receives.
 * @param from The state merged in (consumed).
 */
export function setMerge(into: SetState, from: SetState): void {
  if (from.members.size > into.members.size) {
    const small = into.members;
    into.members = from.members;
    for (const m of small) into.members.add(m);
    return;
  }
  for (const m of from.members) into.members.add(m);
}

/**
 * Finishes a set.
 *
 * @param s The state.
 * @returns The number of distinct members.
 */
export function setFinish(s: SetState): number {
  return s.members.size;
}
