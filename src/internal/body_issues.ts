/**
 * Renders valibot issues of an HTTP request body as the push API's error items: the path of the bad
 * field (`metrics[3].value`) and `expected …, found …` (see `HTTP_CONTRACT.md`, "Common rules").
 *
 * Schemas give each check a message that completes "expected …" (`v.number("a finite number")`), as the
 * config schema does; a field without one says what valibot expected.
 *
 * @module
 */

import type * as v from "valibot";

/** One bad field of a request body. */
export interface BodyIssue {
  /** Where: `metrics[3].value`, `events[0].end`, or empty for the body itself. */
  readonly path: string;
  /** What was wrong: `expected a finite number, found "abc"`. */
  readonly message: string;
}

const BARE_KEY_REGEXP = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const MAX_FOUND_CHARS = 60;

/**
 * Converts valibot issues into body issues, one per issue, keeping only the first issue of each path
 * (a field with several problems is named once).
 *
 * @param issues The issues from `v.safeParse`.
 * @param root The schema that was parsed, to say what a missing field should have held.
 * @returns The body issues, in the order valibot found them.
 * @example
 * ```ts
 * const parsed = v.safeParse(PUSH_BODY_SCHEMA, body);
 * if (!parsed.success) return c.json({ error: "Invalid push body", issues: bodyIssues(parsed.issues, PUSH_BODY_SCHEMA) }, 400);
 * ```
 */
export function bodyIssues(issues: readonly v.BaseIssue<unknown>[], root: unknown): BodyIssue[] {
  const out: BodyIssue[] = [];
  const seen = new Set<string>();
  for (const issue of issues) {
    const items = issue.path ?? [];
    const path = renderBodyPath(items.map((item) => item.key));
    if (seen.has(path)) continue;
    seen.add(path);
    out.push({ path, message: issueMessage(issue, items, root) });
  }
  return out;
}

/**
 * Renders a path: `metrics[3].value`; keys that are not identifiers are quoted (`labels["a.b"]`).
 *
 * @param keys The path's keys and indexes.
 * @returns The path; empty for the root.
 */
export function renderBodyPath(keys: readonly unknown[]): string {
  let out = "";
  for (const key of keys) {
    if (typeof key === "number") out += `[${key}]`;
    else if (typeof key === "string" && BARE_KEY_REGEXP.test(key)) out += `${out === "" ? "" : "."}${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/**
 * Describes a value found in a body for a message.
 *
 * @param value The value.
 * @returns `nothing`, a quoted string (shortened), a number, `null`, `an object` or `an array`.
 */
export function describeFound(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (typeof value === "string") {
    const text = JSON.stringify(value);
    return text.length <= MAX_FOUND_CHARS ? text : `${text.slice(0, MAX_FOUND_CHARS - 1)}…`;
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return Array.isArray(value) ? "an array" : "an object";
}

function issueMessage(issue: v.BaseIssue<unknown>, items: readonly v.IssuePathItem[], root: unknown): string {
  const last = items.at(-1);
  const objectIssue = issue.type === "strict_object" || issue.type === "object" ||
    issue.type === "loose_object";
  if (objectIssue && last !== undefined && issue.expected === "never") {
    return `expected no such field, found the unknown field ${JSON.stringify(String(last.key))}`;
  }
  if (objectIssue && last !== undefined && issue.input === undefined) {
    return `expected ${expectationAt(root, items) ?? "a value"}, found nothing`;
  }
  // The value at the path, not issue.input: a check forwarded to a field reports the whole object as input.
  return `expected ${issue.message}, found ${describeFound(last === undefined ? issue.input : last.value)}`;
}

/** The message of the schema at the end of `items`, walking objects, arrays, records, pipes and wrappers. */
function expectationAt(root: unknown, items: readonly v.IssuePathItem[]): string | undefined {
  let schema: unknown = root;
  for (const item of items) {
    schema = unwrap(schema);
    const entries = field(schema, "entries");
    if (isRecord(entries) && typeof item.key === "string") schema = entries[item.key];
    else if (field(schema, "type") === "array") schema = field(schema, "item");
    else if (field(schema, "type") === "record") schema = field(schema, "value");
    else return undefined;
  }
  for (let current = schema, depth = 0; depth < 8 && isRecord(current); depth++) {
    if (typeof current["message"] === "string") return current["message"];
    const pipe = current["pipe"];
    if (Array.isArray(pipe)) {
      const withMessage = pipe.slice(1).find((action) => typeof field(action, "message") === "string");
      if (withMessage !== undefined) return field(withMessage, "message") as string;
      current = pipe[0];
    } else current = current["wrapped"];
  }
  return undefined;
}

/** Looks through optional wrappers and pipes to the object, array or record schema. */
function unwrap(schema: unknown): unknown {
  let current = schema;
  for (let depth = 0; depth < 8 && isRecord(current); depth++) {
    if ("wrapped" in current) current = current["wrapped"];
    else if (Array.isArray(current["pipe"])) current = current["pipe"][0];
    else return current;
  }
  return current;
}

function field(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
