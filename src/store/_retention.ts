/**
 * Retention and the size cap of the store: what `Store.enforce` runs every minute.
 *
 * @module
 */

import type { EventTable } from "./event_table.ts";
import type { PointTable } from "./point_table.ts";
import type { TimeRows } from "./_time_rows.ts";

/** What one {@link enforceLimits} run deleted. */
export interface EnforceResult {
  /** The points deleted, by age and by the size cap. */
  readonly deletedPoints: number;
  /** The events deleted, by age and by the size cap. */
  readonly deletedEvents: number;
}

/** The limits and the store's measures. */
export interface EnforceOptions {
  /** Points and events older than this (ms since the epoch) go. */
  readonly cutoffMs: number;
  /** The size cap in bytes. */
  readonly maxBytes: number;
  /** Measures the live size of the database. */
  readonly sizeBytes: () => number;
  /** Returns free pages to the file system (when the file allows it). */
  readonly vacuum: () => void;
}

/** The size cap loop stops after this many rounds even when the file is still over the cap. */
const MAX_CAP_ROUNDS = 32;

/** The share of the size cap the cap loop aims for, so the next run does not delete a sliver again. */
const CAP_HEADROOM = 0.95;

/** The smallest number of rows one size-cap round deletes, so that a round always makes progress. */
const MIN_CAP_BATCH = 64;

/**
 * Applies retention, then the size cap: deletes points and events older than the cutoff, then, while the
 * live size is over the cap, the oldest points (and, once no point is left, the oldest events) in batches
 * sized from the excess; then the series left without points.
 *
 * @param points The points table.
 * @param events The events table.
 * @param options The cutoff, the cap and the store's size and vacuum.
 * @returns How many points and events were deleted.
 * @throws {Error} When a delete fails (the SQLite error).
 */
export function enforceLimits(
  points: PointTable,
  events: EventTable,
  options: EnforceOptions,
): EnforceResult {
  let deletedPoints = points.byTime.deleteBefore(options.cutoffMs);
  let deletedEvents = events.byTime.deleteBefore(options.cutoffMs);
  options.vacuum();
  for (let round = 0; round < MAX_CAP_ROUNDS; round++) {
    const used = options.sizeBytes();
    if (used <= options.maxBytes) break;
    const keep = options.maxBytes / used;
    const pointCount = points.byTime.count();
    if (pointCount > 0) {
      deletedPoints += deleteOldest(pointCount, keep, points.byTime);
    } else {
      const eventCount = events.byTime.count();
      if (eventCount === 0) break;
      deletedEvents += deleteOldest(eventCount, keep, events.byTime);
    }
    options.vacuum();
  }
  if (deletedPoints > 0 && points.deleteEmptySeries() > 0) options.vacuum();
  return { deletedPoints, deletedEvents };
}

/**
 * Deletes the oldest rows of one table so that about `keep` of them remain, less 5 % headroom: freed
 * space is never exactly proportional to rows, and a little slack spares the next run from deleting a
 * sliver again. Whole timestamps go at a time.
 */
function deleteOldest(rows: number, keep: number, byTime: TimeRows): number {
  const n = Math.min(rows, Math.max(MIN_CAP_BATCH, rows - Math.floor(rows * keep * CAP_HEADROOM)));
  const t = byTime.timeAt(n - 1);
  return t === undefined ? 0 : byTime.deleteUpTo(t);
}
