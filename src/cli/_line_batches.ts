/**
 * Cuts a byte stream (standard input) into batches of whole lines, so `tally push --stdin` can send an input
 * of any size in bodies that stay under the agent's body limit, in order, without holding it all.
 *
 * @module
 */

/** A run of whole lines from the input. */
export interface LineBatch {
  /** The bytes, ending with a newline unless the input ended without one. */
  readonly bytes: Uint8Array;
  /** The 1-based number of the batch's first line in the whole input. */
  readonly firstLine: number;
  /** How many lines the batch holds. */
  readonly lines: number;
}

const LF = 0x0a;

/**
 * Yields the input as batches of whole lines of at most `maxBytes` each; a single line longer than that is a
 * batch of its own. Bytes are never decoded, so a multi-byte character is never split.
 *
 * @param source The input, in chunks of any size.
 * @param maxBytes The largest batch, in bytes (at least 1).
 * @returns The batches, in input order.
 * @example
 * ```ts
 * for await (const batch of lineBatches(stdin, 512 * 1024)) await send(batch.bytes);
 * ```
 */
export async function* lineBatches(
  source: AsyncIterable<Uint8Array>,
  maxBytes: number,
): AsyncGenerator<LineBatch, void, undefined> {
  let buffer = new Uint8Array(Math.max(64 * 1024, Math.min(maxBytes * 2, 16 * 1024 * 1024)));
  let length = 0;
  let line = 1;
  // Where to look for the end of an overlong line: past the bytes already searched.
  let searchFrom = 0;

  function take(end: number): LineBatch {
    const bytes = buffer.slice(0, end);
    buffer.copyWithin(0, end, length);
    length -= end;
    const lines = countLines(bytes);
    const batch = { bytes, firstLine: line, lines };
    line += lines;
    return batch;
  }

  for await (const chunk of source) {
    if (length + chunk.length > buffer.length) {
      const grown = new Uint8Array(Math.max(buffer.length * 2, length + chunk.length));
      grown.set(buffer.subarray(0, length));
      buffer = grown;
    }
    buffer.set(chunk, length);
    length += chunk.length;
    while (length >= maxBytes) {
      // The last newline that keeps the batch within maxBytes; else the end of an overlong first line.
      let cut = buffer.lastIndexOf(LF, maxBytes - 1);
      if (cut < 0) cut = buffer.subarray(0, length).indexOf(LF, Math.max(maxBytes, searchFrom));
      if (cut < 0 || cut >= length) {
        // An overlong line without its end yet: look only at the new bytes next time.
        searchFrom = length;
        break;
      }
      searchFrom = 0;
      yield take(cut + 1);
    }
  }
  if (length > 0) yield take(length);
}

/** Newlines in `bytes`, plus one for a last line without its newline. */
function countLines(bytes: Uint8Array): number {
  let lines = 0;
  for (let i = bytes.indexOf(LF); i >= 0; i = bytes.indexOf(LF, i + 1)) lines++;
  return bytes.length > 0 && bytes[bytes.length - 1] !== LF ? lines + 1 : lines;
}
