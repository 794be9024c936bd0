/**
 * The embedded store: every flushed point and every event, kept in `<data_dir>/tally.db` (node:sqlite,
 * WAL mode) for a bounded time and size, and read back by the query API and `tally query`.
 *
 * Schema (version 3, in `PRAGMA user_version`; migrations in `_schema.ts`):
 *
 * - `series (id, key, name, labels, kind, created)`: one row per series key and sample kind. `labels` is a
 *   JSON object; `kind` is the {@link SampleKind}. Unique on `(key, kind)` rather than `key` alone, because
 *   StatsD lets one name arrive as a counter and as a gauge, and mixing their points in one series would
 *   make both meaningless.
 * - `points (series_id, t, value, fields)`: `t` is the window start in ms, `value` the headline number and
 *   `fields` the other numbers as JSON (see `_point_row.ts`). Indexed on `(series_id, t)` for queries and
 *   on `t` for retention.
 * - `events (id, t, end_t, kind, title, text, labels, status)`, indexed on `t` (`event_table.ts`).
 * - `inbox (id, window_ms, input, format, bytes)`: acknowledged frames not yet stored (`inbox_table.ts`).
 * - `coscale_definitions`, `coscale_links`, `coscale_event_data`: what the CoScale-compatible API defined
 *   (`coscale_catalog.ts`, reached through {@link Store.coscale}).
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
import type { TallyEvent } from "../model/sample.ts";
import { enforceLimits } from "./_retention.ts";
import type { EnforceResult } from "./_retention.ts";
import { checkSchema, migrateSchema } from "./_schema.ts";
import { CoscaleCatalog } from "./coscale_catalog.ts";
import { EventTable } from "./event_table.ts";
import type { EventQuery, EventUpdate, EventWriter, StoredEvent } from "./event_table.ts";
import { InboxTable } from "./inbox_table.ts";
import type { InboxEntry, InboxRow } from "./inbox_table.ts";
import { PointTable } from "./point_table.ts";
import type { SeriesQuery, SeriesResult } from "./point_table.ts";

/** The store's file name inside the data directory. */
export const STORE_FILE = "tally.db";

/** The default retention: 7 days. */
export const DEFAULT_RETENTION_MS = 7 * 86_400_000;

/** The default size cap: 1 GiB. */
export const DEFAULT_MAX_BYTES = 1024 ** 3;

/** WAL pages between automatic checkpoints: 16 384 pages of 4 KiB, 64 MiB. */
const WAL_CHECKPOINT_PAGES = 16_384;

/** The size the WAL file is truncated back to after a checkpoint. */
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;

