import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { after, describe, it } from "node:test";
import { SCHEMA_VERSION, userVersion } from "./_schema.ts";
import { Store, STORE_FILE } from "./store.ts";

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const dirs: string[] = [];

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A data directory holding a store exactly as tally 0.1 (schema version 1) wrote it, with a few rows. */
function versionOneStore(): string {
  const dir = mkdtempSync(join(tmpdir(), "tally-schema-"));
  dirs.push(dir);
  const db = new DatabaseSync(join(dir, STORE_FILE));
  db.exec("PRAGMA auto_vacuum = INCREMENTAL");
  db.exec("PRAGMA journal_mode = WAL");
  db.exec(`
CREATE TABLE series (id INTEGER PRIMARY KEY, key TEXT NOT NULL, name TEXT NOT NULL, labels TEXT NOT NULL,
  kind TEXT NOT NULL, created INTEGER NOT NULL, UNIQUE (key, kind));
CREATE INDEX series_name ON series (name);
CREATE TABLE points (series_id INTEGER NOT NULL, t INTEGER NOT NULL, value REAL, fields TEXT);
CREATE INDEX points_series_t ON points (series_id, t);
CREATE INDEX points_t ON points (t);
CREATE TABLE events (id INTEGER PRIMARY KEY, t INTEGER NOT NULL, kind TEXT NOT NULL, title TEXT NOT NULL,
  text TEXT NOT NULL, labels TEXT NOT NULL, status INTEGER NOT NULL);
CREATE INDEX events_t ON events (t);
PRAGMA user_version = 1;`);
  db.prepare("INSERT INTO series (key, name, labels, kind, created) VALUES (?, ?, ?, ?, ?)")
    .run("old\u0000", "old", "{}", "gauge", T0);
  db.prepare("INSERT INTO points (series_id, t, value, fields) VALUES (1, ?, 7, NULL)").run(T0);
  db.prepare("INSERT INTO events (t, kind, title, text, labels, status) VALUES (?, 'event', ?, '', '{}', -1)")
    .run(T0, "deploy");
  db.prepare(
    "INSERT INTO events (t, kind, title, text, labels, status) VALUES (?, 'service_check', ?, '', ?, 2)",
  )
    .run(T0 + 1000, "disk", '{"host":"a"}');
  db.close();
  return dir;
}

/**
 * A data directory holding a store exactly as the tally before the CoScale tables (schema version 2) wrote
 * it: version 1's tables plus events with an end and the inbox, with a few rows.
 */
function versionTwoStore(): string {
  const dir = versionOneStore();
  const db = new DatabaseSync(join(dir, STORE_FILE));
  db.exec(`
ALTER TABLE events ADD COLUMN end_t INTEGER;
UPDATE events SET end_t = t;
CREATE TABLE inbox (id INTEGER PRIMARY KEY, window_ms INTEGER NOT NULL, input TEXT NOT NULL,
  format INTEGER NOT NULL, bytes BLOB NOT NULL);
CREATE INDEX inbox_window ON inbox (window_ms);
PRAGMA user_version = 2;`);
  db.prepare(
    "INSERT INTO events (t, end_t, kind, title, text, labels, status) VALUES (?, NULL, 'event', ?, '', '{}', -1)",
  )
    .run(T0 + 2000, "open");
  db.prepare("INSERT INTO inbox (window_ms, input, format, bytes) VALUES (?, 'http', 1, ?)")
    .run(T0, new TextEncoder().encode("a:1|c"));
  db.close();
  return dir;
}

