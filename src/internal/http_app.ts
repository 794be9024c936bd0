/**
 * The HTTP app on tally's listener: every route set (push inputs, `/metrics`, the query API) mounted at `/`,
 * plus health probes, a body-size limit, and JSON errors that never leak stack traces.
 *
 * @module
 */

import { Hono } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { Logger } from "./log.ts";

/** The default request body limit: 1 MiB. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/** What the HTTP app is made of. */
export interface HttpAppParts {
  /** The route sets, each mounted at `/`. */
  readonly routes: readonly Hono[];
  /** Whether the collector is ready (`/readyz` answers 503 until it is). */
  readonly ready: () => boolean;
  /**
   * What keeps a started collector from being healthy (e.g. an output that has not delivered for longer
   * than its threshold), one line each; `/readyz` answers 503 listing them while there are any.
   */
  readonly problems?: () => readonly string[];
  /** The largest request body accepted, in bytes (default {@link DEFAULT_BODY_LIMIT_BYTES}); larger gets 413. */
  readonly bodyLimitBytes?: number;
  /** The logger for handler failures (500s); nothing is logged without one. */
  readonly log?: Logger;
  /**
   * The bearer token every route but the health probes requires (`Authorization: Bearer …`, compared in
   * constant time); empty or absent means no authentication.
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
 * With a `token`, every route except the probes answers 401 without `Authorization: Bearer <token>`.
 *
 * @param parts The route sets, the readiness probe, the body limit, the logger and the token.
 * @returns The Hono app; pass `app.fetch` to `Runtime.serve`.
 * @example
 * ```ts
 * const app = createHttpApp({ routes: [prometheusRoutes(source)], ready: () => started });
 * const server = await runtime.serve(app.fetch, { hostname: "127.0.0.1", port: 8127 });
 * ```
 */
export function createHttpApp(parts: HttpAppParts): Hono {
  const maxSize = parts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES;
  const log = parts.log;
  const app = new Hono();
  app.use(
    "*",
    bodyLimit({
      maxSize,
      onError: function bodyTooLarge(c) {
        return c.json({ error: `Request body is larger than the limit of ${maxSize} bytes` }, 413);
      },
    }),
  );
  app.get("/healthz", function healthz(c) {
    return c.text("ok");
  });
  app.get("/readyz", function readyz(c) {
    if (!parts.ready()) return c.text("not ready", 503);
    const problems = parts.problems?.() ?? [];
    return problems.length === 0 ? c.text("ready") : c.text(`not ready\n${problems.join("\n")}\n`, 503);
  });
  // After the probes, so orchestrators can check health without the token.
  if (parts.token !== undefined && parts.token !== "") {
    const requireToken = bearerAuth({ token: parts.token });
    app.use("*", function authenticate(c, next) {
      return requireToken(c, next);
    });
  }
  for (const routes of parts.routes) app.route("/", routes);
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
