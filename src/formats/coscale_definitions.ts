/**
 * The boundary for CoScale generic-script definitions: the JSON a script prints in config mode (`-c`),
 * validated with valibot and normalised into {@link CoscaleDefinitions}.
 *
 * Tolerated as real scripts need (the quirks of CoScale's example scripts, see `src/inputs/scripts/README.md`):
 * - one JSON document, on one line or pretty-printed, with CRLF line ends, a UTF-8 BOM and surrounding
 *   whitespace;
 * - `metrics` and `events` both optional (events-only and metrics-only scripts), `null` taken as absent;
 * - the deprecated keys `tags` (ignored), `maxruntime` (ms) and `period` (s), returned for the runner;
 * - `datatype` aliases, case-insensitive: `DOUBLE`, `GAUGE` and the docs' typo `GUAGE` become `DOUBLE`;
 *   `COUNT`, `COUNTER` and `LONG` stay; missing means `DOUBLE`;
 * - `calctype` `Instant`, `Difference` and the legacy `Average`, case-insensitive; missing means `Instant`;
 * - ids as integers or digit strings; dimension ids scoped per metric; text fields `null` or missing → `""`.
 *
 * Problems (the script is unusable until fixed): not JSON, not an object, an entry of the wrong shape,
 * an unknown datatype or calctype, a repeated metric, event or (per metric) dimension id. Warnings (the
 * definitions are used): deprecated keys, aliases, defaults taken, unusable `maxruntime`/`period`.
 *
 * @module
 */

import * as v from "valibot";

/** The canonical CoScale data types (the API's `dataType`); GAUGE and GUAGE are read as DOUBLE. */
export type CoscaleDataType = "DOUBLE" | "COUNT" | "COUNTER" | "LONG";

/** How CoScale derives the value it stores from what the script printed. */
export type CoscaleCalcType = "Instant" | "Difference" | "Average";

/** One dimension of a metric; its id is local to the metric. */
export interface CoscaleDimension {
  /** The id `M` lines use in `"<dimId>:<value>"` pairs. */
  readonly id: number;
  /** The display name (e.g. `Volume Group`). */
  readonly name: string;
}

/** One metric definition. */
export interface CoscaleMetric {
  /** The id `M<id>` lines use; unique within the script. */
  readonly id: number;
  /** The display name; may repeat across ids (e.g. two `Server time` metrics with different units). */
  readonly name: string;
  /** The free-text description. */
  readonly description: string;
  /** The metric groups: the `groups` string split on `,`, each trimmed, empties dropped; `/` nests. */
  readonly groups: readonly string[];
  /** The free-text unit (`ms`, `b`, `%`, `#`, `b/s`, or empty). */
  readonly unit: string;
  /** The data type, aliases resolved. */
  readonly datatype: CoscaleDataType;
  /** The calculation type. */
  readonly calctype: CoscaleCalcType;
  /** The dimensions, in definition order. */
  readonly dimensions: readonly CoscaleDimension[];
}

/** One attribute an event may carry. */
export interface CoscaleAttributeDescription {
  /** The attribute name, as used as a key in the event line's attribute JSON. */
  readonly name: string;
  /** The attribute type (`integer` attributes can colour events in the CoScale UI). */
  readonly type: "integer" | "string";
  /** The free-text unit, or empty. */
  readonly unit: string;
}

/** One event definition. */
export interface CoscaleEvent {
  /** The id `E<id>` lines use; unique within the script. */
  readonly id: number;
  /** The display name: the title of every event of this id. */
  readonly name: string;
  /** The free-text description. */
  readonly description: string;
  /** The attributes the events may carry. */
  readonly attributeDescriptions: readonly CoscaleAttributeDescription[];
}

/** A script's normalised definitions: what the `coscale_script` format needs to read `-d` output. */
export interface CoscaleDefinitions {
  /** The metric definitions, in script order. */
  readonly metrics: readonly CoscaleMetric[];
  /** The event definitions, in script order. */
  readonly events: readonly CoscaleEvent[];
  /** The deprecated `maxruntime`: the script's own data-mode time limit in ms, when it gave a usable one. */
  readonly maxRuntimeMs?: number;
  /** The deprecated `period`: the script's own interval in seconds, when it gave a usable one. */
  readonly periodS?: number;
}

/** One thing wrong with (or worth saying about) a script's definitions. */
export interface Problem {
  /** Where: a JSON path such as `$.metrics[2].datatype`; `$` is the whole document. */
  readonly path: string;
  /** What is wrong and what was found, sentence case. */
  readonly reason: string;
}

