/**
 * The store's CoScale tables: what the CoScale-compatible API (`src/inputs/coscale_api/`) defines and must
 * find again after a restart, so that a client's cached ids stay valid and its create-or-get finds the
 * existing object instead of making a second one.
 *
 * - `coscale_definitions (id, kind, name, parent_id, fields, version, created)`: metrics, dimensions, metric
 *   groups, servers, server groups and event categories in one id space, unique by kind, parent (0 for
 *   none; only groups nest) and name. `fields` holds the kind's other fields as a JSON object.
 * - `coscale_links (kind, parent_id, child_id)`: a dimension linked to a metric, a metric in a metric
 *   group, a server in a server group.
 * - `coscale_event_data (id, category_id, subject, attribute, version, updated)`: what CoScale keeps of an
 *   event beyond tally's `events` row, which has the same id (the category, the subject and the attribute
 *   text as sent, the version the CLI sends back).
 *
 * Every write runs in one transaction of the {@link Store} (given as `transaction`), an event data's
 * `events` row included.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import type { TallyEvent } from "../model/sample.ts";
import type { EventTable, EventUpdate, StoredEvent } from "./event_table.ts";

/** The kinds of CoScale definitions. */
export type CoscaleKind = "metric" | "dimension" | "metricgroup" | "server" | "servergroup" | "event";

/** The kinds of links: `<parent>_<child>`. */
export type CoscaleLinkKind = "metric_dimension" | "metricgroup_metric" | "servergroup_server";

/** A definition's kind-specific fields. */
export type CoscaleFields = Readonly<Record<string, string | number | null>>;

/** One stored definition. */
export interface CoscaleDefinition {
  /** The id, unique across kinds. */
  readonly id: number;
  /** The kind. */
  readonly kind: CoscaleKind;
  /** The name, unique within the kind and parent. */
  readonly name: string;
  /** The parent group's id, or `null` at the top. */
  readonly parentId: number | null;
  /** The kind-specific fields (a metric's `dataType`, a group's `subject`, …). */
  readonly fields: CoscaleFields;
  /** 1 when created, bumped by each update. */
  readonly version: number;
}

/** What {@link CoscaleCatalog.define} did. */
export interface DefineResult {
  /** `created`, or `duplicate` when a definition of that kind, parent and name existed. */
  readonly outcome: "created" | "duplicate";
  /** The new definition, or the one that existed (unchanged). */
  readonly definition: CoscaleDefinition;
}

/** One CoScale event data: an `events` row and CoScale's own fields about it. */
export interface CoscaleEventData {
  /** The id, shared with the `events` row. */
  readonly id: number;
  /** The event category's id. */
  readonly categoryId: number;
  /** The subject as sent (`a`, `s<id>`, `g<id>`). */
  readonly subject: string;
  /** The attribute JSON text as sent. */
  readonly attribute: string;
  /** 1 when created, bumped by each update. */
  readonly version: number;
  /** When it was last written, in ms since the epoch. */
  readonly updatedMs: number;
  /** The `events` row. */
  readonly event: StoredEvent;
}

/** A new event data: the event to store and CoScale's fields. */
export interface NewEventData {
  /** The category's id. */
  readonly categoryId: number;
  /** The event (its title is the category's name). */
  readonly event: TallyEvent;
  /** Whether the event is open (no stop time yet): its end stays empty. */
  readonly open: boolean;
  /** The subject as sent. */
  readonly subject: string;
  /** The attribute JSON text as sent. */
  readonly attribute: string;
}

/** The changes of an event data; absent fields keep their value. */
export interface EventDataUpdate {
  /** The changes to the `events` row. */
  readonly event: EventUpdate;
  /** The new subject. */
  readonly subject?: string;
  /** The new attribute JSON text. */
  readonly attribute?: string;
}

/** Runs `write` in one transaction of the store, naming what it does for the error. */
export type Transaction = <T>(what: string, write: () => T) => T;

interface DefinitionRow {
  readonly id: number;
  readonly kind: CoscaleKind;
  readonly name: string;
  readonly parent_id: number;
  readonly fields: string;
  readonly version: number;
}

interface EventDataRow {
  readonly id: number;
  readonly category_id: number;
  readonly subject: string;
  readonly attribute: string;
  readonly version: number;
  readonly updated: number;
}

const DEFINITION_COLUMNS = "id, kind, name, parent_id, fields, version";

/**
 * The CoScale tables' statements, prepared once per connection, behind the store's transactions.
 *
 * @example
 * ```ts
 * const { outcome, definition } = store.coscale.define("metric", "queue depth", null, { dataType: "DOUBLE" }, Date.now());
 * store.coscale.get("metric", definition.id); // the same definition, after a restart too
 * ```
 */
