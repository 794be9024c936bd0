/**
 * Request bodies of the CoScale-compatible API: form-urlencoded, as the CoScale CLI, the statsd backend
 * and the PHP helper send them, or JSON with the same field names, as the Java SDK sends them
 * (coscale.md §3.1); and the valibot pieces their schemas share (a number may arrive as form text).
 *
 * @module
 */

import type { Context } from "hono";
import * as v from "valibot";
import { isName } from "../../formats/json.ts";
import { bodyIssues } from "../../internal/body_issues.ts";
import type { BodyIssue } from "../../internal/body_issues.ts";

/** A body's fields by name, or why there are none. */
export type Fields =
  | { readonly kind: "ok"; readonly fields: Readonly<Record<string, unknown>>; readonly bytes: number }
  | { readonly kind: "invalid"; readonly msg: string };

const decoder = new TextDecoder("utf-8", { fatal: true });
const MAX_NAME_LENGTH = 1024;
const INTEGER_TEXT_REGEXP = /^\s*[-+]?\d+\s*$/;
const NUMBER_TEXT_REGEXP = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

/**
 * Reads a request's body as fields: a JSON object when the content type says JSON, else form fields (the
 * first value of a repeated one). An empty body has no fields.
 *
 * @param c The request's context.
 * @returns The fields and the body's size, or why the body cannot be read.
 */
export async function readFields(c: Context): Promise<Fields> {
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { kind: "invalid", msg: "Request body is not UTF-8" };
  }
  const type = c.req.header("content-type")?.toLowerCase() ?? "";
  if (type.includes("json")) {
    let json: unknown;
    try {
      json = text.trim() === "" ? {} : JSON.parse(text);
    } catch (error) {
      return { kind: "invalid", msg: `Request body is not JSON: ${(error as Error).message}` };
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      return { kind: "invalid", msg: "Request body is not a JSON object of fields" };
    }
    return { kind: "ok", fields: json as Record<string, unknown>, bytes: bytes.length };
  }
  const fields: Record<string, unknown> = {};
  for (const [name, value] of new URLSearchParams(text)) {
    if (!Object.hasOwn(fields, name)) fields[name] = value;
  }
  return { kind: "ok", fields, bytes: bytes.length };
}

/** A schema's output, or the issues of every bad field. */
export type Checked<T> =
  | { readonly kind: "ok"; readonly value: T }
  | { readonly kind: "invalid"; readonly issues: readonly BodyIssue[] };

/**
 * Validates fields with a schema.
 *
 * @param schema The schema.
 * @param fields The fields.
 * @param prefix The path of the fields within the request, e.g. `data` for the payload of `data/`.
 * @returns The output, or the issues with their paths.
 */
export function check<S extends v.GenericSchema>(
  schema: S,
  fields: unknown,
  prefix = "",
): Checked<v.InferOutput<S>> {
  const parsed = v.safeParse(schema, fields);
  if (parsed.success) return { kind: "ok", value: parsed.output };
  const issues = bodyIssues(parsed.issues, schema).map((issue) => ({
    path: prefix === ""
      ? issue.path
      : issue.path === "" || issue.path.startsWith("[")
      ? `${prefix}${issue.path}`
      : `${prefix}.${issue.path}`,
    message: issue.message,
  }));
  return { kind: "invalid", issues };
}

/**
 * A name: text on one line, not blank, at most 1024 characters (it becomes a metric name, a label or an
 * event title).
 *
 * @param what What it names, for the message: `a metric name`.
 * @returns The schema.
 */
export function nameField(what: string) {
  const expected = `${what}: text on one line, not blank`;
  return v.pipe(
    v.string(expected),
    v.check((text: string) => text.trim() !== "" && isName(text), expected),
    v.maxLength(MAX_NAME_LENGTH, `${what} of at most ${MAX_NAME_LENGTH} characters`),
  );
}

/**
 * Optional free text, empty when absent.
 *
 * @returns The schema.
 */
export function textField() {
  return v.optional(v.string("text"), "");
}

/**
 * A whole number, given as a number or as form text.
 *
 * @param expected What is expected, for the message.
 * @returns The schema.
 */
export function integerField(expected: string) {
  return v.pipe(
    v.union([v.number(), v.pipe(v.string(), v.regex(INTEGER_TEXT_REGEXP, expected))], expected),
    v.transform(Number),
    v.safeInteger(expected),
  );
}

/**
 * A finite number, given as a number or as form text.
 *
 * @param expected What is expected, for the message.
 * @returns The schema.
 */
export function numberField(expected: string) {
  return v.pipe(
    v.union([v.number(), v.pipe(v.string(), v.regex(NUMBER_TEXT_REGEXP, expected))], expected),
    v.transform(Number),
    v.finite(expected),
  );
}

/**
 * One of a few upper-case words, taken in any case (CoScale's `dataType`, `subject`, `state`).
 *
 * @param words The words.
 * @returns The schema, whose output is upper case.
 */
export function wordField<const W extends readonly [string, ...string[]]>(words: W) {
  const expected = `one of ${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
  return v.pipe(v.string(expected), v.toUpperCase(), v.picklist(words, expected));
}

/** A CoScale subject: `a` (the application), `s<id>` (a server) or `g<id>` (a server group), any case. */
export const SUBJECT_SCHEMA = v.pipe(
  v.string("a subject: a, s<server id> or g<server group id>"),
  v.regex(/^(?:[aA]|[sSgG][0-9]+)$/, "a subject: a, s<server id> or g<server group id>"),
);