/** The outcome of {@link parseCoscaleDefinitions}. */
export type CoscaleDefinitionsResult =
  | {
    readonly ok: true;
    /** The normalised definitions. */
    readonly definitions: CoscaleDefinitions;
    /** Tolerated oddities (deprecated keys, aliases, defaults taken). */
    readonly warnings: readonly Problem[];
  }
  | {
    readonly ok: false;
    /** Everything that makes the definitions unusable (all of it, not just the first). */
    readonly problems: readonly Problem[];
  };

const DIGITS_REGEXP = /^\s*\d{1,9}\s*$/;

/** A non-negative integer id, or a string of digits (PHP/JS scripts sometimes quote numbers). */
const ID_SCHEMA = v.union(
  [
    v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(999_999_999)),
    v.pipe(v.string(), v.regex(DIGITS_REGEXP), v.transform(Number)),
  ],
  "Expected a non-negative integer",
);

/** A free-text field: missing or null become "", numbers are kept as their text. */
const TEXT_SCHEMA = v.optional(
  v.pipe(
    v.nullable(v.union([v.string(), v.number()], "Expected a string")),
    v.transform((text): string => (text === null ? "" : String(text))),
  ),
  "",
);

const DATATYPE_ALIASES: Readonly<Record<string, CoscaleDataType>> = {
  DOUBLE: "DOUBLE",
  GAUGE: "DOUBLE",
  GUAGE: "DOUBLE",
  COUNT: "COUNT",
  COUNTER: "COUNTER",
  LONG: "LONG",
};

const CALCTYPES: Readonly<Record<string, CoscaleCalcType>> = {
  instant: "Instant",
  difference: "Difference",
  average: "Average",
};

const DATATYPE_SCHEMA = v.pipe(
  v.string(),
  v.trim(),
  v.toUpperCase(),
  v.picklist(Object.keys(DATATYPE_ALIASES), "Expected DOUBLE, GAUGE, COUNT, COUNTER or LONG"),
  v.transform((name): CoscaleDataType => DATATYPE_ALIASES[name]!),
);

const CALCTYPE_SCHEMA = v.pipe(
  v.string(),
  v.trim(),
  v.toLowerCase(),
  v.picklist(Object.keys(CALCTYPES), "Expected Instant or Difference"),
  v.transform((name): CoscaleCalcType => CALCTYPES[name]!),
);

const DIMENSION_SCHEMA = v.object({
  id: ID_SCHEMA,
  name: v.pipe(v.union([v.string(), v.number()], "Expected a string"), v.transform(String)),
});

const METRIC_SCHEMA = v.object({
  id: ID_SCHEMA,
  name: TEXT_SCHEMA,
  description: TEXT_SCHEMA,
  groups: TEXT_SCHEMA,
  unit: TEXT_SCHEMA,
  datatype: v.optional(v.nullable(DATATYPE_SCHEMA)),
  calctype: v.optional(v.nullable(CALCTYPE_SCHEMA)),
  dimensions: v.optional(v.nullable(v.array(DIMENSION_SCHEMA, "Expected an array"))),
});

const ATTRIBUTE_SCHEMA = v.object({
  name: v.pipe(v.union([v.string(), v.number()], "Expected a string"), v.transform(String)),
  type: v.optional(v.nullable(v.string())),
  unit: TEXT_SCHEMA,
});

const EVENT_SCHEMA = v.object({
  id: ID_SCHEMA,
  name: TEXT_SCHEMA,
  description: TEXT_SCHEMA,
  attributeDescriptions: v.optional(v.nullable(v.array(ATTRIBUTE_SCHEMA, "Expected an array"))),
});

const DOCUMENT_SCHEMA = v.object(
  {
    metrics: v.optional(v.nullable(v.array(METRIC_SCHEMA, "Expected an array"))),
    events: v.optional(v.nullable(v.array(EVENT_SCHEMA, "Expected an array"))),
    maxruntime: v.optional(v.unknown()),
    period: v.optional(v.unknown()),
    tags: v.optional(v.unknown()),
  },
  "Expected a JSON object",
);

/**
 * The schema of normalised definitions, as they travel in a script frame header (already validated once
 * at the boundary; the worker re-checks the shape because a frame is only bytes).
 */
export const COSCALE_DEFINITIONS_SCHEMA = v.object({
  metrics: v.array(v.object({
    id: v.number(),
    name: v.string(),
    description: v.string(),
    groups: v.array(v.string()),
    unit: v.string(),
    datatype: v.picklist(["DOUBLE", "COUNT", "COUNTER", "LONG"]),
    calctype: v.picklist(["Instant", "Difference", "Average"]),
    dimensions: v.array(v.object({ id: v.number(), name: v.string() })),
  })),
  events: v.array(v.object({
    id: v.number(),
    name: v.string(),
    description: v.string(),
    attributeDescriptions: v.array(v.object({
      name: v.string(),
      type: v.picklist(["integer", "string"]),
      unit: v.string(),
    })),
  })),
  maxRuntimeMs: v.exactOptional(v.number()),
  periodS: v.exactOptional(v.number()),
});

