/**
 * What the CoScale-compatible routes share: how they register (with and without CoScale's trailing slash,
 * behind CoScale's authentication) and how they answer errors the way CoScale did (coscale.md §3.1):
 * `{"msg": …}`, plus `issues` naming every bad field of a 400, and 409 `{"msg", "type": "DUPLICATE", "id"}`.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { BodyIssue } from "../../internal/body_issues.ts";
import type { ComponentStats } from "../../internal/self_stats.ts";
import type { Accept } from "../../store/inbox.ts";
import type { CoscaleCatalog } from "../../store/coscale_catalog.ts";
import type { Sessions } from "./_sessions.ts";

/** Every CoScale route's path starts with this (`appId` is taken and ignored: tally has one catalog). */
export const APP_PREFIX = "/api/v1/app/:appId";

/** What the route modules need. */
export interface Api {
  /** The store's CoScale tables. */
  readonly catalog: CoscaleCatalog;
  /** The login sessions. */
  readonly sessions: Sessions;
  /** Accepts a frame durably. */
  readonly accept: Accept;
  /** The input's uniform counters. */
  readonly stats: ComponentStats;
  /** Counts the points of metric ids no metric has (kept under a generated name). */
  readonly undefinedPoints: { add(n?: number): void };
  /** The largest metric data one request may carry, in bytes. */
  readonly maxDataBytes: number;
  /** Whether the input is stopping. */
  readonly stopping: () => boolean;
  /** The clock. */
  readonly now: () => number;
}

/** A route handler. */
export type Handler = (c: Context) => Promise<Response> | Response;

/**
 * Registers a handler for a CoScale path (given without its trailing slash) with and without the slash,
 * behind CoScale's authentication unless `open`.
 *
 * @param app The app.
 * @param api The sessions (for the check) and counters.
 * @param route The method, the path under `/api/v1/app/:appId`, and whether it needs no credentials.
 * @param handler The handler.
 */
export function route(
  app: Hono,
  api: Api,
  route: { readonly method: "GET" | "POST" | "PUT"; readonly path: string; readonly open?: boolean },
  handler: Handler,
): void {
  const path = `${APP_PREFIX}${route.path}`;
  const guarded = route.open === true ? handler : function authenticated(c: Context) {
    const refusal = api.sessions.check({
      httpAuthorization: c.req.header("httpauthorization"),
      authorization: c.req.header("authorization"),
    });
    if (refusal === undefined) return handler(c);
    api.stats.errors("unauthorized").add();
    return reply(c, 401, refusal);
  };
  app.on(route.method, [path, `${path}/`], guarded);
}

/**
 * Answers `{"msg": text, ...extra}`.
 *
 * @param c The context.
 * @param status The status.
 * @param msg The message, in sentence case.
 * @param extra More fields.
 * @returns The response.
 */
export function reply(
  c: Context,
  status: ContentfulStatusCode,
  msg: string,
  extra: Readonly<Record<string, unknown>> = {},
): Response {
  return c.json({ msg, ...extra }, status);
}

/**
 * Answers 400 naming every bad field, and counts it.
 *
 * @param c The context.
 * @param api The counters.
 * @param msg What was refused.
 * @param issues The bad fields.
 * @returns The response.
 */
export function invalid(c: Context, api: Api, msg: string, issues: readonly BodyIssue[] = []): Response {
  api.stats.errors("bad_request").add();
  const n = issues.length;
  const text = n === 0
    ? msg
    : `${msg}: ${n} invalid field${n === 1 ? "" : "s"} (${issues.map((i) => i.path).join(", ")})`;
  return reply(c, 400, text, n === 0 ? {} : { issues });
}

/**
 * Answers 404 for an object that does not exist.
 *
 * @param c The context.
 * @param what What was looked for: `Metric 12`.
 * @returns The response.
 */
export function notFound(c: Context, what: string): Response {
  return reply(c, 404, `${what} does not exist`);
}

/**
 * Reads a numeric path parameter.
 *
 * @param c The context.
 * @param name The parameter's name.
 * @returns The number (the route's pattern made sure it is digits).
 */
export function idParam(c: Context, name: string): number {
  return Number(c.req.param(name));
}
