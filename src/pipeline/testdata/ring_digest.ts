/**
 * Test fixture: an FNV-1a digest over frames, so that both ends of a cross-thread ring test can compare
 * what was written with what was read without shipping the bytes back.
 *
 * @module
 */

/**
 * Folds one frame into a running FNV-1a digest.
 *
 * @param digest The digest so far (start with `0x811c9dc5`).
 * @param inputId The frame's input id.
 * @param format The frame's format id.
 * @param seq The frame's sequence number.
 * @param windowMs The frame's window stamp.
 * @param bytes The frame's bytes.
 * @returns The new digest.
 */
export function frameDigest(
  digest: number,
  inputId: number,
  format: number,
  seq: number,
  windowMs: number,
  bytes: Uint8Array,
): number {
  let h = digest;
  h = Math.imul(h ^ inputId, 0x01000193);
  h = Math.imul(h ^ format, 0x01000193);
  h = Math.imul(h ^ (seq % 0x7fffffff), 0x01000193);
  h = Math.imul(h ^ (windowMs % 0x7fffffff), 0x01000193);
  h = Math.imul(h ^ bytes.length, 0x01000193);
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}
