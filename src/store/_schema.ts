/**
 * The store's schema and its migrations, versioned in `PRAGMA user_version`.
 *
 * - Version 1: `series`, `points`, `events (id, t, kind, title, text, labels, status)`.
 * - Version 2: events get an end (`end_t`: ms since the epoch; `t` for an instant event, NULL for one that
 *   has not ended yet); `inbox` holds what the HTTP input acknowledged but no flush has stored yet.
 * - Version 3: the CoScale-compatible API's definitions (`coscale_definitions`: metrics, dimensions, metric
 *   groups, servers, server groups, event categories), the links between them (`coscale_links`) and what
 *   CoScale keeps of an event beyond the `events` row (`coscale_event_data`); see `coscale_catalog.ts`.
 * - Version 4: `events.forward` marks events stored straight away (HTTP push, the CoScale routes) or
 *   changed since, that the next flush still has to hand to the outputs.
 *
 * A migration runs in one transaction and keeps every row: a version-1 file's events become instant
 * events (`end_t = t`).
 *
 * @module
 */

import type { DatabaseSync } from "node:sqlite";

/** The schema version this tally writes. */
export const SCHEMA_VERSION = 4;

const SERIES_AND_POINTS = `
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
`;

/** Version 1's events table, as a version-1 file holds it. */
const EVENTS_V1 = `
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

/**
 * Version 2's additions. `inbox.window_ms` is the flush window the row's frame was stamped with: the flush
 * of that window deletes the row in the transaction that stores the window's points.
 */
const V2 = `
ALTER TABLE events ADD COLUMN end_t INTEGER;
UPDATE events SET end_t = t;
CREATE TABLE IF NOT EXISTS inbox (
  id INTEGER PRIMARY KEY,
  window_ms INTEGER NOT NULL,
  input TEXT NOT NULL,
  format INTEGER NOT NULL,
  bytes BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_window ON inbox (window_ms);
`;

/**
 * Version 3's additions. A definition is unique by kind, parent (0 for none: only groups nest) and name, as
 * CoScale's create-or-get (409 DUPLICATE) has it; its kind-specific fields are a JSON object. A link row
 * ties two definitions (a dimension to a metric, a metric to a group, a server to a group). An event data
 * row shares its id with the `events` row it describes.
 */
const V3 = `
CREATE TABLE IF NOT EXISTS coscale_definitions (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  parent_id INTEGER NOT NULL,
  fields TEXT NOT NULL,
  version INTEGER NOT NULL,
  created INTEGER NOT NULL,
  UNIQUE (kind, parent_id, name)
);
CREATE TABLE IF NOT EXISTS coscale_links (
  kind TEXT NOT NULL,
  parent_id INTEGER NOT NULL,
  child_id INTEGER NOT NULL,
  PRIMARY KEY (kind, parent_id, child_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS coscale_event_data (
  id INTEGER PRIMARY KEY,
  category_id INTEGER NOT NULL,
  subject TEXT NOT NULL,
  attribute TEXT NOT NULL,
  version INTEGER NOT NULL,
  updated INTEGER NOT NULL
);
`;

/**
 * Version 4's addition: 1 for an event the outputs have not been handed yet (one stored outside a flush, or
 * changed after it), with a partial index so that finding them costs nothing when there are none.
 */
const V4 = `
ALTER TABLE events ADD COLUMN forward INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS events_forward ON events (id) WHERE forward = 1;
`;

/** Each version's step from the one before; index 0 creates version 1 on an empty file. */
const STEPS: readonly string[] = [SERIES_AND_POINTS + EVENTS_V1, V2, V3, V4];

/** The file holds a schema this tally cannot use. */
export class SchemaVersionError extends Error {
  /**
   * @param message What was found.
   */
  constructor(message: string) {
    super(message);
    this.name = "SchemaVersionError";
  }
}

/**
 * Brings a writable file to {@link SCHEMA_VERSION}, one step per version, all in one transaction.
 *
 * @param db The connection, writable, with the file's pragmas already set.
 * @returns The version the file had before (0 for a new file).
 * @throws {SchemaVersionError} When the file holds a newer schema.
 * @throws {Error} When a step fails (everything is rolled back).
 */
export function migrateSchema(db: DatabaseSync): number {
  const version = userVersion(db);
  if (version > SCHEMA_VERSION) {
    throw new SchemaVersionError(`schema version ${version} is newer than this tally (${SCHEMA_VERSION})`);
  }
  if (version === SCHEMA_VERSION) return version;
  db.exec("BEGIN IMMEDIATE");
  try {
    for (let step = version; step < SCHEMA_VERSION; step++) db.exec(STEPS[step]!);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
    db.exec("COMMIT");
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
  return version;
}

/**
 * Checks that a file opened read-only holds this tally's schema (it cannot be migrated from there).
 *
 * @param db The connection.
 * @throws {SchemaVersionError} When the version differs.
 */
export function checkSchema(db: DatabaseSync): void {
  const version = userVersion(db);
  if (version === SCHEMA_VERSION) return;
  const hint = version < SCHEMA_VERSION ? ` (start "tally run" on it once to upgrade it)` : "";
  throw new SchemaVersionError(`schema version ${version}, expected ${SCHEMA_VERSION}${hint}`);
}

/**
 * The file's schema version.
 *
 * @param db The connection.
 * @returns `PRAGMA user_version`.
 */
export function userVersion(db: DatabaseSync): number {
  const row = db.prepare("PRAGMA user_version").get() as { user_version?: number | bigint } | undefined;
  return Number(row?.user_version ?? 0);
}
