/**
 * The CoScale objects tally keeps (coscale.md §3.2): for each kind, the path it lives under, the fields its
 * create takes (validated with valibot, the rest of a body ignored as CoScale's clients send extra ones), and
 * the JSON object its routes answer with, in CoScale's field names (`id, version, state, name, …`).
 *
 * @module
 */

import * as v from "valibot";
import type { CoscaleDefinition, CoscaleFields, CoscaleKind } from "../../store/coscale_catalog.ts";
import { integerField, nameField, textField, wordField } from "./_fields.ts";

/** CoScale's metric data types. */
export const DATA_TYPES = ["LONG", "DOUBLE", "HISTOGRAM", "COUNT", "COUNTER", "BINARY"] as const;

/** A metric's data type. */
export type DataType = (typeof DATA_TYPES)[number];

const STATE = v.optional(wordField(["ENABLED", "INACTIVE", "DISABLED"]), "ENABLED");
const PARENT_ID = v.optional(v.pipe(integerField("the id of a parent group"), v.minValue(1, "a group id")));

/** A JSON text that parses (CoScale keeps `attributeDescriptions` as text). */
const JSON_TEXT = v.pipe(
  v.string("JSON text"),
  v.check((text: string) => {
    try {
      JSON.parse(text);
      return true;
    } catch {
      return false;
    }
  }, "JSON text"),
);

/** How one kind of object is created and shown. */
export interface ObjectSpec {
  /** The store's kind. */
  readonly kind: CoscaleKind;
  /** The path segment under `/api/v1/app/{appId}/`: `metrics`. */
  readonly path: string;
  /** The object's name in messages: `Metric`. */
  readonly title: string;
  /** The create body's schema: a `name`, an optional `parentId`, the kind's fields. */
  readonly schema: v.GenericSchema<unknown, CreateFields>;
  /** Whether objects of this kind nest (`parentId`). */
  readonly nests: boolean;
}

/** A validated create body. */
export interface CreateFields {
  /** The name. */
  readonly name: string;
  /** The parent group, for kinds that nest. */
  readonly parentId?: number | undefined;
  /** The other fields, kept as they are. */
  readonly [field: string]: string | number | undefined;
}

const METRIC = v.object({
  name: nameField("a metric name"),
  description: textField(),
  dataType: wordField(DATA_TYPES),
  subject: v.optional(wordField(["SERVER", "GROUP", "SERVERGROUP", "APPLICATION"]), "APPLICATION"),
  unit: textField(),
  period: v.optional(
    v.pipe(integerField("a period in whole seconds"), v.minValue(1, "a period of 1 s or more")),
    60,
  ),
  source: textField(),
  state: STATE,
});

const DIMENSION = v.object({ name: nameField("a dimension name") });

const METRIC_GROUP = v.object({
  name: nameField("a metric group name"),
  description: textField(),
  type: textField(),
  state: STATE,
  subject: v.optional(wordField(["APPLICATION", "SERVERGROUP", "SERVER"]), "APPLICATION"),
  source: textField(),
  parentId: PARENT_ID,
});

const SERVER = v.object({
  name: nameField("a server name"),
  description: textField(),
  type: textField(),
  source: textField(),
  state: STATE,
});

const SERVER_GROUP = v.object({
  name: nameField("a server group name"),
  description: textField(),
  type: textField(),
  state: STATE,
  source: textField(),
  parentId: PARENT_ID,
});

const EVENT = v.object({
  name: nameField("an event name"),
  description: textField(),
  attributeDescriptions: v.optional(JSON_TEXT, "[]"),
  type: textField(),
  icon: textField(),
  source: textField(),
  state: STATE,
});

/** The kinds, by the path they live under. */
export const OBJECT_SPECS: readonly ObjectSpec[] = [
  { kind: "metric", path: "metrics", title: "Metric", schema: METRIC, nests: false },
  { kind: "dimension", path: "dimensions", title: "Dimension", schema: DIMENSION, nests: false },
  { kind: "metricgroup", path: "metricgroups", title: "Metric group", schema: METRIC_GROUP, nests: true },
  { kind: "server", path: "servers", title: "Server", schema: SERVER, nests: false },
  { kind: "servergroup", path: "servergroups", title: "Server group", schema: SERVER_GROUP, nests: true },
  { kind: "event", path: "events", title: "Event", schema: EVENT, nests: false },
];

/**
 * The fields kept of a create body: all but the name and the parent.
 *
 * @param body The validated create body.
 * @returns The fields.
 */
export function storedFields(body: CreateFields): CoscaleFields {
  const fields: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key !== "name" && key !== "parentId" && value !== undefined) fields[key] = value;
  }
  return fields;
}

/**
 * The JSON object CoScale answers with for a definition: `id`, `version`, `state`, `name`, the kind's fields,
 * `parentId` for groups, and an empty `attributes` list for a server.
 *
 * @param definition The stored definition.
 * @returns The object.
 */
export function renderObject(definition: CoscaleDefinition): Record<string, unknown> {
  const { state, ...fields } = definition.fields;
  const object: Record<string, unknown> = {
    id: definition.id,
    version: definition.version,
    state: state ?? "ENABLED",
    name: definition.name,
    ...fields,
  };
  if (definition.kind === "metricgroup" || definition.kind === "servergroup") {
    object["parentId"] = definition.parentId;
  }
  if (definition.kind === "server") object["attributes"] = [];
  return object;
}

/**
 * A metric's data type as stored, `DOUBLE` when missing.
 *
 * @param definition The metric.
 * @returns The data type.
 */
export function dataTypeOf(definition: CoscaleDefinition): DataType {
  const type = definition.fields["dataType"];
  return (DATA_TYPES as readonly unknown[]).includes(type) ? type as DataType : "DOUBLE";
}
