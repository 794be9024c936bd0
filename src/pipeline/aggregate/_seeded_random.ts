/**
 * A small seeded pseudo-random generator (mulberry32) for the aggregation tests and benchmark, so a
 * failing random case can be replayed from its seed.
 *
 * @module
 */

/**
 * Creates a generator of uniform numbers in [0, 1) from a 32-bit seed.
 *
 * @param seed The seed; equal seeds give equal sequences.
 * @returns A function returning the next number of the sequence.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return function nextRandom(): number {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
