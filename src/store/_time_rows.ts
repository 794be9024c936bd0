/**
 * The rows of one store table ordered by their time column `t`, as retention and the size cap see them:
 * the points and the events tables both keep one.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";

/**
 * Deletes and counts a table's rows by their `t` column; the caller holds the transaction.
 *
 * @example
 * ```ts
 * const points = new TimeRows(db, "points");
 * points.deleteBefore(Date.now() - 7 * 86_400_000);
 * ```
 */
export class TimeRows {
  readonly #deleteBefore: StatementSync;
  readonly #deleteUpTo: StatementSync;
  readonly #count: StatementSync;
  readonly #nthTime: StatementSync;

  /**
   * Prepares the statements.
   *
   * @param db The connection, at the current schema version.
   * @param table The table, one of the store's own (`points`, `events`): never user input.
   * @param retainedBy The column retention compares with its cutoff: `t` by default; the events table's
   *   `end_t`, so that an event is kept for the retention period after it ended, and one that has not
   *   ended (`NULL`) is never past it. The size cap still takes the oldest rows by `t`.
   */
  constructor(db: DatabaseSync, table: "points" | "events", retainedBy: "t" | "end_t" = "t") {
    // An end is never before its start, so `t < cutoff` holds wherever `end_t < cutoff` does: saying so
    // lets SQLite narrow the delete through the index on `t` instead of reading every row.
    const past = retainedBy === "t" ? "t < ?1" : `t < ?1 AND ${retainedBy} < ?1`;
    this.#deleteBefore = db.prepare(`DELETE FROM ${table} WHERE ${past}`);
    this.#deleteUpTo = db.prepare(`DELETE FROM ${table} WHERE t <= ?`);
    this.#count = db.prepare(`SELECT count(*) AS n FROM ${table}`);
    this.#nthTime = db.prepare(`SELECT t FROM ${table} ORDER BY t LIMIT 1 OFFSET ?`);
  }

  /**
   * Deletes the rows whose retention column is before `cutoffMs`.
   *
   * @param cutoffMs The cutoff, exclusive.
   * @returns How many were deleted.
   */
  deleteBefore(cutoffMs: number): number {
    return Number(this.#deleteBefore.run(cutoffMs).changes);
  }

  /**
   * Deletes the rows at or before `t`.
   *
   * @param t The bound, inclusive.
   * @returns How many were deleted.
   */
  deleteUpTo(t: number): number {
    return Number(this.#deleteUpTo.run(t).changes);
  }

  /**
   * Counts the rows.
   *
   * @returns The count.
   */
  count(): number {
    return Number((this.#count.get() as { n: number | bigint }).n);
  }

  /**
   * The time of the row at `offset` in time order, for the size cap.
   *
   * @param offset The 0-based offset.
   * @returns The time, or `undefined` past the last row.
   */
  timeAt(offset: number): number | undefined {
    return (this.#nthTime.get(offset) as { t: number } | undefined)?.t;
  }
}
