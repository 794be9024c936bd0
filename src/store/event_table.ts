/**
 * The store's `events` table: DogStatsD events and service checks, script events, events pushed over HTTP
 * (`POST /api/v1/events`, `tally event`, `tally wrap`), each with a start and an end.
 *
 * Columns: `id`, `t` (the start, ms since the epoch), `end_t` (the end: `t` for an instant event, NULL
 * while an event is still open), `kind`, `title`, `text`, `labels` (a JSON object) and `status`.
 *
 * The table runs no transactions of its own: the {@link Store} wraps its calls.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { TimeRows } from "./_time_rows.ts";
import type { Labels, TallyEvent } from "../model/sample.ts";

/** The default number of events a query returns. */
export const DEFAULT_EVENT_LIMIT = 1000;

/** An event query: a time range of starts, newest first. */
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
  /** The start in ms since the epoch (the arrival time when the event carried none). */
  readonly t: number;
  /** The end in ms since the epoch: `t` for an instant event, `null` while the event is open. */
  readonly end: number | null;
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

/** The fields {@link EventTable.update} may change; absent ones keep their value. */
export interface EventUpdate {
  /** The new start in ms since the epoch. */
  readonly t?: number;
  /** The new end in ms since the epoch, or `null` to mark the event open again. */
  readonly end?: number | null;
  /** The new title. */
  readonly title?: string;
  /** The new text. */
  readonly text?: string;
  /** The new labels, replacing all of them. */
  readonly labels?: Readonly<Record<string, string>>;
  /** The new status. */
  readonly status?: number;
}

/** Where events go straight to the store (the HTTP input's `POST /api/v1/events`, the CoScale routes). */
export interface EventWriter {
  /**
   * Stores events in one transaction.
   *
   * @param events The events.
   * @param receivedMs The arrival time, stamped on events whose `timeMs` is 0.
   * @returns The new events' ids, in order.
   */
  appendEvents(events: readonly TallyEvent[], receivedMs: number): number[];
  /**
   * Changes some fields of one event (closes an open event, edits a CoScale event).
   *
   * @param id The event id.
   * @param fields The fields to change.
   * @returns The event as stored afterwards, or `undefined` when there is no event with that id.
   */
  updateEvent(id: number, fields: EventUpdate): StoredEvent | undefined;
}

interface EventRow {
  readonly id: number;
  readonly t: number;
  readonly end_t: number | null;
  readonly kind: TallyEvent["kind"];
  readonly title: string;
  readonly text: string;
  readonly labels: string;
  readonly status: number;
}

const COLUMNS = "id, t, end_t, kind, title, text, labels, status";

/**
 * The events table's statements, prepared once per connection.
 *
 * @example
 * ```ts
 * const table = new EventTable(db);
 * const [id] = table.insert([{ kind: "event", title: "Deploy", text: "", timeMs: 0, labels: [], status: -1 }], Date.now());
 * ```
 */
export class EventTable {
  readonly #insert: StatementSync;
  readonly #selectForward: StatementSync;
  readonly #clearForward: StatementSync;
  readonly #select: StatementSync;
  readonly #selectOne: StatementSync;
  readonly #update: StatementSync;

  /** The rows by time, for retention and the size cap. */
  readonly byTime: TimeRows;