describe("store schema migration", () => {
  it("Store.open() migrates a version-2 store to the current version, keeping every row and adding the CoScale tables", () => {
    const dir = versionTwoStore();
    const store = Store.open(dir, { now: () => T0 });
    assert.deepEqual(store.query({ name: "old", sinceMs: 0 }).map((s) => s.points), [[{ t: T0, value: 7 }]]);
    assert.deepEqual(
      store.events({ sinceMs: 0 }).map((e) => [e.id, e.title, e.t, e.end]),
      [[3, "open", T0 + 2000, null], [2, "disk", T0 + 1000, T0 + 1000], [1, "deploy", T0, T0]],
    );
    assert.deepEqual(
      store.inboxRows().map((row) => [row.windowMs, row.input, new TextDecoder().decode(row.bytes)]),
      [[T0, "http", "a:1|c"]],
    );
    const { definition } = store.coscale.define("metric", "queue depth", null, { dataType: "DOUBLE" }, T0);
    const data = store.coscale.addEventData({
      categoryId: 9,
      event: { kind: "event", title: "cron", text: "", timeMs: T0 + 3000, labels: [], status: -1 },
      open: true,
      subject: "a",
      attribute: "{}",
    }, T0);
    assert.equal(data.id, 4, "event data continue the events' ids");
    store.close();
    const db = new DatabaseSync(join(dir, STORE_FILE), { readOnly: true });
    assert.equal(userVersion(db), SCHEMA_VERSION);
    assert.equal(SCHEMA_VERSION, 4);
    db.close();
    const reader = Store.open(dir, { readOnly: true });
    assert.deepEqual(reader.coscale.get("metric", definition.id), definition);
    assert.equal(reader.coscale.eventData(9, 4)?.event.end, null);
    reader.close();
  });

  it("Store.open() migrates a version-3 store: its events are not handed to the outputs again", () => {
    const dir = versionTwoStore();
    Store.open(dir, { now: () => T0 }).close();
    const db = new DatabaseSync(join(dir, STORE_FILE));
    // Back to what version 3 wrote: no forward column.
    db.exec("DROP INDEX events_forward; ALTER TABLE events DROP COLUMN forward; PRAGMA user_version = 3;");
    db.close();
    const store = Store.open(dir, { now: () => T0 });
    assert.deepEqual(store.eventsToForward(100), []);
    assert.equal(store.events({ sinceMs: 0 }).length, 3);
    store.close();
  });

  it("Store.open() migrates a version-1 store to the current version, keeping every row and making its events instant", () => {
    const dir = versionOneStore();
    const store = Store.open(dir);
    assert.deepEqual(store.query({ name: "old", sinceMs: 0 }).map((s) => s.points), [[{ t: T0, value: 7 }]]);
    assert.deepEqual(
      store.events({ sinceMs: 0 }).map((e) => [e.id, e.title, e.t, e.end, e.status, e.labels]),
      [
        [2, "disk", T0 + 1000, T0 + 1000, 2, { host: "a" }],
        [1, "deploy", T0, T0, -1, {}],
      ],
    );
    assert.deepEqual(store.inboxRows(), [], "the inbox table exists and is empty");
    const [id] = store.appendEvents([{
      kind: "event",
      title: "new",
      text: "",
      timeMs: T0 + 5000,
      endMs: T0 + 9000,
      labels: [],
      status: -1,
    }], T0);
    assert.equal(id, 3);
    store.close();
    const db = new DatabaseSync(join(dir, STORE_FILE), { readOnly: true });
    assert.equal(userVersion(db), SCHEMA_VERSION);
    db.close();
    const reader = Store.open(dir, { readOnly: true });
    assert.equal(reader.events({ sinceMs: 0 })[0]?.end, T0 + 9000);
    reader.close();
  });

  it("Store.open() read-only refuses a version-1 store, saying how to upgrade it", () => {
    assert.throws(
      () => Store.open(versionOneStore(), { readOnly: true }),
      /schema version 1, expected 4 \(start "tally run" on it once to upgrade it\)$/,
    );
  });

  it("Store.open() refuses a store from a newer tally and leaves it untouched", () => {
    const dir = versionOneStore();
    const db = new DatabaseSync(join(dir, STORE_FILE));
    db.exec("PRAGMA user_version = 99");
    db.close();
    assert.throws(() => Store.open(dir), /schema version 99 is newer than this tally \(4\)$/);
    const after = new DatabaseSync(join(dir, STORE_FILE), { readOnly: true });
    assert.equal(userVersion(after), 99);
    after.close();
  });
});
