/**
 * The embedded store: every flushed point and every event, kept in `<data_dir>/tally.db` (node:sqlite,
 * WAL mode) for a bounded time and size, and read back by the query API and `tally query`.
 *
 * Schema (version 1, in `PRAGMA user_version`):
 *
 * - `series (id, key, name, labels, kind, created)`: one row per series key and sample kind. `labels` is a
 *   JSON object; `kind` is the {@link SampleKind}. Unique on `(key, kind)` rather than `key` alone, because
 *   StatsD lets one name arrive as a counter and as a gauge, and mixing their points in one series would
 *   make both meaningless.
 * - `points (series_id, t, value, fields)`: `t` is the window start in ms, `value` the headline number and
 *   `fields` the other numbers as JSON (see `_point_row.ts`). Indexed on `(series_id, t)` for queries and
 *   on `t` for retention.
 * - `events (id, t, kind, title, text, labels, status)`, indexed on `t`.
 *
 * Other components (the per-output outboxes) may add their own tables or files under the same data
 * directory: this store never takes an exclusive lock and never touches tables it does not own.
 *
 * @module
 */

import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { Metric } from "../model/metric.ts";
import type { Labels, SampleKind, TallyEvent } from "../model/sample.ts";
import { pointRow } from "./_point_row.ts";

/** The store's file name inside the data directory. */
export const STORE_FILE = "tally.db";

/** The default retention: 7 days. */
export const DEFAULT_RETENTION_MS = 7 * 86_400_000;

/** The default size cap: 1 GiB. */
export const DEFAULT_MAX_BYTES = 1024 ** 3;

/** The default number of events {@link Store.events} returns. */
export const DEFAULT_EVENT_LIMIT = 1000;

const SCHEMA_VERSION = 1;

/** The size cap loop stops after this many rounds even when the file is still over the cap. */
const MAX_CAP_ROUNDS = 32;

/** The share of the size cap the cap loop aims for, so the next run does not delete a sliver again. */
const CAP_HEADROOM = 0.95;

/** The smallest number of rows one size-cap round deletes, so that a round always makes progress. */
const MIN_CAP_BATCH = 64;

/** Waits up to this long for another connection's write lock instead of failing at once. */
const BUSY_TIMEOUT_MS = 5000;

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS series (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  name TEXT NOT NULL,
  labels TEXT NOT NULL,
  kind TEXT NOT NULL,
  created INTEGER NOT NULL,
  UNIQUE (key, kind)
);
CREATE INDEX IF NOT EXISTS series_name ON series (name);
CREATE TABLE IF NOT EXISTS points (
  series_id INTEGER NOT NULL,
  t INTEGER NOT NULL,
  value REAL,
  fields TEXT
);
CREATE INDEX IF NOT EXISTS points_series_t ON points (series_id, t);
CREATE INDEX IF NOT EXISTS points_t ON points (t);
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY,
  t INTEGER NOT NULL,
  kind TEXT NOT NULL,
  title TEXT NOT NULL,
  text TEXT NOT NULL,
  labels TEXT NOT NULL,
  status INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS events_t ON events (t);
