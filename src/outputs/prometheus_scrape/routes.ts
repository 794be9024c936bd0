/**
 * `GET /metrics`: the Prometheus scrape endpoint on tally's HTTP listener.
 *
 * @module
 */

import { Hono } from "hono";
import { compress } from "hono/compress";
import type { Metric } from "../../model/metric.ts";
import type { SelfFamily } from "../../internal/self_stats.ts";
import { collectYoungGarbage } from "../../runtime/collect_garbage.ts";
import { prometheusChunks } from "./render.ts";

/**
 * Chunks (of about 64 KiB) written between two young-generation collections: each chunk's lines are
 * garbage once encoded, and without them a scrape of 100 000 series piled up some 40 MiB of it.
 */
const CHUNKS_PER_COLLECTION = 8;

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
 * Builds the route set serving `GET /metrics` (and `HEAD`), rendered fresh on every scrape, streamed a
 * chunk at a time as the scraper reads (100 000 series are megabytes of text, which the collector then
 * never holds whole) and gzipped when the scraper accepts it (Prometheus does).
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
    const rest = prometheusChunks(source.metrics(), source.self());
    // The first pass and first chunk now, so that a render that fails is a 500, not a cut stream.
    const first = rest.next();
    const chunks = (function* all() {
      if (first.done !== true) yield first.value;
      yield* rest;
    })();
    const encoder = new TextEncoder();
    let written = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.next();
        if (next.done === true) {
          controller.close();
          return;
        }
        controller.enqueue(encoder.encode(next.value));
        if (++written % CHUNKS_PER_COLLECTION === 0) collectYoungGarbage();
      },
      cancel() {
        chunks.return();
      },
    });
    return c.body(body, 200, { "content-type": PROMETHEUS_CONTENT_TYPE });
  });
  return app;
}
