/**
 * Test support: the coscale_api input wired as `tally run` wires it (a real store, an inline pipeline whose
 * flushes go through `Store.commitFlush`, the inbox, `/metrics` and the query API), served by
 * `createHttpApp` without a socket; reopened on the same data directory by `restart()`.
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
import type { Store } from "../../store/store.ts";
import { pushApp, type PushStack, selfMetricOf, startPushStack } from "../_test_push_stack.ts";
import { schema } from "./config.ts";
import { CoscaleApiInput } from "./listen.ts";

/** Options of {@link coscaleCollector}. */
export interface CoscaleCollectorOptions {
  /** The `[inputs.coscale_api]` table (without `type`). */
  readonly config?: v.InferInput<typeof schema>;
  /** `http.token`; none by default. */
  readonly token?: string;
}

/** A running test collector. */
export interface CoscaleCollector {
  /** The store. */
  readonly store: Store;
  /** The self-metrics. */
  readonly stats: SelfStats;
  /** Sends a request to the endpoint. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** Posts form fields, as CoScale's clients do, with more headers. */
  form(
    path: string,
    fields: Readonly<Record<string, string>>,
    headers?: Readonly<Record<string, string>>,
  ): Promise<Response>;
  /** Flushes the open window into the store. */
  flush(): Promise<void>;
  /** `/metrics` as text (with the bearer token when there is one). */
  scrape(): Promise<string>;
  /** Reads one self-metric series (0 when absent). */
  selfMetric(name: string, labels?: Readonly<Record<string, string>>): number;
  /** Stops everything and starts it again on the same data directory (sessions are forgotten). */
  restart(): Promise<void>;
  /** Stops everything and removes the data directory. */
  close(): Promise<void>;
}

/** One running instance: what `restart()` replaces. */
interface Running {
  readonly app: Hono;
  readonly stack: PushStack;
  readonly input: CoscaleApiInput;
}

/**
 * Starts a test collector.
 *
 * @param options The input's config and the token.
 * @returns The collector.
 */
export async function coscaleCollector(options: CoscaleCollectorOptions = {}): Promise<CoscaleCollector> {
  const dir = mkdtempSync(join(tmpdir(), "tally-coscale-"));
  let running = await start(dir, options);
  const bearer: Record<string, string> = options.token === undefined
    ? {}
    : { authorization: `Bearer ${options.token}` };
  async function stop(): Promise<void> {
    await running.input.stop();
    await running.stack.close();
  }
  return {
    get store() {
      return running.stack.store;
    },
    get stats() {
      return running.stack.stats;
    },
    request(path, init = {}) {
      return Promise.resolve(running.app.request(path, init));
    },
    form(path, fields, headers = {}) {
      return Promise.resolve(running.app.request(path, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: new URLSearchParams(fields).toString(),
      }));
    },
    async flush() {
      await running.stack.pipeline.flush();
    },
    async scrape() {
      return await (await running.app.request("/metrics", { headers: bearer })).text();
    },
    selfMetric(name, labels = {}) {
      return selfMetricOf(running.stack.stats, name, labels);
    },
    async restart() {
      await stop();
      running = await start(dir, options);
    },
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs `body` against a fresh collector and closes it whatever happens.
 *
 * @param options The input's config and the token.
 * @param body The test.
 */
export async function withCoscaleCollector(
  options: CoscaleCollectorOptions,
  body: (c: CoscaleCollector) => Promise<void>,
): Promise<void> {
  const c = await coscaleCollector(options);
  try {
    await body(c);
  } finally {
    await c.close();
  }
}

/** Starts the collector on `dir` (a store already there is reopened, its inbox replayed). */
async function start(dir: string, options: CoscaleCollectorOptions): Promise<Running> {
  const stack = await startPushStack(dir, { type: "coscale_api", id: "coscale_api" });
  const input = new CoscaleApiInput(v.parse(schema, options.config ?? {}), "coscale_api");
  const sets: RouteSet[] = [];
  await input.start({
    ...stack.context((set) => void sets.push(set), new AbortController().signal),
    coscale: stack.store.coscale,
    httpToken: options.token ?? "",
  });
  return { app: pushApp(stack, sets, options), stack, input };
}
