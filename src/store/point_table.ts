/**
 * The store's `series` and `points` tables: one row per series key and sample kind, one row per flushed
 * point, and the series queries of the query API and `tally query`.
 *
 * The tables run no transactions of their own: the {@link Store} wraps the writes, and rolls the series-id
 * cache back with {@link PointTable.forget} when a transaction fails.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { TimeRows } from "./_time_rows.ts";
import type { Metric } from "../model/metric.ts";
import type { SampleKind } from "../model/sample.ts";
import { pointRow } from "./_point_row.ts";
import { labelsJson } from "./event_table.ts";
import { collectYoungGarbage } from "../runtime/collect_garbage.ts";

/** A series query: one metric name over a time range. */
export interface SeriesQuery {
  /** The metric name, matched exactly. */
  readonly name: string;
  /** The start of the range in ms since the epoch, inclusive. */
  readonly sinceMs: number;
  /** The end of the range in ms since the epoch, inclusive; unbounded by default. */
  readonly untilMs?: number;
  /** Labels every returned series must carry with exactly these values. */
  readonly labels?: Readonly<Record<string, string>>;
  /** The most points returned per series (the newest are kept); all by default. */
  readonly limit?: number;
}

/** One stored point of a series. */
export interface SeriesPoint {
  /** The window start in ms since the epoch. */
  readonly t: number;
  /**
   * The headline number: counter delta, gauge value, set count, summary median (else mean). `NaN` when
   * a non-number was stored (SQLite keeps NaN as NULL).
   */
  readonly value: number;
  /** The point's other numbers by name (counter `total`, `rate`; summary `count`, `min`, `p99`, …). */
  readonly fields?: Record<string, number>;
}

/** One series with its points in a range, oldest first. */
export interface SeriesResult {
  /** The metric name. */
  readonly name: string;
  /** The labels. */
  readonly labels: Record<string, string>;
  /** The sample kind the series was aggregated from. */
  readonly kind: SampleKind;
  /** The points, ascending by `t`. */
  readonly points: SeriesPoint[];
}

interface SeriesRow {
  readonly id: number;
  readonly labels: string;
  readonly kind: SampleKind;
}

interface PointRowOut {
  readonly t: number;
  readonly value: number | null;
  readonly fields: string | null;
}

/**
 * After how many rows {@link PointTable.insert} runs a young collection (`collectYoungGarbage`): each row
 * leaves its fields' JSON text behind, and the engine collects the young generation only once it is about as
 * large as the old one (75 MiB at 100 000 series), so a flush's rows piled up until then.
 */
const YOUNG_COLLECT_EVERY_ROWS = 10_000;

/** The largest time bound; SQLite integers are 64-bit, but JS numbers are exact only up to here. */
const MAX_TIME = Number.MAX_SAFE_INTEGER;

/**
 * The series and points tables' statements and the series-id cache, one per connection.
 *
 * @example
 * ```ts
 * const points = new PointTable(db);
 * points.insert(metrics, Date.now()); // inside the store's transaction
 * const series = points.query({ name: "api.hits", sinceMs: 0 });
 * ```
 */
export class PointTable {
  readonly #selectSeriesId: StatementSync;
  readonly #insertSeries: StatementSync;
  readonly #insertPoint: StatementSync;
  readonly #selectSeriesByName: StatementSync;
  readonly #selectNames: StatementSync;
  readonly #selectPoints: StatementSync;
  readonly #selectPointsNewest: StatementSync;
  readonly #deleteEmptySeries: StatementSync;
  /** Series ids by sample kind, then series key; cleared whenever series rows are deleted. */
  readonly #ids = new Map<SampleKind, Map<string, number>>();
  /** Series created since the last {@link PointTable.forget} or {@link PointTable.keep}. */
  readonly #added: Array<readonly [SampleKind, string]> = [];

  /** The rows by time, for retention and the size cap. */
  readonly byTime: TimeRows;