export class CoscaleCatalog {
  readonly #events: EventTable;
  readonly #transaction: Transaction;
  readonly #insertDefinition: StatementSync;
  readonly #selectById: StatementSync;
  readonly #selectByName: StatementSync;
  readonly #selectAll: StatementSync;
  readonly #selectNamed: StatementSync;
  readonly #insertLink: StatementSync;
  readonly #selectLink: StatementSync;
  readonly #selectLinked: StatementSync;
  readonly #insertEventData: StatementSync;
  readonly #selectEventData: StatementSync;
  readonly #updateEventData: StatementSync;
  readonly #pruneEventData: StatementSync;

  /**
   * Prepares the statements.
   *
   * @param db The connection, at schema version 3 or later.
   * @param events The store's events table (an event data's row lives there).
   * @param transaction The store's transaction runner.
   */
  constructor(db: DatabaseSync, events: EventTable, transaction: Transaction) {
    this.#events = events;
    this.#transaction = transaction;
    this.#insertDefinition = db.prepare(
      "INSERT INTO coscale_definitions (kind, name, parent_id, fields, version, created) VALUES (?, ?, ?, ?, 1, ?)",
    );
    this.#selectById = db.prepare(
      `SELECT ${DEFINITION_COLUMNS} FROM coscale_definitions WHERE kind = ? AND id = ?`,
    );
    this.#selectByName = db.prepare(
      `SELECT ${DEFINITION_COLUMNS} FROM coscale_definitions WHERE kind = ? AND parent_id = ? AND name = ?`,
    );
    this.#selectAll = db.prepare(
      `SELECT ${DEFINITION_COLUMNS} FROM coscale_definitions WHERE kind = ? ORDER BY id`,
    );
    this.#selectNamed = db.prepare(
      `SELECT ${DEFINITION_COLUMNS} FROM coscale_definitions WHERE kind = ? AND name = ? ORDER BY id`,
    );
    this.#insertLink = db.prepare("INSERT INTO coscale_links (kind, parent_id, child_id) VALUES (?, ?, ?)");
    this.#selectLink = db.prepare(
      "SELECT 1 AS found FROM coscale_links WHERE kind = ? AND parent_id = ? AND child_id = ?",
    );
    this.#selectLinked = db.prepare(
      `SELECT ${DEFINITION_COLUMNS.split(", ").map((c) => `d.${c}`).join(", ")} FROM coscale_links l ` +
        "JOIN coscale_definitions d ON d.id = l.child_id WHERE l.kind = ? AND l.parent_id = ? ORDER BY d.id",
    );
    this.#insertEventData = db.prepare(
      "INSERT INTO coscale_event_data (id, category_id, subject, attribute, version, updated) VALUES (?, ?, ?, ?, 1, ?)",
    );
    this.#selectEventData = db.prepare(
      "SELECT id, category_id, subject, attribute, version, updated FROM coscale_event_data WHERE id = ?",
    );
    this.#updateEventData = db.prepare(
      "UPDATE coscale_event_data SET subject = ?, attribute = ?, version = version + 1, updated = ? WHERE id = ?",
    );
    // Rows whose event retention or the size cap deleted (an open event may outlive later ones).
    this.#pruneEventData = db.prepare(
      "DELETE FROM coscale_event_data WHERE NOT EXISTS " +
        "(SELECT 1 FROM events WHERE events.id = coscale_event_data.id)",
    );
  }

  /**
   * Creates a definition, or finds the one of that kind, parent and name (CoScale's create-or-get).
   *
   * @param kind The kind.
   * @param name The name.
   * @param parentId The parent group's id, or `null`.
   * @param fields The kind-specific fields (ignored for a duplicate).
   * @param nowMs The creation time.
   * @returns Whether it was created, and the definition.
   * @throws {StoreError} When the write fails.
   */
  define(
    kind: CoscaleKind,
    name: string,
    parentId: number | null,
    fields: CoscaleFields,
    nowMs: number,
  ): DefineResult {
    return this.#transaction(`define CoScale ${kind} ${JSON.stringify(name)} in`, () => {
      const existing = this.#selectByName.get(kind, parentId ?? 0, name) as DefinitionRow | undefined;
      if (existing !== undefined) return { outcome: "duplicate", definition: definition(existing) };
      const result = this.#insertDefinition.run(kind, name, parentId ?? 0, JSON.stringify(fields), nowMs);
      const id = Number(result.lastInsertRowid);
      return {
        outcome: "created",
        definition: { id, kind, name, parentId, fields: { ...fields }, version: 1 },
      };
    });
  }

  /**
   * Reads one definition.
   *
   * @param kind The kind.
   * @param id The id.
   * @returns The definition, or `undefined` when there is none of that kind with that id.
   */
  get(kind: CoscaleKind, id: number): CoscaleDefinition | undefined {
    const row = this.#selectById.get(kind, id) as DefinitionRow | undefined;
    return row === undefined ? undefined : definition(row);
  }

  /**
   * Lists the definitions of a kind, oldest first, optionally only those of one name (any parent).
   *
   * @param kind The kind.
   * @param name The name to select by, as CoScale's `?selectByName=`.
   * @returns The definitions.
   */
  list(kind: CoscaleKind, name?: string): CoscaleDefinition[] {
    const rows =
      (name === undefined
        ? this.#selectAll.all(kind)
        : this.#selectNamed.all(kind, name)) as unknown as DefinitionRow[];
    return rows.map(definition);
  }

  /**
   * Links a child definition to a parent one.
   *
   * @param kind The kind of link.
   * @param parentId The parent's id (a metric, a group).
   * @param childId The child's id (a dimension, a metric, a server).
   * @returns `created`, or `duplicate` when they were linked already.
   * @throws {StoreError} When the write fails.
   */
  link(kind: CoscaleLinkKind, parentId: number, childId: number): "created" | "duplicate" {
    return this.#transaction(`link CoScale ${kind} ${parentId} → ${childId} in`, () => {
      if (this.#selectLink.get(kind, parentId, childId) !== undefined) return "duplicate";
      this.#insertLink.run(kind, parentId, childId);
      return "created";
    });
  }

  /**
   * Lists what is linked to a parent.
   *
   * @param kind The kind of link.
   * @param parentId The parent's id.
   * @returns The linked definitions, oldest first.
   */
  linked(kind: CoscaleLinkKind, parentId: number): CoscaleDefinition[] {
    return (this.#selectLinked.all(kind, parentId) as unknown as DefinitionRow[]).map(definition);
  }

  /**
   * Stores an event data: its `events` row (open when asked) and CoScale's fields, in one transaction.
   *
   * @param data The event, the category, the subject and the attribute.
   * @param nowMs The arrival time (stamped on an event without a start, and as the update time).
   * @returns The stored event data.
   * @throws {StoreError} When the write fails.
   */
  addEventData(data: NewEventData, nowMs: number): CoscaleEventData {
    return this.#transaction(`store an event of CoScale category ${data.categoryId} in`, () => {
      this.#pruneEventData.run();
      const [id] = this.#events.insert([data.event], nowMs, true);
      const event = data.open ? this.#events.update(id!, { end: null }) : this.#events.get(id!);
      this.#insertEventData.run(id!, data.categoryId, data.subject, data.attribute, nowMs);
      return {
        id: id!,
        categoryId: data.categoryId,
        subject: data.subject,
        attribute: data.attribute,
        version: 1,
        updatedMs: nowMs,
        event: event!,
      };
    });
  }

  /**
   * Reads one event data of a category.
   *
   * @param categoryId The category's id.
   * @param id The event data's id.
   * @returns The event data, or `undefined` when it does not exist (or retention deleted its event), or
   *   belongs to another category.
   */
  eventData(categoryId: number, id: number): CoscaleEventData | undefined {
    const row = this.#selectEventData.get(id) as EventDataRow | undefined;
    if (row === undefined || row.category_id !== categoryId) return undefined;
    const event = this.#events.get(id);
    return event === undefined ? undefined : eventData(row, event);
  }

  /**
   * Changes an event data and its `events` row in one transaction, bumping its version.
   *
   * @param categoryId The category's id.
   * @param id The event data's id.
   * @param update The changes.
   * @param nowMs The update time.
   * @returns The event data afterwards, or `undefined` when there is none (see {@link eventData}).
   * @throws {StoreError} When the write fails.
   */
  updateEventData(
    categoryId: number,
    id: number,
    update: EventDataUpdate,
    nowMs: number,
  ): CoscaleEventData | undefined {
    return this.#transaction(`update event ${id} of CoScale category ${categoryId} in`, () => {
      const current = this.eventData(categoryId, id);
      if (current === undefined) return undefined;
      const event = this.#events.update(id, update.event)!;
      const subject = update.subject ?? current.subject;
      const attribute = update.attribute ?? current.attribute;
      this.#updateEventData.run(subject, attribute, nowMs, id);
      return { ...current, subject, attribute, version: current.version + 1, updatedMs: nowMs, event };
    });
  }
}

function definition(row: DefinitionRow): CoscaleDefinition {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    parentId: row.parent_id === 0 ? null : row.parent_id,
    fields: JSON.parse(row.fields) as CoscaleFields,
    version: row.version,
  };
}

function eventData(row: EventDataRow, event: StoredEvent): CoscaleEventData {
  return {
    id: row.id,
    categoryId: row.category_id,
    subject: row.subject,
    attribute: row.attribute,
    version: row.version,
    updatedMs: row.updated,
    event,
  };
}
