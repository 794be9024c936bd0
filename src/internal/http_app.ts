/**
 * The HTTP app on tally's listener: every route set (push inputs, `/metrics`, the query API) mounted at `/`,
 * plus health probes, a body-size limit, gzip request bodies, bearer-token auth, and JSON errors that never
 * leak stack traces.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { Logger } from "./log.ts";

/** The default request body limit: 1 MiB. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * A set of routes and how its requests are authenticated.
 *
 * - `bearer`: behind the configured `http.token` (when there is one), like every tally route.
 * - `own`: the routes authenticate requests themselves, e.g. the CoScale-compatible API (`login/` hands out
 *   a token that later requests send in an `HTTPAuthorization` header). The bearer check does not run for
 *   them, so they must not be mounted without a scheme of their own.
 */
export interface RouteSet {
  /** The Hono app holding the routes, mounted at `/`. */
  readonly app: Hono;
  /** Who checks the request's credentials. */
  readonly auth: "bearer" | "own";
  /**
   * A body limit of the set's own for the requests whose path starts with `prefix`, instead of the
   * endpoint's (`http.max_body`), as sent and once decompressed: for an API whose clients send larger
   * batches than tally's own routes take (the CoScale CLI's 10 MiB).
   */
  readonly bodyLimit?: { readonly prefix: string; readonly maxBytes: number };
}

/** What the HTTP app is made of. */
export interface HttpAppParts {
  /** The route sets, each mounted at `/`; `own`-auth sets are matched before the bearer check runs. */
  readonly routes: readonly RouteSet[];
  /** Whether the collector is ready (`/readyz` answers 503 until it is). */
  readonly ready: () => boolean;
  /**
   * What keeps a started collector from being healthy (e.g. an output that has not delivered for longer
   * than its threshold), one line each; `/readyz` answers 503 listing them while there are any.
   */
  readonly problems?: () => readonly string[];
  /**
   * The largest request body accepted, in bytes (default {@link DEFAULT_BODY_LIMIT_BYTES}), both as sent
   * and, for a gzip body, once decompressed; larger gets a JSON 413.
   */
  readonly bodyLimitBytes?: number;
  /** The logger for handler failures (500s); nothing is logged without one. */
  readonly log?: Logger;
  /**
   * The bearer token every `bearer` route requires (`Authorization: Bearer …`, compared in constant time);
   * empty or absent means no authentication.
   */
  readonly token?: string;
}

/**
 * Composes tally's HTTP app.
 *
 * Routes: `GET /healthz` (200 `ok` while the process serves), `GET /readyz` (200 `ready`, or 503 `not
 * ready` followed by one line per problem), then every route set. Unknown paths get a JSON 404, bodies over the limit a JSON 413,
 * and a throwing handler a JSON 500 (an `HTTPException` keeps its own response).
 *
 * Request bodies with `Content-Encoding: gzip` are decompressed before any handler sees them, up to the
 * body limit (a gzip bomb gets 413 after reading at most the limit, never the whole expansion); any other
 * encoding gets 415.
 *
 * With a `token`, every `bearer` route answers 401 with `WWW-Authenticate: Bearer` and a JSON error
 * unless the request carries `Authorization: Bearer <token>` (a Basic header is no exception).
 *
 * @param parts The route sets, the readiness probe, the body limit, the logger and the token.
 * @returns The Hono app; pass `app.fetch` to `Runtime.serve`.
 * @example
 * ```ts
 * const app = createHttpApp({ routes: [{ app: prometheusRoutes(source), auth: "bearer" }], ready: () => started });
 * const server = await runtime.serve(app.fetch, { hostname: "127.0.0.1", port: 8127 });
 * ```
 */
