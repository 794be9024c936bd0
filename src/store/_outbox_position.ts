/**
 * The read position of a disk outbox, in a small file of two checksummed slots written alternately in
 * place, one `pwrite(2)` of 32 bytes per update.
 *
 * Why not a temp file renamed over the old one: on ext4 a rename over an existing file forces the new
 * file's data out first (`auto_da_alloc`), about 1 ms per update, paid for every batch delivered. A 32-byte
 * write inside one page is all-or-nothing for a process crash; a power cut can tear at most the slot being
 * written, and the other slot still holds the previous position (re-sending a batch, never skipping one).
 *
 * Slot layout (little-endian): `u32 magic "TPOS"`, `u32 CRC-32 of bytes 8-31`, `f64 generation`,
 * `f64 segment`, `f64 offset`. The valid slot with the higher generation wins.
 *
 * @module
 */

import { closeSync, existsSync, openSync, readSync, writeSync } from "node:fs";
import { crc32 } from "node:zlib";

/** A read position: the segment sequence and the byte offset in it. */
export interface OutboxPosition {
  /** The segment's sequence number. */
  readonly seq: number;
  /** The byte offset of the next record to read in it. */
  readonly offset: number;
}

const SLOT_BYTES = 32;
const MAGIC = 0x534f5054; // "TPOS" read as a little-endian u32

/** The position file of one outbox: a resource holding its descriptor. */
export class PositionFile {
  readonly #fd: number;
  readonly #slot = new Uint8Array(SLOT_BYTES);
  readonly #view = new DataView(this.#slot.buffer);
  #generation: number;
  #closed = false;

  /**
   * Opens (creating when missing) the position file.
   *
   * @param path The file path.
   * @throws {Error} When the file cannot be opened for reading and writing.
   */
  constructor(path: string) {
    this.#fd = openSync(path, existsSync(path) ? "r+" : "w+");
    const { best, bytes } = this.#readBest();
    this.#generation = best?.generation ?? 0;
    this.position = best?.position;
    this.damaged = best === undefined && bytes > 0;
  }

  /** The position read when the file was opened, or `undefined` when no slot was valid (or the file new). */
  readonly position: OutboxPosition | undefined;

  /** Whether the file held bytes but no valid slot (then reading restarts from the oldest segment). */
  readonly damaged: boolean;

  /**
   * Writes a position into the older slot.
   *
   * @param position The position.
   * @throws {Error} When the write fails.
   */
  write(position: OutboxPosition): void {
    const generation = ++this.#generation;
    const view = this.#view;
    view.setUint32(0, MAGIC, true);
    view.setFloat64(8, generation, true);
    view.setFloat64(16, position.seq, true);
    view.setFloat64(24, position.offset, true);
    view.setUint32(4, crc32(this.#slot.subarray(8)) >>> 0, true);
    writeSync(this.#fd, this.#slot, 0, SLOT_BYTES, (generation % 2) * SLOT_BYTES);
  }

  /** Closes the descriptor. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.#fd);
  }

  #readBest(): { best: { generation: number; position: OutboxPosition } | undefined; bytes: number } {
    const bytes = new Uint8Array(2 * SLOT_BYTES);
    const got = readSync(this.#fd, bytes, 0, bytes.length, 0);
    let best: { generation: number; position: OutboxPosition } | undefined;
    for (let slot = 0; (slot + 1) * SLOT_BYTES <= got; slot++) {
      const at = slot * SLOT_BYTES;
      const view = new DataView(bytes.buffer, at, SLOT_BYTES);
      if (view.getUint32(0, true) !== MAGIC) continue;
      if ((crc32(bytes.subarray(at + 8, at + SLOT_BYTES)) >>> 0) !== view.getUint32(4, true)) continue;
      const generation = view.getFloat64(8, true);
      const seq = view.getFloat64(16, true);
      const offset = view.getFloat64(24, true);
      if (![generation, seq, offset].every((n) => Number.isSafeInteger(n) && n >= 0)) continue;
      if (best === undefined || generation > best.generation) {
        best = { generation, position: { seq, offset } };
      }
    }
    return { best, bytes: got };
  }
}