  /**
   * Prepares the statements.
   *
   * @param db The connection, at the current schema version.
   */
  constructor(db: DatabaseSync) {
    this.byTime = new TimeRows(db, "points");
    this.#selectSeriesId = db.prepare("SELECT id FROM series WHERE key = ? AND kind = ?");
    this.#insertSeries = db.prepare(
      "INSERT INTO series (key, name, labels, kind, created) VALUES (?, ?, ?, ?, ?)",
    );
    this.#insertPoint = db.prepare("INSERT INTO points (series_id, t, value, fields) VALUES (?, ?, ?, ?)");
    this.#selectSeriesByName = db.prepare(
      "SELECT id, labels, kind FROM series WHERE name = ? ORDER BY key, kind",
    );
    this.#selectNames = db.prepare("SELECT DISTINCT name FROM series ORDER BY name");
    this.#selectPoints = db.prepare(
      "SELECT t, value, fields FROM points WHERE series_id = ? AND t >= ? AND t <= ? ORDER BY t, rowid",
    );
    this.#selectPointsNewest = db.prepare(
      "SELECT t, value, fields FROM points WHERE series_id = ? AND t >= ? AND t <= ? " +
        "ORDER BY t DESC, rowid DESC LIMIT ?",
    );
    this.#deleteEmptySeries = db.prepare(
      "DELETE FROM series WHERE NOT EXISTS (SELECT 1 FROM points WHERE points.series_id = series.id)",
    );
  }

  /**
   * Inserts one point per metric, creating series rows as needed; the caller holds the transaction.
   *
   * @param metrics The metrics.
   * @param nowMs The `created` time of new series.
   */
  insert(metrics: readonly Metric[], nowMs: number): void {
    const insert = this.#insertPoint;
    for (let i = 0; i < metrics.length; i++) {
      const metric = metrics[i]!;
      const row = pointRow(metric.point);
      insert.run(this.#seriesId(metric, nowMs), metric.timeMs, row.value, row.fields);
      if (i % YOUNG_COLLECT_EVERY_ROWS === YOUNG_COLLECT_EVERY_ROWS - 1) collectYoungGarbage();
    }
  }

  /** The transaction committed: the series it created exist. */
  keep(): void {
    this.#added.length = 0;
  }

  /** The transaction rolled back: the series it created no longer exist, so the cache forgets them. */
  forget(): void {
    for (const [kind, key] of this.#added) this.#ids.get(kind)?.delete(key);
    this.#added.length = 0;
  }

  /**
   * Reads the series named `q.name` that have points in the range, sorted by series key.
   *
   * @param q The name, range, label filter and per-series point limit.
   * @returns The series with points in the range; empty when none match.
   */
  query(q: SeriesQuery): SeriesResult[] {
    const untilMs = q.untilMs ?? MAX_TIME;
    const results: SeriesResult[] = [];
    const rows = this.#selectSeriesByName.all(q.name) as unknown as SeriesRow[];
    for (const row of rows) {
      const labels = JSON.parse(row.labels) as Record<string, string>;
      if (q.labels !== undefined && !hasLabels(labels, q.labels)) continue;
      let pointRows: PointRowOut[];
      if (q.limit === undefined) {
        pointRows = this.#selectPoints.all(row.id, q.sinceMs, untilMs) as unknown as PointRowOut[];
      } else {
        pointRows = this.#selectPointsNewest.all(
          row.id,
          q.sinceMs,
          untilMs,
          q.limit,
        ) as unknown as PointRowOut[];
        pointRows.reverse();
      }
      if (pointRows.length === 0) continue;
      const points: SeriesPoint[] = new Array(pointRows.length);
      for (let i = 0; i < pointRows.length; i++) {
        const p = pointRows[i]!;
        const value = p.value ?? NaN;
        points[i] = p.fields === null
          ? { t: p.t, value }
          : { t: p.t, value, fields: JSON.parse(p.fields) as Record<string, number> };
      }
      results.push({ name: q.name, labels, kind: row.kind, points });
    }
    return results;
  }

  /**
   * Lists the distinct metric names stored.
   *
   * @returns The names, sorted.
   */
  names(): string[] {
    return (this.#selectNames.all() as unknown as { name: string }[]).map((row) => row.name);
  }

  /**
   * Deletes series left without points, and forgets every cached id.
   *
   * @returns How many series were deleted.
   */
  deleteEmptySeries(): number {
    const deleted = Number(this.#deleteEmptySeries.run().changes);
    if (deleted > 0) this.#ids.clear();
    return deleted;
  }

  #seriesId(metric: Metric, nowMs: number): number {
    let byKey = this.#ids.get(metric.kind);
    if (byKey === undefined) {
      byKey = new Map();
      this.#ids.set(metric.kind, byKey);
    }
    const cached = byKey.get(metric.key);
    if (cached !== undefined) return cached;
    const found = this.#selectSeriesId.get(metric.key, metric.kind) as { id: number } | undefined;
    let id: number;
    if (found !== undefined) {
      id = found.id;
    } else {
      const created = this.#insertSeries.run(
        metric.key,
        metric.name,
        labelsJson(metric.labels),
        metric.kind,
        nowMs,
      );
      id = Number(created.lastInsertRowid);
      this.#added.push([metric.kind, metric.key]);
    }
    byKey.set(metric.key, id);
    return id;
  }
}

function hasLabels(labels: Record<string, string>, wanted: Readonly<Record<string, string>>): boolean {
  for (const name in wanted) {
    if (!Object.hasOwn(wanted, name)) continue;
    if (!Object.hasOwn(labels, name) || labels[name] !== wanted[name]) return false;
  }
  return true;
}