/** Waits up to this long for another connection's write lock instead of failing at once. */
const BUSY_TIMEOUT_MS = 5000;

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
export class Store implements EventWriter {
  #db: DatabaseSync;
  #path: string;
  #incrementalVacuumStatement: StatementSync;
  #retentionMs: number;
  #maxBytes: number;
  #now: () => number;
  #incrementalVacuum: boolean;
  #points: PointTable;
  #events: EventTable;
  #inbox: InboxTable;
  #coscale: CoscaleCatalog;
  /**
   * The newest window whose flush failed to be stored: its inbox rows (and older ones) stay until the next
   * start replays them, instead of going with a later window's successful flush.
   */
  #heldUpToMs = Number.NEGATIVE_INFINITY;
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
    this.#incrementalVacuumStatement = db.prepare("PRAGMA incremental_vacuum");
    this.#points = new PointTable(db);
    this.#events = new EventTable(db);
    this.#inbox = new InboxTable(db);
    this.#coscale = new CoscaleCatalog(db, this.#events, (what, write) => this.#transaction(what, write));
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
        checkSchema(db);
      } else {
        setPragmas(db);
        migrateSchema(db);
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

  /** The CoScale-compatible API's definitions and event data; its writes run in this store's transactions. */
  get coscale(): CoscaleCatalog {
    return this.#coscale;
  }

  /**
   * Stores one point per metric, all in one transaction: either the whole batch is stored or none of it.
   *
   * @param metrics The metrics of one flush.
   * @throws {StoreError} When the write fails (the batch is rolled back).
   */
  append(metrics: readonly Metric[]): void {
    if (metrics.length === 0) return;
    this.#transaction(`append ${metrics.length} metrics to`, () => this.#points.insert(metrics, this.#now()));
  }

  /**
   * Stores one flush: its points, its events and, when `release` is true, the deletion of the inbox rows
   * of every window up to the flushed one, all in one transaction. So a frame the HTTP input acknowledged
   * is either still in the inbox (and replayed at the next start) or stored as part of its window's
   * points, never both and never neither.
   *
   * With `release` false (a consumer of the flush could not persist it), or when this write fails, the
   * inbox rows up to the window stay until the next start replays them.
   *
   * @param flush The flushed window, its metrics and its events, and whether it was the last flush (which
   *   took every frame, so it lets go of every inbox row not held).
   * @param options The arrival time stamped on events without one, whether the inbox may let go, and the
   *   events stored outside a flush that this flush handed to the outputs (no longer marked for them once
   *   it is released).
   * @throws {StoreError} When the write fails (everything is rolled back).
   */
  commitFlush(
    flush: {
      readonly windowMs: number;
      readonly metrics: readonly Metric[];
      readonly events: readonly TallyEvent[];
      readonly final?: boolean;
    },
    options: {
      readonly receivedMs: number;
      readonly release: boolean;
      /** The ids of {@link Store.eventsToForward} events this flush handed to the outputs. */
      readonly forwarded?: readonly number[];
    },
  ): void {
    if (!options.release) this.#hold(flush.windowMs);
    try {
      this.#transaction(`store the flush of window ${flush.windowMs} in`, () => {
        this.#points.insert(flush.metrics, this.#now());
        if (flush.events.length > 0) this.#events.insert(flush.events, options.receivedMs, false);
        if (options.release && options.forwarded !== undefined) this.#events.forwarded(options.forwarded);
        // The last flush took every frame emitted, whatever its window: all their rows can go.
        const upTo = flush.final === true ? Number.MAX_SAFE_INTEGER : flush.windowMs;
        if (options.release) this.#inbox.release(upTo, this.#heldUpToMs);
      });
    } catch (error) {
      this.#hold(flush.windowMs);
      throw error;
    }
  }

  /**
   * The events stored outside a flush (HTTP push, the CoScale routes) or changed since they were stored,
   * that the outputs have not been handed yet, oldest first. A flush hands them over and names their ids
   * to {@link Store.commitFlush}.
   *
   * @param limit The most returned.
   * @returns The events.
   * @throws {StoreError} When the read fails.
   */
  eventsToForward(limit: number): StoredEvent[] {
    try {
      return this.#events.toForward(limit);
    } catch (error) {
      throw new StoreError(
        `Cannot read the events to forward from store "${this.#path}": ${errorText(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  /**
   * Stores events in one transaction.
   *
   * @param events The events.
   * @param receivedMs The arrival time, stamped on events whose `timeMs` is 0.
   * @returns The new events' ids, in order.
   * @throws {StoreError} When the write fails (the batch is rolled back).
   */
  appendEvents(events: readonly TallyEvent[], receivedMs: number): number[] {
    if (events.length === 0) return [];
    return this.#transaction(
      `append ${events.length} events to`,
      () => this.#events.insert(events, receivedMs, true),
    );
  }

  /**
   * Changes some fields of one event.
   *
   * @param id The event id.
   * @param fields The fields to change; absent ones keep their value.
   * @returns The event afterwards, or `undefined` when there is no event with that id.
   * @throws {StoreError} When the write fails.
   */
  updateEvent(id: number, fields: EventUpdate): StoredEvent | undefined {
    return this.#transaction(`update event ${id} in`, () => this.#events.update(id, fields));
  }

  /**
   * Keeps frames in the inbox, stamped with one window, in one transaction (one fsync-free WAL commit).
   *
   * @param entries The frames.
   * @param windowMs The flush window they are stamped with.
   * @returns The new rows' ids, in order.
   * @throws {StoreError} When the write fails (nothing is kept).
   */
  keepInbox(entries: readonly InboxEntry[], windowMs: number): number[] {
    return this.#transaction(
      `keep ${entries.length} frames in the inbox of`,
      () => this.#inbox.insert(entries, windowMs),
    );
  }

  /**
   * Deletes inbox rows by id (frames the pipeline could not take after all).
   *
   * @param ids The row ids.
   * @throws {StoreError} When the write fails.
   */
  dropInbox(ids: readonly number[]): void {
    if (ids.length === 0) return;
    this.#transaction(`drop ${ids.length} frames from the inbox of`, () => this.#inbox.delete(ids));
  }

  /**
   * Reads inbox rows in id order, a page at a time: what to replay at start.
   *
   * @param afterId Rows with a larger id only; 0 (the default) for the first page.
   * @param limit The most rows returned; all by default.
   * @returns The rows, oldest first.
   * @throws {StoreError} When the read fails.
   */
  inboxRows(afterId = 0, limit = Number.MAX_SAFE_INTEGER): InboxRow[] {
    try {
      return this.#inbox.page(afterId, limit);
    } catch (error) {
      throw new StoreError(`Cannot read the inbox of store "${this.#path}": ${errorText(error)}`, {
        cause: error,
      });
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
    try {
      return this.#points.query(q);
    } catch (error) {
      throw new StoreError(`Cannot query series "${q.name}" in store "${this.#path}": ${errorText(error)}`, {
        cause: error,
      });
    }
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
      return this.#points.names();
    } catch (error) {
      throw new StoreError(`Cannot list series names in store "${this.#path}": ${errorText(error)}`, {
        cause: error,
      });
    }
  }

  /**
   * Reads events whose start is in a range, newest first.
   *
   * @param q The range and limit.
   * @returns The events.
   * @throws {StoreError} When the read fails.
   */
  events(q: EventQuery): StoredEvent[] {
    try {
      return this.#events.query(q);
    } catch (error) {
      throw new StoreError(`Cannot read events from store "${this.#path}": ${errorText(error)}`, {
        cause: error,
      });
    }
  }

  /**
   * Applies retention, then the size cap.
   *
   * Retention deletes points older than `retentionMs`, and events that ended longer ago than that (an event
   * not ended yet stays). The size cap then measures the live size (`page_count * page_size` minus the
   * free pages, so deleted space counts as reclaimed even before it is returned to the file system) and,
   * while it is over `maxBytes`, deletes the oldest points (and, once no point is left, the oldest events)
   * in batches sized from the excess. Series left without points are deleted. Free pages are returned to the file system with `PRAGMA incremental_vacuum` when
   * the file was created with `auto_vacuum = INCREMENTAL` (every file this store created is); an older
   * file keeps its free pages and reuses them for new rows, so it stops growing but does not shrink
   * (a full `VACUUM` would rewrite the whole file while blocking the collector's writes).
   *
   * @returns How many points and events were deleted.
   * @throws {StoreError} When a delete fails.
   */
  enforce(): EnforceResult {
    try {
      return enforceLimits(this.#points, this.#events, {
        cutoffMs: this.#now() - this.#retentionMs,
        maxBytes: this.#maxBytes,
        sizeBytes: () => this.sizeBytes(),
        vacuum: () => this.#vacuum(),
      });
    } catch (error) {
      throw new StoreError(`Cannot enforce retention on store "${this.#path}": ${errorText(error)}`, {
        cause: error,
      });
    }
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

  /** Runs `write` in one `BEGIN IMMEDIATE` transaction; rolls back and wraps the error when it throws. */
  #transaction<T>(what: string, write: () => T): T {
    try {
      this.#db.exec("BEGIN IMMEDIATE");
      const result = write();
      this.#db.exec("COMMIT");
      this.#points.keep();
      return result;
    } catch (error) {
      if (this.#db.isOpen && this.#db.isTransaction) this.#db.exec("ROLLBACK");
      this.#points.forget();
      throw new StoreError(`Cannot ${what} store "${this.#path}": ${errorText(error)}`, { cause: error });
    }
  }

  #hold(windowMs: number): void {
    if (windowMs > this.#heldUpToMs) this.#heldUpToMs = windowMs;
  }

  #vacuum(): void {
    // Stepped to the end with all(): the pragma frees one page per step, and Deno's exec() steps once.
    if (this.#incrementalVacuum) this.#incrementalVacuumStatement.all();
  }
}

/**
 * Sets the pragmas of a writable file.
 *
 * @param db The connection, writable.
 */
function setPragmas(db: DatabaseSync): void {
  // auto_vacuum only takes effect before the first table exists, so it must come first; on an existing
  // file it is a no-op and the file keeps its mode.
  db.exec("PRAGMA auto_vacuum = INCREMENTAL");
  db.exec("PRAGMA journal_mode = WAL");
  // NORMAL is durable across process crashes (kill -9) in WAL mode: a commit is in the WAL file, in the
  // kernel's page cache, before COMMIT returns. Only a power loss or a kernel crash can drop the last
  // commits; FULL would close that gap with an fsync per commit.
  db.exec("PRAGMA synchronous = NORMAL");
  // The inbox writes every acknowledged body through the WAL. SQLite's default checkpoint every 1000
  // pages (4 MiB) would copy it to the main file, with two fsyncs, several times a second under load: a
  // 64 MiB WAL cuts that cost about threefold (tests/bench/http.ts), and the size limit gives the space
  // back after a checkpoint.
  db.exec(`PRAGMA wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
  db.exec(`PRAGMA journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
}

function pragmaNumber(db: DatabaseSync, name: string): number {
  const row = db.prepare(`PRAGMA ${name}`).get() as Record<string, number | bigint> | undefined;
  return Number(row?.[name] ?? 0);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