  /**
   * Prepares the statements.
   *
   * @param db The connection, at the current schema version.
   */
  constructor(db: DatabaseSync) {
    // Retention goes by when an event ended: a long deploy is kept as long as its end is recent.
    this.byTime = new TimeRows(db, "events", "end_t");
    this.#insert = db.prepare(
      "INSERT INTO events (t, end_t, kind, title, text, labels, status, forward) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    );
    this.#selectForward = db.prepare(`SELECT ${COLUMNS} FROM events WHERE forward = 1 ORDER BY id LIMIT ?`);
    this.#clearForward = db.prepare("UPDATE events SET forward = 0 WHERE id = ? AND forward = 1");
    this.#select = db.prepare(
      `SELECT ${COLUMNS} FROM events WHERE t >= ? AND t <= ? ORDER BY t DESC, id DESC LIMIT ?`,
    );
    this.#selectOne = db.prepare(`SELECT ${COLUMNS} FROM events WHERE id = ?`);
    this.#update = db.prepare(
      "UPDATE events SET t = ?, end_t = ?, title = ?, text = ?, labels = ?, status = ?, forward = 1 WHERE id = ?",
    );
  }

  /**
   * Inserts events; the caller holds the transaction.
   *
   * @param events The events; an end before the start is stored as the start (an instant event).
   * @param receivedMs The arrival time, stamped on events whose `timeMs` is 0.
   * @param forward Whether the outputs still have to be handed these events (stored outside a flush).
   * @returns The new ids, in order.
   */
  insert(events: readonly TallyEvent[], receivedMs: number, forward: boolean): number[] {
    const ids: number[] = [];
    for (const event of events) {
      const t = event.timeMs === 0 ? receivedMs : event.timeMs;
      const end = event.endMs === undefined || event.endMs < t ? t : event.endMs;
      const result = this.#insert.run(
        t,
        end,
        event.kind,
        event.title,
        event.text,
        labelsJson(event.labels),
        event.status,
        forward ? 1 : 0,
      );
      ids.push(Number(result.lastInsertRowid));
    }
    return ids;
  }

  /**
   * The events the outputs have not been handed yet, oldest first.
   *
   * @param limit The most returned.
   * @returns The events.
   */
  toForward(limit: number): StoredEvent[] {
    return (this.#selectForward.all(limit) as unknown as EventRow[]).map(storedEvent);
  }

  /**
   * Marks events as handed to the outputs; the caller holds the transaction.
   *
   * @param ids The events' ids.
   */
  forwarded(ids: readonly number[]): void {
    for (const id of ids) this.#clearForward.run(id);
  }

  /**
   * Changes some fields of one event, and marks it for the outputs again (they get it as it stands now,
   * e.g. a CoScale event once it is closed); the caller holds the transaction.
   *
   * @param id The event id.
   * @param fields The fields to change.
   * @returns The event afterwards, or `undefined` when there is none with that id.
   */
  update(id: number, fields: EventUpdate): StoredEvent | undefined {
    const current = this.get(id);
    if (current === undefined) return undefined;
    const next: StoredEvent = {
      ...current,
      ...(fields.t === undefined ? {} : { t: fields.t }),
      ...(fields.end === undefined ? {} : { end: fields.end }),
      ...(fields.title === undefined ? {} : { title: fields.title }),
      ...(fields.text === undefined ? {} : { text: fields.text }),
      ...(fields.labels === undefined ? {} : { labels: { ...fields.labels } }),
      ...(fields.status === undefined ? {} : { status: fields.status }),
    };
    this.#update.run(next.t, next.end, next.title, next.text, JSON.stringify(next.labels), next.status, id);
    return next;
  }

  /**
   * Reads one event.
   *
   * @param id The event id.
   * @returns The event, or `undefined`.
   */
  get(id: number): StoredEvent | undefined {
    const row = this.#selectOne.get(id) as EventRow | undefined;
    return row === undefined ? undefined : storedEvent(row);
  }

  /**
   * Reads events whose start is in a range, newest first.
   *
   * @param q The range and limit.
   * @returns The events.
   */
  query(q: EventQuery): StoredEvent[] {
    const rows = this.#select.all(
      q.sinceMs,
      q.untilMs ?? Number.MAX_SAFE_INTEGER,
      q.limit ?? DEFAULT_EVENT_LIMIT,
    ) as unknown as EventRow[];
    return rows.map(storedEvent);
  }
}

function storedEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    t: row.t,
    end: row.end_t,
    kind: row.kind,
    title: row.title,
    text: row.text,
    labels: JSON.parse(row.labels) as Record<string, string>,
    status: row.status,
  };
}

/**
 * Encodes labels as the JSON object the store keeps.
 *
 * @param labels The labels.
 * @returns The JSON text.
 */
export function labelsJson(labels: Labels): string {
  return JSON.stringify(Object.fromEntries(labels));
}

/**
 * Turns a stored event back into the pipeline's shape, for the outputs: labels sorted by name, the start
 * as `timeMs`, the end as `endMs` (none while the event is open).
 *
 * @param stored The stored event.
 * @returns The event.
 */
export function storedToEvent(stored: StoredEvent): TallyEvent {
  const labels: Labels = Object.entries(stored.labels).sort((
    a,
    b,
  ) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return {
    kind: stored.kind,
    title: stored.title,
    text: stored.text,
    timeMs: stored.t,
    ...(stored.end === null ? {} : { endMs: stored.end }),
    labels,
    status: stored.status,
  };
}