export function createHttpApp(parts: HttpAppParts): Hono {
  const maxSize = parts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const log = parts.log;
  const app = new Hono();
  const limits = parts.routes.flatMap((set) => set.bodyLimit === undefined ? [] : [set.bodyLimit]);
  const limitFor = (path: string) =>
    limits.find((limit) => path.startsWith(limit.prefix))?.maxBytes ?? maxSize;
  const limiters = new Map<number, MiddlewareHandler>();
  app.use("*", function limitBody(c, next) {
    const limit = limitFor(c.req.path);
    let limiter = limiters.get(limit);
    if (limiter === undefined) {
      limiter = bodyLimit({
        maxSize: limit,
        onError: function bodyTooLarge(c) {
          return c.json({ error: tooLargeMessage(limit) }, 413);
        },
      });
      limiters.set(limit, limiter);
    }
    return limiter(c, next);
  });
  app.use("*", gunzipRequests(limitFor));
  app.get("/healthz", function healthz(c) {
    return c.text("ok");
  });
  app.get("/readyz", function readyz(c) {
    if (!parts.ready()) return c.text("not ready", 503);
    const problems = parts.problems?.() ?? [];
    return problems.length === 0 ? c.text("ready") : c.text(`not ready\n${problems.join("\n")}\n`, 503);
  });
  // What a person who opens the address in a browser or curls it wants: where to go next. Derived from the
  // mounted routes, so it never goes stale; no token needed, as it holds no data.
  app.get("/", function index(c) {
    const endpoints = [
      ...new Set(
        app.routes.filter((r) => r.method !== "ALL" && r.path !== "/").map((r) => `${r.method} ${r.path}`),
      ),
    ];
    return c.json({ name: "tally", endpoints });
  });
  // Matched before the bearer check: Hono runs handlers in the order they were added, and these answer.
  for (const set of parts.routes) if (set.auth === "own") app.route("/", set.app);
  // After the probes, so orchestrators can check health without the token.
  if (parts.token !== undefined && parts.token !== "") app.use("*", requireBearer(parts.token));
  for (const set of parts.routes) if (set.auth === "bearer") app.route("/", set.app);
  app.notFound(function notFound(c) {
    return c.json({ error: `No route for ${c.req.method} ${JSON.stringify(c.req.path)}` }, 404);
  });
  app.onError(function onError(error, c) {
    if (error instanceof HTTPException) return error.getResponse();
    log?.error("HTTP handler failed", {
      method: c.req.method,
      path: c.req.path,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    return c.json({ error: "Internal server error" }, 500);
  });
  return app;
}

function tooLargeMessage(maxSize: number): string {
  return `Request body is larger than the limit of ${maxSize} bytes`;
}

/**
 * The middleware that checks `Authorization: Bearer <token>`. Both sides are hashed with SHA-256 first so
 * that the constant-time comparison also hides the token's length.
 */
function requireBearer(token: string): MiddlewareHandler {
  return async function authenticate(c, next) {
    const header = c.req.header("authorization");
    const match = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    if (match !== null && sameToken(match[1]!, token)) return await next();
    const error = header === undefined
      ? "Missing bearer token: send the header Authorization: Bearer <token> (http.token)"
      : match === null
      ? `Authorization header is not a bearer token (it starts with ${JSON.stringify(header.split(" ")[0])})`
      : "Invalid bearer token";
    return unauthorized(c, error, header === undefined ? undefined : "invalid_token");
  };
}

function unauthorized(c: Context, error: string, code: string | undefined): Response {
  // RFC 6750 §3: the challenge names the scheme; an error code when credentials were sent but are bad.
  c.header(
    "WWW-Authenticate",
    code === undefined ? 'Bearer realm="tally"' : `Bearer realm="tally", error="${code}"`,
  );
  return c.json({ error }, 401);
}

/**
 * Compares a token a client sent with the configured one in constant time: both are hashed with SHA-256
 * first, so that the comparison also hides the configured token's length.
 *
 * @param given The token sent.
 * @param expected The configured token.
 * @returns Whether they are equal.
 */
export function sameToken(given: string, expected: string): boolean {
  return timingSafeEqual(sha256(given), sha256(expected));
}

function sha256(text: string): Uint8Array {
  return createHash("sha256").update(text).digest();
}

/**
 * The middleware that replaces a gzip request body by its decompressed bytes, stopping as soon as they
 * pass `maxSize`.
 */
function gunzipRequests(limitFor: (path: string) => number): MiddlewareHandler {
  return async function gunzip(c, next) {
    const header = c.req.header("content-encoding");
    const encoding = header?.trim().toLowerCase() ?? "";
    if (encoding === "" || encoding === "identity") return await next();
    if (encoding !== "gzip" && encoding !== "x-gzip") {
      return c.json(
        { error: `Unsupported Content-Encoding ${JSON.stringify(header)}: send gzip or none` },
        415,
      );
    }
    const body = c.req.raw.body;
    if (body === null) return await next();
    const maxSize = limitFor(c.req.path);
    const inflated = await gunzipLimited(body, maxSize);
    if (inflated.kind === "too_large") {
      return c.json({ error: `${tooLargeMessage(maxSize)} once decompressed` }, 413);
    }
    if (inflated.kind === "invalid") {
      return c.json({ error: `Request body is not valid gzip: ${inflated.reason}` }, 400);
    }
    const headers = new Headers(c.req.raw.headers);
    headers.delete("content-encoding");
    headers.set("content-length", String(inflated.bytes.length));
    c.req.raw = new Request(c.req.raw.url, { method: c.req.method, headers, body: inflated.bytes });
    return await next();
  };
}

/** The outcome of decompressing a body. */
export type Inflated =
  | { readonly kind: "ok"; readonly bytes: Uint8Array<ArrayBuffer> }
  | { readonly kind: "too_large" }
  | { readonly kind: "invalid"; readonly reason: string };

/**
 * Decompresses gzip bytes, stopping as soon as the output passes `maxSize` (a gzip bomb costs at most
 * `maxSize` bytes of memory, never its whole expansion).
 *
 * @param body The compressed bytes, as a stream.
 * @param maxSize The largest output taken, in bytes.
 * @returns The bytes, `too_large`, or `invalid` with the decompressor's reason.
 */
export async function gunzipLimited(body: ReadableStream<Uint8Array>, maxSize: number): Promise<Inflated> {
  // The cast: lib.dom types a DecompressionStream's input as BufferSource, a request body as Uint8Array.
  const gunzip = new DecompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>;
  const reader = body.pipeThrough(gunzip).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxSize) {
        await reader.cancel().catch(() => {});
        return { kind: "too_large" };
      }
      chunks.push(value);
    }
  } catch (error) {
    return { kind: "invalid", reason: error instanceof Error ? error.message : String(error) };
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return { kind: "ok", bytes };
}
