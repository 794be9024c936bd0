/**
 * Test support: the http input wired as `tally run` wires it (a real store, an inline pipeline whose
 * flushes go through `Store.commitFlush`, the inbox, `/metrics` and the query API), served by
 * `createHttpApp` without a socket.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Hono } from "hono";
import * as v from "valibot";
import { createHttpApp } from "../../internal/http_app.ts";
import type { RouteSet } from "../../internal/http_app.ts";
import { createLogger } from "../../internal/log.ts";
import { componentStats, SelfStats } from "../../internal/self_stats.ts";
import { prometheusRoutes } from "../../outputs/prometheus_scrape/routes.ts";
import { Pipeline } from "../../pipeline/pipeline.ts";
import { detectRuntime } from "../../runtime/detect.ts";
import { Inbox } from "../../store/inbox.ts";
import { storeRoutes } from "../../store/routes.ts";
import { Store } from "../../store/store.ts";
import { schema } from "./config.ts";
import { HttpInput } from "./listen.ts";

/** Options of {@link testCollector}. */
export interface TestCollectorOptions {
  /** The `[inputs.http]` table (without `type`). */
  readonly config?: v.InferInput<typeof schema>;
  /** `http.token`. */
  readonly token?: string;
  /** `http.max_body` in bytes. */
  readonly maxBody?: number;
}

/** A running test collector. */
export interface TestCollector {
  /** The HTTP app: push routes, `/metrics`, the query API. */
  readonly app: Hono;
  /** The store. */
  readonly store: Store;
  /** The pipeline (inline). */
  readonly pipeline: Pipeline;
  /** The input. */
  readonly input: HttpInput;
  /** The self-metrics. */
  readonly stats: SelfStats;
  /** Sends a request: `path` with `init`, JSON bodies given as objects. */
  request(path: string, init?: RequestInit & { readonly json?: unknown }): Promise<Response>;
  /** Flushes the open window into the store. */
  flush(): Promise<void>;
  /** `/metrics` as text. */
  scrape(): Promise<string>;
  /** Reads one self-metric series (0 when absent). */
  selfMetric(name: string, labels?: Readonly<Record<string, string>>): number;
  /** Stops everything and removes the data directory. */
  close(): Promise<void>;
}

/**
 * Starts a test collector.
 *
 * @param options The input's config, the token and the body limit.
 * @returns The collector.
 */
export async function testCollector(options: TestCollectorOptions = {}): Promise<TestCollector> {
  const dir = mkdtempSync(join(tmpdir(), "tally-http-"));
  const store = Store.open(dir);
  const stats = new SelfStats();
  const log = createLogger({}, { write: () => {} });
  const pipeline = new Pipeline({
    workers: 0,
    ringBytes: 1 << 20,
    intervalMs: 10_000,
    aggregation: { percentiles: [50, 99], exactLimit: 256, maxSeries: 10_000, idleMs: 300_000 },
    stats,
    log,
    onFlush(result) {
      store.commitFlush(result, { receivedMs: Date.now(), release: true });
    },
  });
  await pipeline.start();
  const component = { type: "http", id: "http" };
  const emit = pipeline.register(component);
  const inbox = new Inbox(store, pipeline);
  const input = new HttpInput(v.parse(schema, options.config ?? {}), "http");
  const sets: RouteSet[] = [];
  const abort = new AbortController();
  await input.start({
    emit,
    serve: (set) => void sets.push(set),
    accept: inbox.acceptor("http", emit),
    events: store,
    signal: abort.signal,
    runtime: detectRuntime(),
    log,
    stats: componentStats(stats, component),
    selfStats: stats,
  });
  const app = createHttpApp({
    routes: [
      ...sets,
      {
        app: prometheusRoutes({ metrics: () => pipeline.table.snapshot(), self: () => stats.snapshot() }),
        auth: "bearer",
      },
      { app: storeRoutes(store), auth: "bearer" },
    ],
    ready: () => true,
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.maxBody === undefined ? {} : { bodyLimitBytes: options.maxBody }),
  });
  const auth: Record<string, string> = options.token === undefined
    ? {}
    : { authorization: `Bearer ${options.token}` };
  return {
    app,
    store,
    pipeline,
    input,
    stats,
    request(path, init = {}) {
      const { json, headers, ...rest } = init;
      return Promise.resolve(app.request(path, {
        ...(json === undefined ? {} : { method: "POST", body: JSON.stringify(json) }),
        ...rest,
        headers: { ...auth, ...(headers as Record<string, string> | undefined) },
      }));
    },
    async flush() {
      await pipeline.flush();
    },
    async scrape() {
      return await (await app.request("/metrics", { headers: auth })).text();
    },
    selfMetric(name, labels = {}) {
      const family = stats.snapshot().find((f) => f.name === name);
      const series = family?.series.find((s) =>
        Object.entries(labels).every(([k, want]) => s.labels.some(([n, value]) => n === k && value === want))
      );
      return series?.value ?? 0;
    },
    async close() {
      abort.abort();
      inbox.close();
      await input.stop();
      await pipeline.stop();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
