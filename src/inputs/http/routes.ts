/**
 * The HTTP input's routes: tally's push API (see `HTTP_CONTRACT.md` and this folder's README).
 *
 * | route | body | answer |
 * |---|---|---|
 * | `POST /api/v1/push` | JSON metrics, validated first | `200 {"accepted": n}` |
 * | `POST /write`, `POST /api/v2/write` | Influx line protocol | `204` |
 * | `POST /api/v1/import/prometheus` | Prometheus text | `204` |
 * | `POST /api/v1/statsd` | StatsD lines | `204` |
 * | `POST /api/v1/events` | JSON events, validated first, stored at once | `200 {"ids": [...]}` |
 * | `GET /ping`, `HEAD /ping` | — | `204` (InfluxDB clients' health check) |
 *
 * The routes only move bytes: a body becomes one frame (the Influx and Prometheus ones behind a frame
 * header carrying the precision and the `db`/`bucket` labels), accepted durably through the inbox before
 * the 2xx. Text bodies are parsed in the workers after the ack; their bad lines are counted, never a 4xx.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import * as v from "valibot";
import { PUSH_BODY_SCHEMA } from "../../formats/json.ts";
import { encodeScriptFrame } from "../../formats/script_frame.ts";
import type { InfluxPrecision } from "../../formats/script_frame.ts";
import { bodyIssues } from "../../internal/body_issues.ts";
import type { BodyIssue } from "../../internal/body_issues.ts";
import type { ComponentStats } from "../../internal/self_stats.ts";
import { FORMAT_IDS } from "../../model/frame.ts";
import type { FormatId } from "../../model/frame.ts";
import type { Label, TallyEvent } from "../../model/sample.ts";
import type { EventWriter } from "../../store/event_table.ts";
import type { Accept, AcceptResult } from "../../store/inbox.ts";
import { EVENTS_BODY_SCHEMA, influxPrecision, influxPrecisions } from "./_bodies.ts";
import type { PushedEvent } from "./_bodies.ts";
import type { HttpConfig } from "./config.ts";

/** What the routes need. */
export interface PushRoutesOptions {
  /** Accepts a frame durably (commits it to the inbox, then it is in the pipeline). */
  readonly accept: Accept;
  /** Where events go straight to the store. */
  readonly events: EventWriter;
  /** The input's config: the Influx tag names. */
  readonly config: Pick<HttpConfig, "database_tag" | "retention_policy_tag" | "bucket_tag">;
  /** The input's uniform counters (errors by type; received events and bytes for the events route). */
  readonly stats: ComponentStats;
  /** Whether the input is stopping: new requests get 503. */
  readonly stopping: () => boolean;
  /** The clock for events without a start; `Date.now` by default. */
  readonly now?: () => number;
}

/** A text body's route: its format and whether its frame carries a header (precision, labels). */
interface TextRoute {
  readonly format: FormatId;
  readonly frame: (c: Context, body: Uint8Array) => Uint8Array | BodyIssue;
}

/**
 * Builds the push routes, to serve on the shared HTTP endpoint behind its body limit, gzip handling and
 * bearer auth.
 *
 * @param options The inbox's accept function, the event writer, the tag config, counters and clock.
 * @returns The Hono app holding the routes.
 * @example
 * ```ts
 * ctx.serve({ app: pushRoutes({ accept: ctx.accept, events: ctx.events, config, stats, stopping }), auth: "bearer" });
 * ```
 */
