/**
 * The store's read API on the HTTP endpoint: `GET /api/v1/query` and `GET /api/v1/events`.
 *
 * @module
 */

import { Hono } from "hono";
import * as v from "valibot";
import { parseTime } from "./_time.ts";
import { DEFAULT_EVENT_LIMIT } from "./event_table.ts";
import type { Store } from "./store.ts";

/** Options for {@link storeRoutes}. */
export interface StoreRoutesOptions {
  /** The clock for relative times (`since=1h`); `Date.now` by default. */
  readonly now?: () => number;
}

/** The default start of a range when `since` is not given. */
const DEFAULT_SINCE = "1h";

/** The most points per series or events one request may ask for. */
const MAX_LIMIT = 100_000;

const LABEL_PREFIX = "label.";

const TIME_MESSAGE = 'expected a duration like "1h", epoch seconds or ms, or an RFC 3339 time';

/** A time parameter; only its shape is checked here, it is resolved against the request's clock later. */
const TimeSchema = v.pipe(
  v.string(),
  v.check((text: string) => parseTime(text, 0) !== undefined, TIME_MESSAGE),
);

const LimitSchema = v.pipe(
  v.string(),
  v.regex(/^\d+$/, "expected a positive integer"),
  v.transform(Number),
  v.minValue(1, "expected at least 1"),
  v.maxValue(MAX_LIMIT, `expected at most ${MAX_LIMIT}`),
);

const QueryParamsSchema = v.object({
  name: v.pipe(v.string(), v.nonEmpty("expected a metric name")),
  since: v.optional(TimeSchema, DEFAULT_SINCE),
  until: v.optional(TimeSchema),
  limit: v.optional(LimitSchema),
});

const EventParamsSchema = v.object({
  since: v.optional(TimeSchema, DEFAULT_SINCE),
  until: v.optional(TimeSchema),
  limit: v.optional(LimitSchema, String(DEFAULT_EVENT_LIMIT)),
});

/**
 * Builds the store's routes, to mount on the HTTP endpoint with `app.route("/", storeRoutes(store))`.
 *
 * - `GET /api/v1/query?name=NAME&since=1h&until=now&label.K=V&limit=N` → `{ series: SeriesResult[] }`
 * - `GET /api/v1/events?since=1h&until=now&limit=1000` → `{ events: StoredEvent[] }`, newest first by
 *   start; each event has `id`, `t` (start, ms), `end` (ms; equal to `t` for an instant event, `null` while
 *   open), `kind`, `title`, `text`, `labels` and `status`
 *
 * Times are durations back from now (`15m`, `7d`), epoch seconds or ms, or RFC 3339; `since` defaults
 * to `1h` and `until` to unbounded. A bad parameter answers 400 with `{ error }` naming it; a store
 * failure answers 500 with `{ error }`.
 *
 * @param store The open store.
 * @param options The clock.
 * @returns The Hono app holding the routes.
 * @example
 * ```ts
 * const res = await storeRoutes(store).request("/api/v1/query?name=api.hits&since=15m&label.env=prod");
 * ```
 */
export function storeRoutes(store: Store, options: StoreRoutesOptions = {}): Hono {
  const now = options.now ?? Date.now;
  const app = new Hono();

  app.get("/api/v1/query", function queryRoute(c) {
    const params = c.req.query();
    const parsed = v.safeParse(QueryParamsSchema, params);
    if (!parsed.success) return c.json({ error: issueText(parsed.issues[0]) }, 400);
    const labels: Record<string, string> = {};
    for (const [key, value] of Object.entries(params)) {
      if (!key.startsWith(LABEL_PREFIX)) continue;
      const name = key.slice(LABEL_PREFIX.length);
      if (name === "") {
        return c.json({ error: `Invalid query parameter "${key}": expected label.NAME=VALUE` }, 400);
      }
      // defineProperty, not assignment: a label named "__proto__" must stay a label.
      Object.defineProperty(labels, name, { value, enumerable: true, writable: true, configurable: true });
    }
    const range = resolveRange(parsed.output.since, parsed.output.until, now());
    if (typeof range === "string") return c.json({ error: range }, 400);
    try {
      const series = store.query({
        name: parsed.output.name,
        ...range,
        labels,
        ...(parsed.output.limit === undefined ? {} : { limit: parsed.output.limit }),
      });
      return c.json({ series });
    } catch (error) {
      return c.json({ error: error instanceof Error ? error.message : String(error) }, 500);
    }
  });

  app.get("/api/v1/events", function eventsRoute(c) {
    const parsed = v.safeParse(EventParamsSchema, c.req.query());
    if (!parsed.success) return c.json({ error: issueText(parsed.issues[0]) }, 400);
    const range = resolveRange(parsed.output.since, parsed.output.until, now());
    if (typeof range === "string") return c.json({ error: range }, 400);
    try {
      return c.json({ events: store.events({ ...range, limit: parsed.output.limit }) });
    } catch (error) {
      return c.json({ error: error instanceof Error ? error.message : String(error) }, 500);
    }
  });

  return app;
}

/**
 * Resolves validated time parameters against the clock.
 *
 * @returns The range, or the error text when `until` comes before `since`.
 */
function resolveRange(
  since: string,
  until: string | undefined,
  nowMs: number,
): { sinceMs: number; untilMs?: number } | string {
  // Both parsed already in the schema, so neither is undefined here.
  const sinceMs = parseTime(since, nowMs)!;
  if (until === undefined) return { sinceMs };
  const untilMs = parseTime(until, nowMs)!;
  if (untilMs < sinceMs) {
    return `Invalid query parameter "until": "${until}" is before since "${since}"`;
  }
  return { sinceMs, untilMs };
}

/** Words a valibot issue as `Invalid query parameter "since": expected …, got "abc"`. */
function issueText(issue: v.BaseIssue<unknown>): string {
  const key = issue.path?.[0]?.key;
  const name = typeof key === "string" ? key : "?";
  if (issue.input === undefined) return `Missing query parameter "${name}"`;
  return `Invalid query parameter "${name}": ${issue.message}, got ${JSON.stringify(issue.input)}`;
}
