/**
 * `GET /metrics`: the Prometheus scrape endpoint on tally's HTTP listener.
 *
 * @module
 */

import { Hono } from "hono";
import { compress } from "hono/compress";
import type { Metric } from "../../model/metric.ts";
import type { SelfFamily } from "../../internal/self_stats.ts";
import { renderPrometheus } from "./render.ts";

/** The content type of the text exposition format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Where `/metrics` reads from at each scrape. */
export interface PrometheusSource {
  /** The latest point of each live series. */
  metrics(): readonly Metric[];
  /** tally's own metric families. */
  self(): readonly SelfFamily[];
}

/**
 * Builds the route set serving `GET /metrics` (and `HEAD`), rendered fresh on every scrape and gzipped
 * when the scraper accepts it (Prometheus does; 100 000 series are megabytes of text).
 *
 * @param source The metrics and self-metrics to render.
 * @returns The Hono app to mount at `/`.
 * @example
 * ```ts
 * const routes = prometheusRoutes({ metrics: () => table.snapshot(), self: () => stats.snapshot() });
 * const app = createHttpApp({ routes: [{ app: routes, auth: "bearer" }], ready });
 * ```
 */
export function prometheusRoutes(source: PrometheusSource): Hono {
  const app = new Hono();
  app.get("/metrics", compress(), function metrics(c) {
    const body = renderPrometheus(source.metrics(), source.self());
    return c.body(body, 200, { "content-type": PROMETHEUS_CONTENT_TYPE });
  });
  return app;
}