const BOM = "\uFEFF";

/**
 * Validates and normalises the stdout of a script's config mode (`<cmdline> -c`).
 *
 * @param stdout The whole standard output, decoded as UTF-8.
 * @returns The normalised definitions plus warnings, or every problem found, each with a JSON path.
 * @example
 * ```ts
 * const result = parseCoscaleDefinitions('{"metrics":[{"id":1,"name":"Load","datatype":"GUAGE"}]}');
 * if (result.ok) result.definitions.metrics[0]!.datatype; // "DOUBLE"
 * ```
 */
export function parseCoscaleDefinitions(stdout: string): CoscaleDefinitionsResult {
  const text = (stdout.startsWith(BOM) ? stdout.slice(1) : stdout).trim();
  if (text === "") {
    return { ok: false, problems: [{ path: "$", reason: "Expected one JSON object, found empty output" }] };
  }
  const warnings: Problem[] = [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    // The PowerShell example script prints `# comments` inside its JSON; bash scripts that assemble JSON
    // with `echo -n` pieces leave trailing commas. Both are read with a warning; anything else is invalid.
    // Twice: the first pass drops comments, which can leave a comma before a bracket for the second.
    const relaxed = relaxJson(relaxJson(text));
    try {
      json = JSON.parse(relaxed);
      warnings.push({ path: "$", reason: "Not strict JSON: comments and trailing commas were ignored" });
    } catch {
      const detail = error instanceof Error ? error.message : String(error);
      return {
        ok: false,
        problems: [{ path: "$", reason: `Expected one JSON object, found invalid JSON (${detail})` }],
      };
    }
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    // valibot's object schema lets arrays through; the document must be a JSON object.
    const found = Array.isArray(json) ? "an array" : json === null ? "null" : `a ${typeof json}`;
    return { ok: false, problems: [{ path: "$", reason: `Expected one JSON object, found ${found}` }] };
  }
  const parsed = v.safeParse(DOCUMENT_SCHEMA, json);
  if (!parsed.success) {
    return { ok: false, problems: parsed.issues.map(toProblem) };
  }
  const raw = json as Readonly<Record<string, unknown>>;
  const problems: Problem[] = [];
  const document = parsed.output;

  for (const key of Object.keys(raw)) {
    if (key === "tags") {
      warnings.push({ path: "$.tags", reason: "Deprecated key ignored" });
    } else if (key !== "metrics" && key !== "events" && key !== "maxruntime" && key !== "period") {
      warnings.push({ path: `$${pathKey(key)}`, reason: "Unknown key ignored" });
    }
  }

  const metrics: CoscaleMetric[] = [];
  const metricIds = new Set<number>();
  const rawMetrics = arrayOf(raw["metrics"]);
  (document.metrics ?? []).forEach(function normaliseMetric(metric, index) {
    const path = `$.metrics[${index}]`;
    const source = objectAt(rawMetrics, index);
    if (metricIds.has(metric.id)) {
      problems.push({ path: `${path}.id`, reason: `Duplicate metric id ${metric.id}` });
    }
    metricIds.add(metric.id);
    if (metric.name.trim() === "") {
      warnings.push({ path: `${path}.name`, reason: `Missing name: metric ${metric.id} is named by its id` });
    }
    const datatypeText = source["datatype"];
    if (metric.datatype === undefined || metric.datatype === null) {
      warnings.push({ path: `${path}.datatype`, reason: "Missing datatype: DOUBLE assumed" });
    } else if (typeof datatypeText === "string" && datatypeText.trim().toUpperCase() !== metric.datatype) {
      warnings.push({
        path: `${path}.datatype`,
        reason: `Datatype alias "${datatypeText}" read as ${metric.datatype}`,
      });
    }
    if (metric.calctype === undefined || metric.calctype === null) {
      warnings.push({ path: `${path}.calctype`, reason: "Missing calctype: Instant assumed" });
    } else if (metric.calctype === "Average") {
      warnings.push({
        path: `${path}.calctype`,
        reason: "Legacy calctype Average: values are used as Instant (tally averages per window itself)",
      });
    }
    if ("tags" in source) {
      warnings.push({ path: `${path}.tags`, reason: "Deprecated key ignored" });
    }
    const dimensions: CoscaleDimension[] = [];
    const dimensionIds = new Set<number>();
    (metric.dimensions ?? []).forEach(function normaliseDimension(dimension, d) {
      if (dimensionIds.has(dimension.id)) {
        problems.push({
          path: `${path}.dimensions[${d}].id`,
          reason: `Duplicate dimension id ${dimension.id} on metric ${metric.id}`,
        });
      }
      dimensionIds.add(dimension.id);
      dimensions.push({ id: dimension.id, name: dimension.name });
    });
    metrics.push({
      id: metric.id,
      name: metric.name,
      description: metric.description,
      groups: splitGroups(metric.groups),
      unit: metric.unit,
      datatype: metric.datatype ?? "DOUBLE",
      calctype: metric.calctype ?? "Instant",
      dimensions,
    });
  });

  const events: CoscaleEvent[] = [];
  const eventIds = new Set<number>();
  (document.events ?? []).forEach(function normaliseEvent(event, index) {
    const path = `$.events[${index}]`;
    if (eventIds.has(event.id)) {
      problems.push({ path: `${path}.id`, reason: `Duplicate event id ${event.id}` });
    }
    eventIds.add(event.id);
    if (event.name.trim() === "") {
      warnings.push({ path: `${path}.name`, reason: `Missing name: event ${event.id} is named by its id` });
    }
    const attributes: CoscaleAttributeDescription[] = [];
    (event.attributeDescriptions ?? []).forEach(function normaliseAttribute(attribute, a) {
      const type = (attribute.type ?? "string").trim().toLowerCase();
      if (type !== "integer" && type !== "string") {
        warnings.push({
          path: `${path}.attributeDescriptions[${a}].type`,
          reason: `Unknown attribute type "${attribute.type ?? ""}": string assumed`,
        });
      }
      attributes.push({
        name: attribute.name,
        type: type === "integer" ? "integer" : "string",
        unit: attribute.unit,
      });
    });
    events.push({
      id: event.id,
      name: event.name,
      description: event.description,
      attributeDescriptions: attributes,
    });
  });

  if (problems.length > 0) return { ok: false, problems };

  const maxRuntimeMs = positiveInteger(raw["maxruntime"], "$.maxruntime", "ms", warnings);
  const periodS = positiveInteger(raw["period"], "$.period", "s", warnings);
  const definitions: CoscaleDefinitions = {
    metrics,
    events,
    ...(maxRuntimeMs === undefined ? {} : { maxRuntimeMs }),
    ...(periodS === undefined ? {} : { periodS }),
  };
  return { ok: true, definitions, warnings };
}