export function pushRoutes(options: PushRoutesOptions): Hono {
  const { accept, events, config, stats, stopping } = options;
  const now = options.now ?? Date.now;
  const app = new Hono();
  const badRequest = stats.errors("bad_request");

  function refuse(c: Context, error: string, issues: readonly BodyIssue[]): Response {
    badRequest.add();
    return c.json({ error, issues }, 400);
  }

  async function acceptFrame(c: Context, bytes: Uint8Array, format: FormatId): Promise<Response | undefined> {
    let result: AcceptResult;
    try {
      result = await accept(bytes, format);
    } catch (error) {
      stats.errors("store").add();
      return c.json({ error: `Cannot keep the request: ${(error as Error).message}` }, 500);
    }
    switch (result) {
      case "accepted":
        return undefined;
      case "busy":
        stats.errors("busy").add();
        c.header("Retry-After", "1");
        return c.json({ error: "The pipeline stayed full for the whole ack_wait; retry later" }, 503);
      case "too_large":
        stats.errors("too_large").add();
        return c.json({
          error: `Request body of ${bytes.length} bytes does not fit in the pipeline's rings ` +
            "(at most half of agent.ring_size each); send smaller batches or raise agent.ring_size",
        }, 413);
      case "stopped":
        return shuttingDown(c);
    }
  }

  function shuttingDown(c: Context): Response {
    c.header("Retry-After", "5");
    return c.json({ error: "tally is shutting down" }, 503);
  }

  function textRoute(route: TextRoute) {
    return async function pushText(c: Context): Promise<Response> {
      if (stopping()) return shuttingDown(c);
      const body = new Uint8Array(await c.req.arrayBuffer());
      const frame = route.frame(c, body);
      if (!(frame instanceof Uint8Array)) {
        return refuse(c, `Invalid query parameter "${frame.path}"`, [frame]);
      }
      if (body.length === 0) return c.body(null, 204);
      return (await acceptFrame(c, frame, route.format)) ?? c.body(null, 204);
    };
  }

  app.post("/api/v1/push", async function pushMetrics(c) {
    if (stopping()) return shuttingDown(c);
    const body = new Uint8Array(await c.req.arrayBuffer());
    const parsed = parseJsonBody(body, PUSH_BODY_SCHEMA);
    if (parsed.kind === "invalid") return refuse(c, parsed.error, parsed.issues);
    const count = parsed.value.metrics.length;
    if (count > 0) {
      // The inbox joins small bodies with newlines, so a body printed over several lines goes in compact.
      const frame = body.includes(LF) ? encoder.encode(JSON.stringify(parsed.value)) : body;
      const refused = await acceptFrame(c, frame, FORMAT_IDS.json);
      if (refused !== undefined) return refused;
    }
    return c.json({ accepted: count });
  });

  app.post(
    "/write",
    textRoute({
      format: FORMAT_IDS.influx_line,
      frame: (c, body) =>
        influxFrame(body, c.req.query("precision"), "v1", [
          [config.database_tag, c.req.query("db")],
          [config.retention_policy_tag, c.req.query("rp")],
        ]),
    }),
  );
  app.post(
    "/api/v2/write",
    textRoute({
      format: FORMAT_IDS.influx_line,
      frame: (c, body) =>
        influxFrame(body, c.req.query("precision"), "v2", [[config.bucket_tag, c.req.query("bucket")]]),
    }),
  );
  app.post(
    "/api/v1/import/prometheus",
    // A header even with nothing to say, so that a body starting like one is never read as one.
    textRoute({
      format: FORMAT_IDS.prom_text,
      frame: (_c, body) => encodeScriptFrame({ script: "", runMs: 0 }, body),
    }),
  );
  app.post("/api/v1/statsd", textRoute({ format: FORMAT_IDS.statsd, frame: (_c, body) => body }));

  app.post("/api/v1/events", async function pushEvents(c) {
    if (stopping()) return shuttingDown(c);
    const body = new Uint8Array(await c.req.arrayBuffer());
    const parsed = parseJsonBody(body, EVENTS_BODY_SCHEMA);
    if (parsed.kind === "invalid") return refuse(c, parsed.error, parsed.issues);
    const receivedMs = now();
    const issues: BodyIssue[] = [];
    parsed.value.events.forEach((event, i) => {
      if (event.start === undefined && event.end !== undefined && event.end < receivedMs) {
        issues.push({
          path: `events[${i}].end`,
          message: `expected an end at or after the start (now, ${receivedMs}), found ${event.end}`,
        });
      }
    });
    if (issues.length > 0) return refuse(c, "Invalid events body", issues);
    const toStore = parsed.value.events.map((event) => tallyEvent(event, receivedMs));
    let ids: number[];
    try {
      ids = events.appendEvents(toStore, receivedMs);
    } catch (error) {
      stats.errors("store").add();
      return c.json({ error: `Cannot store the events: ${(error as Error).message}` }, 500);
    }
    stats.receivedBytes.add(body.length);
    stats.received.add(toStore.length);
    return c.json({ ids });
  });

  app.on(["GET", "HEAD"], "/ping", function ping(c) {
    c.header("X-Influxdb-Version", "tally");
    return c.body(null, 204);
  });

  return app;
}

/** A JSON body parsed and validated, or why not. */
type Parsed<T> =
  | { readonly kind: "ok"; readonly value: T }
  | { readonly kind: "invalid"; readonly error: string; readonly issues: readonly BodyIssue[] };

const decoder = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();
const LF = 0x0a;

function parseJsonBody<S extends v.GenericSchema>(body: Uint8Array, schema: S): Parsed<v.InferOutput<S>> {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(body));
  } catch (error) {
    return {
      kind: "invalid",
      error: `Request body is not JSON: ${(error as Error).message}`,
      issues: [],
    };
  }
  const parsed = v.safeParse(schema, json);
  if (parsed.success) return { kind: "ok", value: parsed.output };
  const issues = bodyIssues(parsed.issues, schema);
  const n = issues.length;
  return { kind: "invalid", error: `Request body has ${n} invalid field${n === 1 ? "" : "s"}`, issues };
}

/**
 * The frame of an Influx body: a header with the precision and the labels from `db`/`rp`/`bucket` (for
 * the tags configured), then the body; or the issue with `precision`.
 */
function influxFrame(
  body: Uint8Array,
  precisionText: string | undefined,
  api: "v1" | "v2",
  tags: ReadonlyArray<readonly [string, string | undefined]>,
): Uint8Array | BodyIssue {
  const precision: InfluxPrecision | undefined = influxPrecision(precisionText, api);
  if (precision === undefined) {
    return {
      path: "precision",
      message: `expected ${influxPrecisions(api)}, found ${JSON.stringify(precisionText)}`,
    };
  }
  const labels: Record<string, string> = {};
  for (const [tag, value] of tags) {
    if (tag !== "" && value !== undefined && value !== "") labels[tag] = value;
  }
  return encodeScriptFrame({ script: "", runMs: 0, precision, labels }, body);
}

function tallyEvent(event: PushedEvent, receivedMs: number): TallyEvent {
  const labels: Label[] = [];
  if (event.labels !== undefined) {
    for (const name of Object.keys(event.labels)) labels.push([name, event.labels[name]!]);
  }
  const timeMs = event.start ?? receivedMs;
  return {
    kind: "event",
    title: event.title,
    text: event.text ?? "",
    timeMs,
    ...(event.end === undefined ? {} : { endMs: event.end }),
    // Object keys are unique: sorting is all a label list needs.
    labels: labels.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
    status: -1,
  };
}
