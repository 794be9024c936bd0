/**
 * Turns valibot issues into {@link ConfigIssue}s that say `expected …, found …` with the key path, the
 * flag an overridden value came from, and a "did you mean" for misspelt keys.
 *
 * @module
 */

import type * as v from "valibot";
import { keyPath } from "./config_error.ts";
import type { ConfigIssue, PathSegment } from "./config_error.ts";

/** A key path that a command-line flag set, so issues under it name the flag instead. */
export interface FlagPath {
  /** The key path the flag wrote, e.g. `["inputs", "statsd", "listen"]`. */
  readonly path: readonly PathSegment[];
  /** The flag, e.g. `--statsd`. */
  readonly flag: string;
}

type Issue = v.BaseIssue<unknown>;
type PathItem = v.IssuePathItem;

const MAX_FOUND_CHARS = 60;

/**
 * The fallback message of issues whose schema carries none: the expectation derived from the issue.
 *
 * @param issue The issue (valibot passes it without `message`).
 * @returns An expectation that completes "expected …".
 */
export function expectation(issue: Omit<Issue, "message">): string {
  switch (issue.type) {
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "boolean":
      return "true or false";
    case "array":
      return "an array";
    case "object":
    case "strict_object":
    case "loose_object":
    case "record":
      return "a table";
    case "integer":
      return "an integer";
    case "picklist":
    case "literal":
    case "variant":
    case "union":
      return issue.expected === null ? "a valid value" : `one of ${alternatives(issue.expected)}`;
    case "min_value":
      return `a value of at least ${String(issue.requirement)}`;
    case "max_value":
      return `a value of at most ${String(issue.requirement)}`;
    case "non_empty":
    case "min_length":
      return "a non-empty value";
    default:
      return issue.expected ?? `a valid ${issue.type.replaceAll("_", " ")}`;
  }
}

/**
 * Converts valibot issues to config issues.
 *
 * @param issues The issues from `safeParse`.
 * @param options The root schema (to list the keys a table allows) and the flag paths.
 * @returns One config issue per valibot issue, in the same order.
 */
export function toConfigIssues(
  issues: readonly Issue[],
  options: { readonly root: unknown; readonly flags: readonly FlagPath[] },
): ConfigIssue[] {
  return issues.map(function toConfigIssue(issue): ConfigIssue {
    const items = issue.path ?? [];
    const path = items.map((item) => item.key as PathSegment);
    const last = items.at(-1);
    let text: string;
    if (issue.type === "strict_object" && last?.origin === "key" && issue.expected === "never") {
      text = unknownKey(String(last.key), keysAt(options.root, items));
    } else if (last?.origin === "key" && last.value === undefined && issue.input === undefined) {
      text = `expected ${entryExpectation(options.root, items)}, found nothing`;
    } else if (last?.origin === "key") {
      text = `expected ${issue.message}, found the key ${found(last.key)}`;
    } else {
      text = `expected ${issue.message}, found ${found(issue.input)}`;
    }
    return { path, where: renderPath(path, options.flags), text };
  });
}

/**
 * Renders a key path: `inputs.statsd.listen[0]`, or the flag that set it: `--statsd[0]`.
 *
 * @param path The key path.
 * @param flags The key paths set by flags.
 * @returns The rendered path; empty for the root.
 */
export function renderPath(path: readonly PathSegment[], flags: readonly FlagPath[] = []): string {
  const flag = flags.find((f) => f.path.length <= path.length && f.path.every((s, i) => s === path[i]));
  return keyPath(path.slice(flag?.path.length ?? 0), flag?.flag ?? "");
}

/**
 * Describes a value found in the config for a message.
 *
 * @param value The value.
 * @returns `nothing` for a missing value, quoted strings, `a table`, short arrays inline.
 */
export function found(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return truncate(JSON.stringify(value));
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return String(value);
  }
  if (value instanceof Date) return `the date ${value.toISOString()}`;
  if (Array.isArray(value)) {
    const inline = JSON.stringify(value, (_k, x: unknown) => (typeof x === "bigint" ? String(x) : x));
    return inline === undefined ? "an array" : truncate(inline.replaceAll(",", ", "));
  }
  return "a table";
}

function unknownKey(key: string, known: readonly string[] | undefined): string {
  if (known === undefined || known.length === 0) {
    return `expected no such key, found the unknown key "${key}"`;
  }
  const guess = closest(key, known);
  const hint = guess === undefined ? "" : ` (did you mean "${guess}"?)`;
  return `expected one of ${alternatives(known.map((k) => JSON.stringify(k)).join(" | "))}${hint}, ` +
    `found the unknown key "${key}"`;
}

/** Lists `"a" | "b" | "c"` (valibot's form) as `"a", "b" or "c"`. */
function alternatives(expected: string): string {
  const parts = expected.replace(/^\((.*)\)$/, "$1").split(" | ");
  return parts.length <= 1 ? expected : `${parts.slice(0, -1).join(", ")} or ${parts.at(-1)}`;
}

function truncate(text: string): string {
  return text.length <= MAX_FOUND_CHARS ? text : `${text.slice(0, MAX_FOUND_CHARS - 1)}…`;
}

/**
 * The schema of the table at the end of `items`, found by walking the schema along the issue path.
 * Variants are resolved by the discriminator the document actually holds.
 */
function tableAt(root: unknown, items: readonly PathItem[]): unknown {
  let schema: unknown = root;
  for (const [i, item] of items.entries()) {
    schema = resolve(schema, item.input);
    if (i === items.length - 1) break;
    schema = child(schema, item.key);
  }
  return schema;
}

function keysAt(root: unknown, items: readonly PathItem[]): readonly string[] | undefined {
  const entries = field(tableAt(root, items), "entries");
  return isRecord(entries) ? Object.keys(entries).sort(typeFirst) : undefined;
}

/** What a missing required key should have held: its schema's message, or one derived from its type. */
function entryExpectation(root: unknown, items: readonly PathItem[]): string {
  const entry = child(tableAt(root, items), items.at(-1)?.key);
  const message = field(entry, "message");
  if (typeof message === "string") return message;
  const type = field(entry, "type");
  const expects = field(entry, "expects");
  if (typeof type !== "string") return "a value";
  return expectation({
    kind: "schema",
    type,
    input: undefined,
    expected: typeof expects === "string" ? expects : null,
    received: "undefined",
  });
}

/** Unwraps optional and default wrappers and picks the variant option that matches `value`. */
function resolve(schema: unknown, value: unknown): unknown {
  let current = schema;
  for (let depth = 0; depth < 16 && isRecord(current); depth++) {
    if ("wrapped" in current) {
      current = current["wrapped"];
    } else if (current["type"] === "variant" && Array.isArray(current["options"])) {
      const key = String(current["key"]);
      const wanted = isRecord(value) ? value[key] : undefined;
      current = current["options"].find((o: unknown) =>
        field(field(field(o, "entries"), key), "literal") === wanted
      );
    } else {
      return current;
    }
  }
  return current;
}

function child(schema: unknown, key: unknown): unknown {
  const entries = field(schema, "entries");
  if (isRecord(entries) && typeof key === "string") return entries[key];
  if (field(schema, "type") === "record") return field(schema, "value");
  if (field(schema, "type") === "array") return field(schema, "item");
  return undefined;
}

function field(value: unknown, key: string): unknown {
  return isRecord(value) ? value[key] : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function typeFirst(a: string, b: string): number {
  if (a === "type") return -1;
  if (b === "type") return 1;
  return 0;
}

/** The known key nearest to `key` by edit distance, when it is close enough to be a typo. */
function closest(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
