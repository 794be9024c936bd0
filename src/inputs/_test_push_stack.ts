/**
 * Test support shared by the push inputs (`http`, `coscale_api`): what `tally run` wires around such an
 * input (a real store, an inline pipeline whose flushes go through `Store.commitFlush`, the inbox replayed
 * at start, `/metrics` and the query API), served by `createHttpApp` without a socket. Each input's own
 * `_test_collector.ts` adds the input and its helpers.
 *
 * @module
 */

import type { Hono } from "hono";
import { createHttpApp } from "../internal/http_app.ts";
import type { RouteSet } from "../internal/http_app.ts";
import { createLogger } from "../internal/log.ts";
import type { Logger } from "../internal/log.ts";
import { componentStats, SelfStats } from "../internal/self_stats.ts";
import { prometheusRoutes } from "../outputs/prometheus_scrape/routes.ts";
import { Pipeline } from "../pipeline/pipeline.ts";
import { detectRuntime } from "../runtime/detect.ts";
import { Inbox } from "../store/inbox.ts";
import { storeRoutes } from "../store/routes.ts";
import { Store } from "../store/store.ts";
import type { InputContext } from "./input.ts";

/** The collector around one push input, before the input starts. */
export interface PushStack {
  /** The store. */
  readonly store: Store;
  /** The self-metrics. */
  readonly stats: SelfStats;
  /** The inline pipeline. */
  readonly pipeline: Pipeline;
  /** The inbox (replayed into the pipeline at start). */
  readonly inbox: Inbox;
  /**
   * The input context `tally run` would give the input, without the input's own extras.
   *
   * @param serve Where the input's route sets go.
   * @param signal Aborted when the input should stop.
   * @returns The context.
   */
  context(serve: (set: RouteSet) => void, signal: AbortSignal): InputContext;
  /** Stops the inbox, the pipeline and the store (the data directory stays). */
  close(): Promise<void>;
}

/**
 * Opens the store in `dir` and starts an inline pipeline and the inbox for one push input.
 *
 * @param dir The data directory.
 * @param component The input's type and id (also its inbox name).
 * @returns The stack.
 */
export async function startPushStack(
  dir: string,
  component: { readonly type: string; readonly id: string },
): Promise<PushStack> {
  const store = Store.open(dir);
  const stats = new SelfStats();
  const log: Logger = createLogger({}, { write: () => {} });
  const pipeline = new Pipeline({
    workers: 0,
    ringBytes: 4 << 20,
    intervalMs: 10_000,
    aggregation: { percentiles: [50, 99], exactLimit: 256, maxSeries: 10_000, idleMs: 300_000 },
    stats,
    log,
    onFlush(result) {
      store.commitFlush(result, { receivedMs: Date.now(), release: true });
    },
  });
  const emit = pipeline.register(component);
  const inbox = new Inbox(store, pipeline);
  await pipeline.start(async () => {
    await inbox.replay(() => emit);
  });
  return {
    store,
    stats,
    pipeline,
    inbox,
    context(serve, signal) {
      return {
        emit,
        serve,
        accept: inbox.acceptor(component.id, emit),
        events: store,
        signal,
        runtime: detectRuntime(),
        log,
        stats: componentStats(stats, component),
        selfStats: stats,
      };
    },
    async close() {
      inbox.close();
      await pipeline.stop();
      store.close();
    },
  };
}

/**
 * The HTTP app `tally run` would serve: the input's route sets, `/metrics` and the query API.
 *
 * @param stack The collector.
 * @param sets The input's route sets.
 * @param options `http.token` and `http.max_body` (bytes), when set.
 * @returns The app.
 */
export function pushApp(
  stack: PushStack,
  sets: readonly RouteSet[],
  options: { readonly token?: string; readonly maxBody?: number },
): Hono {
  return createHttpApp({
    routes: [
      ...sets,
      {
        app: prometheusRoutes({
          metrics: () => stack.pipeline.table.snapshot(),
          self: () => stack.stats.snapshot(),
        }),
        auth: "bearer",
      },
      { app: storeRoutes(stack.store), auth: "bearer" },
    ],
    ready: () => true,
    ...(options.token === undefined ? {} : { token: options.token }),
    ...(options.maxBody === undefined ? {} : { bodyLimitBytes: options.maxBody }),
  });
}

/**
 * Reads one self-metric series.
 *
 * @param stats The self-metrics.
 * @param name The family.
 * @param labels Labels the series must have.
 * @returns Its value, 0 when absent.
 */
export function selfMetricOf(
  stats: SelfStats,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  const family = stats.snapshot().find((f) => f.name === name);
  const series = family?.series.find((s) =>
    Object.entries(labels).every(([k, want]) => s.labels.some(([n, value]) => n === k && value === want))
  );
  return series?.value ?? 0;
}
