/**
 * The store's `inbox` table: frames the HTTP input acknowledged (a 2xx) that no flush has stored yet.
 *
 * Each row is one frame exactly as it entered the pipeline (`format`, `bytes`), the component id of the
 * input that took it, and the flush window it was stamped with. The flush of that window deletes the row
 * in the transaction that stores the window's points; rows still there at start-up are replayed into the
 * pipeline, stamped with their own window again. See `inbox.ts` for the group commit around it.
 *
 * The table runs no transactions of its own: the {@link Store} wraps its calls.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { FormatId } from "../model/frame.ts";

/** One frame to keep. */
export interface InboxEntry {
  /** The component id of the input that accepted it. */
  readonly input: string;
  /** The frame's format. */
  readonly format: FormatId;
  /** The frame's bytes. */
  readonly bytes: Uint8Array;
}

/** One kept frame. */
export interface InboxRow extends InboxEntry {
  /** The row id, increasing in commit order. */
  readonly id: number;
  /** The flush window the frame was stamped with, in ms since the epoch. */
  readonly windowMs: number;
}

interface Row {
  readonly id: number;
  readonly window_ms: number;
  readonly input: string;
  readonly format: number;
  readonly bytes: Uint8Array;
}

/**
 * The inbox table's statements, prepared once per connection.
 *
 * @example
 * ```ts
 * const table = new InboxTable(db);
 * const ids = table.insert([{ input: "http", format: FORMAT_IDS.json, bytes }], windowMs);
 * ```
 */
export class InboxTable {
  readonly #insert: StatementSync;
  readonly #selectPage: StatementSync;
  readonly #deleteId: StatementSync;
  readonly #release: StatementSync;
  readonly #count: StatementSync;

  /**
   * Prepares the statements.
   *
   * @param db The connection, at the current schema version.
   */
  constructor(db: DatabaseSync) {
    this.#insert = db.prepare("INSERT INTO inbox (window_ms, input, format, bytes) VALUES (?, ?, ?, ?)");
    this.#selectPage = db.prepare(
      "SELECT id, window_ms, input, format, bytes FROM inbox WHERE id > ? ORDER BY id LIMIT ?",
    );
    this.#deleteId = db.prepare("DELETE FROM inbox WHERE id = ?");
    this.#release = db.prepare("DELETE FROM inbox WHERE window_ms <= ? AND window_ms > ?");
    this.#count = db.prepare("SELECT count(*) AS n FROM inbox");
  }

  /**
   * Inserts frames stamped with one window; the caller holds the transaction.
   *
   * @param entries The frames.
   * @param windowMs The window they are stamped with.
   * @returns The new ids, in order.
   */
  insert(entries: readonly InboxEntry[], windowMs: number): number[] {
    const ids: number[] = new Array(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      ids[i] = Number(this.#insert.run(windowMs, entry.input, entry.format, entry.bytes).lastInsertRowid);
    }
    return ids;
  }

  /**
   * Deletes rows by id.
   *
   * @param ids The ids.
   */
  delete(ids: readonly number[]): void {
    for (const id of ids) this.#deleteId.run(id);
  }

  /**
   * Deletes the rows of every window up to `windowMs` except those at or before `keepUpToMs`.
   *
   * @param windowMs The newest window stored, inclusive.
   * @param keepUpToMs The newest window whose rows must stay (a flush that failed); `-Infinity` for none.
   * @returns How many rows were deleted.
   */
  release(windowMs: number, keepUpToMs: number): number {
    // SQLite has no -Infinity integer: a bound below every window does the same.
    const keep = Number.isFinite(keepUpToMs) ? keepUpToMs : Number.MIN_SAFE_INTEGER;
    return Number(this.#release.run(windowMs, keep).changes);
  }

  /**
   * Reads rows in id order, a page at a time (the inbox may hold more than fits in memory at once).
   *
   * @param afterId Rows with a larger id only; 0 for the first page.
   * @param limit The most rows returned.
   * @returns The rows, oldest first.
   */
  page(afterId: number, limit: number): InboxRow[] {
    return (this.#selectPage.all(afterId, limit) as unknown as Row[]).map((row) => ({
      id: row.id,
      windowMs: row.window_ms,
      input: row.input,
      format: row.format as FormatId,
      bytes: row.bytes,
    }));
  }

  /**
   * Counts the rows.
   *
   * @returns The count.
   */
  count(): number {
    return Number((this.#count.get() as { n: number | bigint }).n);
  }
}
