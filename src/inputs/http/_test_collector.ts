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
import type { RouteSet } from "../../internal/http_app.ts";
import type { SelfStats } from "../../internal/self_stats.ts";
import type { Pipeline } from "../../pipeline/pipeline.ts";
import type { Store } from "../../store/store.ts";
import { pushApp, selfMetricOf, startPushStack } from "../_test_push_stack.ts";
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
  const stack = await startPushStack(dir, { type: "http", id: "http" });
  const { store, pipeline, stats } = stack;
  const input = new HttpInput(v.parse(schema, options.config ?? {}), "http");
  const sets: RouteSet[] = [];
  const abort = new AbortController();
  await input.start(stack.context((set) => void sets.push(set), abort.signal));
  const app = pushApp(stack, sets, options);
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
      return selfMetricOf(stats, name, labels);
    },
    async close() {
      abort.abort();
      await input.stop();
      await stack.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