/**
 * Removes what keeps hand-written JSON from parsing: `#` and `//` comments to the end of the line and
 * commas right before `]` or `}`, all outside strings.
 */
function relaxJson(text: string): string {
  let out = "";
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '"') {
      // Copy the whole string, escapes included.
      let j = i + 1;
      while (j < n && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === "#" || (c === "/" && text[i + 1] === "/")) {
      while (i < n && text[i] !== "\n") i++;
    } else if (c === ",") {
      let j = i + 1;
      while (j < n && (text[j] === " " || text[j] === "\t" || text[j] === "\r" || text[j] === "\n")) j++;
      if (text[j] !== "]" && text[j] !== "}") out += c;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Splits a CoScale `groups` string: `,` separates groups, each trimmed; empty groups are dropped. */
function splitGroups(groups: string): string[] {
  const out: string[] = [];
  for (const group of groups.split(",")) {
    const trimmed = group.trim();
    if (trimmed !== "") out.push(trimmed);
  }
  return out;
}

/** Reads a deprecated numeric key: a positive integer (or digit string) is returned, anything else warned. */
function positiveInteger(
  value: unknown,
  path: string,
  unit: string,
  warnings: Problem[],
): number | undefined {
  if (value === undefined || value === null) return undefined;
  const number = typeof value === "string" && DIGITS_REGEXP.test(value) ? Number(value) : value;
  if (typeof number === "number" && Number.isInteger(number) && number > 0) return number;
  warnings.push({
    path,
    reason: `Expected a positive integer (${unit}), found ${shortJson(value)}: ignored`,
  });
  return undefined;
}

/** Turns a valibot issue into a problem with a JSON path. */
function toProblem(issue: v.BaseIssue<unknown>): Problem {
  let path = "$";
  for (const item of issue.path ?? []) {
    const key = item.key;
    path += typeof key === "number" ? `[${key}]` : pathKey(String(key));
  }
  const found = issue.received === undefined ? "" : `, found ${issue.received}`;
  // A union's own message already says what was expected; the others get it from their issue.
  const expected = issue.message.startsWith("Expected")
    ? issue.message
    : `Expected ${issue.expected ?? "a valid value"}`;
  return { path, reason: `${expected}${found}` };
}

/** A JSON path member: `.key` for plain keys, `["key"]` otherwise. */
function pathKey(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** The array under a key of the raw document, or an empty one. */
function arrayOf(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The raw object at an index (already validated as an object), or an empty one. */
function objectAt(items: readonly unknown[], index: number): Readonly<Record<string, unknown>> {
  const item = items[index];
  return typeof item === "object" && item !== null ? (item as Record<string, unknown>) : {};
}

/** A value as short JSON text for a message. */
function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