`;

/** Options for {@link Store.open}. */
export interface StoreOptions {
  /** The age past which points and events are deleted by {@link Store.enforce}; 7 days by default. */
  readonly retentionMs?: number;
  /** The size above which {@link Store.enforce} deletes the oldest points; 1 GiB by default. */
  readonly maxBytes?: number;
  /** The clock, for retention and the `created` column; `Date.now` by default. */
  readonly now?: () => number;
  /**
   * The store is only read (`tally query`): nothing is created, the file must exist and writes fail.
   * Reading while a collector writes is safe in WAL mode.
   */
  readonly readOnly?: boolean;
}

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

/** An event query: a time range, newest first. */
export interface EventQuery {
  /** The start of the range in ms since the epoch, inclusive. */
  readonly sinceMs: number;
  /** The end of the range in ms since the epoch, inclusive; unbounded by default. */
  readonly untilMs?: number;
  /** The most events returned (the newest); 1000 by default. */
  readonly limit?: number;
}

/** One stored event. */
export interface StoredEvent {
  /** The row id, increasing in insertion order. */
  readonly id: number;
  /** The event time in ms since the epoch (the arrival time when the event carried none). */
  readonly t: number;
  /** The kind of event. */
  readonly kind: TallyEvent["kind"];
  /** The title (service checks: the check name). */
  readonly title: string;
  /** The text body. */
  readonly text: string;
  /** The labels. */
  readonly labels: Record<string, string>;
  /** The service-check status 0–3, or -1 for plain events. */
  readonly status: number;
}

/** What one {@link Store.enforce} run deleted. */
export interface EnforceResult {
  /** The points deleted, by age and by the size cap. */
  readonly deletedPoints: number;
  /** The events deleted, by age and by the size cap. */
  readonly deletedEvents: number;
}

/** A store operation failed; `cause` holds the SQLite or file-system error. */
export class StoreError extends Error {
  /**
   * @param message What failed and the state found.
   * @param options The underlying error.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreError";
  }
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

interface EventRow {
  readonly id: number;
  readonly t: number;
  readonly kind: TallyEvent["kind"];
  readonly title: string;
  readonly text: string;
  readonly labels: string;
  readonly status: number;
}

/** The prepared statements, prepared once per store. */
interface Statements {
  readonly selectSeriesId: StatementSync;
  readonly insertSeries: StatementSync;
  readonly insertPoint: StatementSync;
  readonly insertEvent: StatementSync;
  readonly selectSeriesByName: StatementSync;
  readonly selectNames: StatementSync;
  readonly selectPoints: StatementSync;
  readonly selectPointsNewest: StatementSync;
  readonly selectEvents: StatementSync;
  readonly deletePointsBefore: StatementSync;
  readonly deleteEventsBefore: StatementSync;
  readonly deletePointsUpTo: StatementSync;
  readonly deleteEventsUpTo: StatementSync;
  readonly countPoints: StatementSync;
  readonly countEvents: StatementSync;
  readonly nthPointTime: StatementSync;
  readonly nthEventTime: StatementSync;
  readonly deleteEmptySeries: StatementSync;
  readonly incrementalVacuum: StatementSync;
}

/** The largest time bound; SQLite integers are 64-bit, but JS numbers are exact only up to here. */
const MAX_TIME = Number.MAX_SAFE_INTEGER;

/**
 * The store: a resource owning one SQLite connection. Create it with {@link Store.open}; close it once.
 *
 * @example
 * ```ts
 * const store = Store.open("./data");
 * store.append(metrics);
 * const series = store.query({ name: "api.hits", sinceMs: Date.now() - 3_600_000 });
 * store.close();
 * ```
 */
export class Store {
  #db: DatabaseSync;
  #path: string;
  #statements: Statements;
  #retentionMs: number;
  #maxBytes: number;
  #now: () => number;
  #incrementalVacuum: boolean;
  /** Series ids by sample kind, then series key; cleared whenever series rows are deleted. */
  #ids = new Map<SampleKind, Map<string, number>>();
  #closed = false;

  /**
   * Use {@link Store.open}; the constructor takes an already-opened, already-migrated connection.
   *
   * @param db The connection.
   * @param path The database file path, for messages.
   * @param options The resolved options.
   */
  constructor(db: DatabaseSync, path: string, options: StoreOptions) {
    this.#db = db;
    this.#path = path;
    this.#retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.#now = options.now ?? Date.now;
    this.#incrementalVacuum = pragmaNumber(db, "auto_vacuum") === 2;
    this.#statements = prepareStatements(db);
  }

  /**
   * Opens (creating when missing) the store `tally.db` under `dataDir`, in WAL mode.
   *
   * @param dataDir The data directory; created with its parents when missing (not when `readOnly`).
   * @param options Retention, size cap, clock and read-only mode.
   * @returns The open store.
   * @throws {StoreError} When the directory cannot be created, the file cannot be opened (or, read-only,
   *   does not exist), or it holds a newer schema than this tally knows.
   */
  static open(dataDir: string, options: StoreOptions = {}): Store {
    const path = join(dataDir, STORE_FILE);
    const readOnly = options.readOnly ?? false;
    if (readOnly) {
      if (!existsSync(path)) throw new StoreError(`Cannot open store "${path}": file not found`);
    } else {
      try {
        mkdirSync(dataDir, { recursive: true });
      } catch (error) {
        throw new StoreError(`Cannot create data directory "${dataDir}": ${errorText(error)}`, {
          cause: error,
        });
      }
    }
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path, { readOnly });
    } catch (error) {
      throw new StoreError(`Cannot open store "${path}": ${errorText(error)}`, { cause: error });
    }
    try {
      db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      if (readOnly) {
        const version = pragmaNumber(db, "user_version");
        if (version !== SCHEMA_VERSION) {
          throw new StoreError(
            `Cannot open store "${path}": schema version ${version}, expected ${SCHEMA_VERSION}`,
          );
        }
      } else {
        migrate(db, path);
      }
      return new Store(db, path, options);
    } catch (error) {
      db.close();
      if (error instanceof StoreError) throw error;
      throw new StoreError(`Cannot open store "${path}": ${errorText(error)}`, { cause: error });
    }
  }

  /** The database file path. */
  get path(): string {
    return this.#path;
  }

  /**
   * Stores one point per metric, all in one transaction: either the whole batch is stored or none of it.
   *
   * @param metrics The metrics of one flush.
   * @throws {StoreError} When the write fails (the batch is rolled back).
   */
  append(metrics: readonly Metric[]): void {
    if (metrics.length === 0) return;
    const s = this.#statements;
    const added: Array<readonly [SampleKind, string]> = [];
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (let i = 0; i < metrics.length; i++) {
        const metric = metrics[i]!;
        const id = this.#seriesId(metric, added);
        const row = pointRow(metric.point);
        s.insertPoint.run(id, metric.timeMs, row.value, row.fields);
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#rollback();
      // Series inserted in the rolled-back transaction no longer exist.
      for (const [kind, key] of added) this.#ids.get(kind)?.delete(key);
      throw new StoreError(
        `Cannot append ${metrics.length} metrics to store "${this.#path}": ${errorText(error)}`,
        { cause: error },
      );
    }
  }

  /**
   * Stores events in one transaction.
   *
   * @param events The events.
   * @param receivedMs The arrival time, stamped on events whose `timeMs` is 0.
   * @throws {StoreError} When the write fails (the batch is rolled back).
   */
  appendEvents(events: readonly TallyEvent[], receivedMs: number): void {
    if (events.length === 0) return;
    const insert = this.#statements.insertEvent;
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      for (const event of events) {
        insert.run(
          event.timeMs === 0 ? receivedMs : event.timeMs,
          event.kind,
          event.title,
          event.text,
          labelsJson(event.labels),
          event.status,
        );
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#rollback();
      throw new StoreError(
        `Cannot append ${events.length} events to store "${this.#path}": ${errorText(error)}`,
        { cause: error },
      );
    }
  }

  /**
   * Reads the series named `q.name` that have points in the range, sorted by series key.
   *
   * @param q The name, range, label filter and per-series point limit.
   * @returns The series with points in the range; empty when none match.
   * @throws {StoreError} When the read fails.
   */
  query(q: SeriesQuery): SeriesResult[] {
    const s = this.#statements;
    const untilMs = q.untilMs ?? MAX_TIME;
    const results: SeriesResult[] = [];
    try {
      const rows = s.selectSeriesByName.all(q.name) as unknown as SeriesRow[];
      for (const row of rows) {
        const labels = JSON.parse(row.labels) as Record<string, string>;
        if (q.labels !== undefined && !hasLabels(labels, q.labels)) continue;
        let pointRows: PointRowOut[];
        if (q.limit === undefined) {
          pointRows = s.selectPoints.all(row.id, q.sinceMs, untilMs) as unknown as PointRowOut[];
        } else {
          pointRows = s.selectPointsNewest.all(
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
    } catch (error) {
      throw new StoreError(`Cannot query series "${q.name}" in store "${this.#path}": ${errorText(error)}`, {
        cause: error,
      });
    }
    return results;
  }

  /**
   * Lists the distinct metric names stored, for looking a name up by another spelling (`tally query`
   * accepts the `/metrics` name of a series).
   *
   * @returns The names, sorted.
   * @throws {StoreError} When the read fails.
   */
  names(): string[] {
    try {
      return (this.#statements.selectNames.all() as unknown as { name: string }[]).map((row) => row.name);
    } catch (error) {
      throw new StoreError(`Cannot list series names in store "${this.#path}": ${errorText(error)}`, {
        cause: error,
      });
    }
  }

  /**
   * Reads events in a range, newest first.
   *
   * @param q The range and limit.
   * @returns The events.
   * @throws {StoreError} When the read fails.
   */
  events(q: EventQuery): StoredEvent[] {
    try {
      const rows = this.#statements.selectEvents.all(
        q.sinceMs,
        q.untilMs ?? MAX_TIME,
        q.limit ?? DEFAULT_EVENT_LIMIT,
      ) as unknown as EventRow[];
      return rows.map((row) => ({
        id: row.id,
        t: row.t,
        kind: row.kind,
        title: row.title,
        text: row.text,
        labels: JSON.parse(row.labels) as Record<string, string>,
        status: row.status,
      }));
    } catch (error) {
      throw new StoreError(`Cannot read events from store "${this.#path}": ${errorText(error)}`, {
        cause: error,
      });
    }
  }

  /**
   * Applies retention, then the size cap.
   *
   * Retention deletes points and events older than `retentionMs`. The size cap then measures the live
   * size (`page_count * page_size` minus the free pages, so deleted space counts as reclaimed even before
   * it is returned to the file system) and, while it is over `maxBytes`, deletes the oldest points (and,
   * once no point is left, the oldest events) in batches sized from the excess. Series left without
   * points are deleted. Free pages are returned to the file system with `PRAGMA incremental_vacuum` when
   * the file was created with `auto_vacuum = INCREMENTAL` (every file this store created is); an older
   * file keeps its free pages and reuses them for new rows, so it stops growing but does not shrink
   * (a full `VACUUM` would rewrite the whole file while blocking the collector's writes).
   *
   * @returns How many points and events were deleted.
   * @throws {StoreError} When a delete fails.
   */
  enforce(): EnforceResult {
    const s = this.#statements;
    let deletedPoints = 0;
    let deletedEvents = 0;
    try {
      const cutoff = this.#now() - this.#retentionMs;
      deletedPoints += changes(s.deletePointsBefore.run(cutoff));
      deletedEvents += changes(s.deleteEventsBefore.run(cutoff));
      this.#vacuum();
      for (let round = 0; round < MAX_CAP_ROUNDS; round++) {
        const used = this.sizeBytes();
        if (used <= this.#maxBytes) break;
        const keep = this.#maxBytes / used;
        const points = rowCount(s.countPoints);
        if (points > 0) {
          deletedPoints += deleteOldest(points, keep, s.nthPointTime, s.deletePointsUpTo);
        } else {
          const events = rowCount(s.countEvents);
          if (events === 0) break;
          deletedEvents += deleteOldest(events, keep, s.nthEventTime, s.deleteEventsUpTo);
        }
        this.#vacuum();
      }
      if (deletedPoints > 0 && changes(s.deleteEmptySeries.run()) > 0) {
        this.#ids.clear();
        this.#vacuum();
      }
    } catch (error) {
      throw new StoreError(`Cannot enforce retention on store "${this.#path}": ${errorText(error)}`, {
        cause: error,
      });
    }
    return { deletedPoints, deletedEvents };
  }

  /**
   * Measures the live size of the database: its pages less the free ones.
   *
   * @returns The size in bytes.
   */
  sizeBytes(): number {
    const db = this.#db;
    return (pragmaNumber(db, "page_count") - pragmaNumber(db, "freelist_count")) *
      pragmaNumber(db, "page_size");
  }

  /** Closes the connection; later calls do nothing. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }

  #seriesId(metric: Metric, added: Array<readonly [SampleKind, string]>): number {
    let byKey = this.#ids.get(metric.kind);
    if (byKey === undefined) {
      byKey = new Map();
      this.#ids.set(metric.kind, byKey);
    }
    const cached = byKey.get(metric.key);
    if (cached !== undefined) return cached;
    const s = this.#statements;
    const found = s.selectSeriesId.get(metric.key, metric.kind) as { id: number } | undefined;
    let id: number;
    if (found !== undefined) {
      id = found.id;
    } else {
      const created = s.insertSeries.run(
        metric.key,
        metric.name,
        labelsJson(metric.labels),
        metric.kind,
        this.#now(),
      );
      id = Number(created.lastInsertRowid);
      added.push([metric.kind, metric.key]);
    }
    byKey.set(metric.key, id);
    return id;
  }

  #vacuum(): void {
    // Stepped to the end with all(): the pragma frees one page per step, and Deno's exec() steps once.
    if (this.#incrementalVacuum) this.#statements.incrementalVacuum.all();
  }

  #rollback(): void {
    if (this.#db.isTransaction) this.#db.exec("ROLLBACK");
  }
}

/**
 * Sets the file's pragmas and creates the schema when missing.
 *
 * @param db The connection, writable.
 * @param path The file path, for messages.
 * @throws {StoreError} When the file holds a newer schema.
 */
function migrate(db: DatabaseSync, path: string): void {
  // auto_vacuum only takes effect before the first table exists, so it must come first; on an existing
  // file it is a no-op and the file keeps its mode.
  db.exec("PRAGMA auto_vacuum = INCREMENTAL");
  db.exec("PRAGMA journal_mode = WAL");
  // NORMAL is durable across process crashes in WAL mode; only a power loss can drop the last commits.
  db.exec("PRAGMA synchronous = NORMAL");
  const version = pragmaNumber(db, "user_version");
  if (version > SCHEMA_VERSION) {
    throw new StoreError(
      `Cannot open store "${path}": schema version ${version} is newer than this tally (${SCHEMA_VERSION})`,
    );
  }
  if (version === SCHEMA_VERSION) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(SCHEMA_SQL);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

function prepareStatements(db: DatabaseSync): Statements {
  return {
    selectSeriesId: db.prepare("SELECT id FROM series WHERE key = ? AND kind = ?"),
    insertSeries: db.prepare("INSERT INTO series (key, name, labels, kind, created) VALUES (?, ?, ?, ?, ?)"),
    insertPoint: db.prepare("INSERT INTO points (series_id, t, value, fields) VALUES (?, ?, ?, ?)"),
    insertEvent: db.prepare(
      "INSERT INTO events (t, kind, title, text, labels, status) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    selectSeriesByName: db.prepare("SELECT id, labels, kind FROM series WHERE name = ? ORDER BY key, kind"),
    selectNames: db.prepare("SELECT DISTINCT name FROM series ORDER BY name"),
    selectPoints: db.prepare(
      "SELECT t, value, fields FROM points WHERE series_id = ? AND t >= ? AND t <= ? ORDER BY t, rowid",
    ),
    selectPointsNewest: db.prepare(
      "SELECT t, value, fields FROM points WHERE series_id = ? AND t >= ? AND t <= ? " +
        "ORDER BY t DESC, rowid DESC LIMIT ?",
    ),
    selectEvents: db.prepare(
      "SELECT id, t, kind, title, text, labels, status FROM events WHERE t >= ? AND t <= ? " +
        "ORDER BY t DESC, id DESC LIMIT ?",
    ),
    deletePointsBefore: db.prepare("DELETE FROM points WHERE t < ?"),
    deleteEventsBefore: db.prepare("DELETE FROM events WHERE t < ?"),
    deletePointsUpTo: db.prepare("DELETE FROM points WHERE t <= ?"),
    deleteEventsUpTo: db.prepare("DELETE FROM events WHERE t <= ?"),
    countPoints: db.prepare("SELECT count(*) AS n FROM points"),
    countEvents: db.prepare("SELECT count(*) AS n FROM events"),
    nthPointTime: db.prepare("SELECT t FROM points ORDER BY t LIMIT 1 OFFSET ?"),
    nthEventTime: db.prepare("SELECT t FROM events ORDER BY t LIMIT 1 OFFSET ?"),
    deleteEmptySeries: db.prepare(
      "DELETE FROM series WHERE NOT EXISTS (SELECT 1 FROM points WHERE points.series_id = series.id)",
    ),
    incrementalVacuum: db.prepare("PRAGMA incremental_vacuum"),
  };
}

/**
 * Deletes the oldest rows of one table so that about `keep` of them remain, less 5 % headroom: freed
 * space is never exactly proportional to rows, and a little slack spares the next run from deleting a
 * sliver again. Whole timestamps go at a time.
 */
function deleteOldest(rows: number, keep: number, nthTime: StatementSync, deleteUpTo: StatementSync): number {
  const n = Math.min(rows, Math.max(MIN_CAP_BATCH, rows - Math.floor(rows * keep * CAP_HEADROOM)));
  const row = nthTime.get(n - 1) as { t: number } | undefined;
  if (row === undefined) return 0;
  return changes(deleteUpTo.run(row.t));
}

function rowCount(statement: StatementSync): number {
  return Number((statement.get() as { n: number | bigint }).n);
}

function changes(result: { changes: number | bigint }): number {
  return Number(result.changes);
}

function pragmaNumber(db: DatabaseSync, name: string): number {
  const row = db.prepare(`PRAGMA ${name}`).get() as Record<string, number | bigint> | undefined;
  return Number(row?.[name] ?? 0);
}

function labelsJson(labels: Labels): string {
  return JSON.stringify(Object.fromEntries(labels));
}

function hasLabels(labels: Record<string, string>, wanted: Readonly<Record<string, string>>): boolean {
  for (const name in wanted) {
    if (!Object.hasOwn(wanted, name)) continue;
    if (!Object.hasOwn(labels, name) || labels[name] !== wanted[name]) return false;
  }
  return true;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
