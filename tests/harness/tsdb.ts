/**
 * Test support: runs Debian's VictoriaMetrics (`victoria-metrics`) and Prometheus (`prometheus`) as real
 * receivers, each in a temp dir of the test's on a loopback port, stopped by PID, and reads back what they
 * stored through their own HTTP query APIs.
 *
 * Both are started with settings that make a test's data visible at once: VictoriaMetrics with
 * `-search.latencyOffset=0s` (by default it hides the last 30 s) and its response cache off, and asked to
 * flush its in-memory rows (`/internal/force_flush`) before every read, since it otherwise makes new rows
 * searchable only after several seconds; Prometheus with its remote-write receiver on and nothing to
 * scrape.
 *
 * @module
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./free_port.ts";
import { waitFor } from "./wait_for.ts";
import { watchProcess } from "./watched_process.ts";

/** Where Debian installs the daemons. */
export const VICTORIA_METRICS_BINARY = "/usr/bin/victoria-metrics";
/** Where Debian installs Prometheus. */
export const PROMETHEUS_BINARY = "/usr/bin/prometheus";

/** How long a daemon may take to start or stop. */
const WAIT_MS = 20_000;

/** One series as a receiver returns it: labels and raw samples, oldest first. */
export interface StoredSeries {
  /** The labels, `__name__` included. */
  readonly labels: Readonly<Record<string, string>>;
  /** The samples, ascending by time. */
  readonly samples: ReadonlyArray<{ readonly timestampMs: number; readonly value: number }>;
}

/** A running receiver: a resource; `stop()` kills it by PID. */
export interface Tsdb {
  /** The process id. */
  readonly pid: number;
  /** The port it listens on. */
  readonly port: number;
  /** The remote-write URL. */
  readonly writeUrl: string;
  /** The base URL of its HTTP API. */
  readonly url: string;
  /** What it printed so far. */
  output(): string;
  /**
   * Every raw sample of the series matching `selector` (a PromQL series selector) in the last hour.
   *
   * @param selector E.g. `{__name__="e2e_hits_total"}`.
   * @returns The series, sorted by their label text.
   */
  series(selector: string): Promise<StoredSeries[]>;
  /**
   * Evaluates an instant query now and returns each result's labels and value.
   *
   * @param query A PromQL (or MetricsQL) expression.
   * @param timeMs The evaluation time; now by default.
   * @returns The vector.
   */
  instant(query: string, timeMs?: number): Promise<Array<{ labels: Record<string, string>; value: number }>>;
  /** Stops it (SIGTERM, SIGKILL after 10 s) and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Says why `binary` cannot run here, or `undefined` when it can: tests skip with this message.
 *
 * @param binary The daemon's path.
 * @param flag A flag that makes it print its version and exit.
 * @returns The reason, or `undefined`.
 */
export function tsdbMissing(binary: string, flag = "--version"): string | undefined {
  if (!existsSync(binary)) return `${binary} is not installed (Debian packages prometheus, victoria-metrics)`;
  const probe = spawnSync(binary, [flag], { encoding: "utf8", timeout: 10_000 });
  return probe.error === undefined ? undefined : `${binary} does not run: ${probe.error.message}`;
}

/** Options of {@link startVictoriaMetrics} and {@link startPrometheus}. */
export interface TsdbOptions {
  /** The port; a free one by default (pass the same one to restart a receiver where tally expects it). */
  readonly port?: number;
}

/**
 * Starts VictoriaMetrics on 127.0.0.1 with its data in `dir`; resolves once `/health` answers.
 *
 * @param dir A directory the test owns (created when missing; reuse it to keep the data across restarts).
 * @param options The port.
 * @returns The running daemon.
 * @throws {Error} When it exits or does not answer in time; the message carries its output.
 */
export async function startVictoriaMetrics(dir: string, options: TsdbOptions = {}): Promise<Tsdb> {
  mkdirSync(dir, { recursive: true });
  const port = options.port ?? await freePort("tcp");
  const child = spawn(VICTORIA_METRICS_BINARY, [
    `-storageDataPath=${dir}`,
    `-httpListenAddr=127.0.0.1:${port}`,
    "-retentionPeriod=100y",
    "-search.latencyOffset=0s",
    "-search.disableCache",
    "-loggerLevel=ERROR",
  ], { stdio: ["ignore", "pipe", "pipe"] });
  const url = `http://127.0.0.1:${port}`;
  const tsdb = running(child, port, url, `${url}/api/v1/write`, async (selector) => {
    await forceFlush(url);
    const end = Math.ceil(Date.now() / 1000) + 60;
    const query = new URLSearchParams({ "match[]": selector, start: String(end - 7200), end: String(end) });
    const response = await fetch(`${url}/api/v1/export?${query}`);
    if (!response.ok) {
      throw new Error(`VictoriaMetrics export answered ${response.status}: ${await response.text()}`);
    }
    const out: StoredSeries[] = [];
    for (const line of (await response.text()).split("\n")) {
      if (line.trim() === "") continue;
      const row = JSON.parse(line) as {
        metric: Record<string, string>;
        values: number[];
        timestamps: number[];
      };
      out.push({
        labels: row.metric,
        samples: row.timestamps.map((timestampMs, i) => ({ timestampMs, value: row.values[i]! })),
      });
    }
    return sortSeries(out);
  });
  await ready(tsdb, child, `${url}/health`);
  return tsdb;
}

/**
 * Starts Prometheus on 127.0.0.1 with its remote-write receiver on and its TSDB in `dir`; resolves once
 * `/-/ready` answers.
 *
 * @param dir A directory the test owns.
 * @param options The port.
 * @returns The running daemon.
 * @throws {Error} When it exits or does not get ready in time; the message carries its output.
 */
export async function startPrometheus(dir: string, options: TsdbOptions = {}): Promise<Tsdb> {
  mkdirSync(dir, { recursive: true });
  const port = options.port ?? await freePort("tcp");
  const config = join(dir, "prometheus.yml");
  writeFileSync(config, "global:\n  evaluation_interval: 1m\nscrape_configs: []\n");
  const child = spawn(PROMETHEUS_BINARY, [
    `--config.file=${config}`,
    `--storage.tsdb.path=${join(dir, "tsdb")}`,
    `--web.listen-address=127.0.0.1:${port}`,
    "--web.enable-remote-write-receiver",
    "--log.level=warn",
  ], { stdio: ["ignore", "pipe", "pipe"] });
  const url = `http://127.0.0.1:${port}`;
  const tsdb = running(child, port, url, `${url}/api/v1/write`, async (selector) => {
    const query = new URLSearchParams({ query: `${selector}[2h]`, time: String(Date.now() / 1000 + 60) });
    const body = await queryApi(`${url}/api/v1/query?${query}`);
    const result = body.data.result as Array<
      { metric: Record<string, string>; values: Array<[number, string]> }
    >;
    return sortSeries(result.map((row) => ({
      labels: row.metric,
      samples: row.values.map(([t, v]) => ({ timestampMs: Math.round(t * 1000), value: Number(v) })),
    })));
  });
  await ready(tsdb, child, `${url}/-/ready`);
  return tsdb;
}

/** Builds the running daemon's handle. */
function running(
  child: ChildProcess,
  port: number,
  url: string,
  writeUrl: string,
  series: (selector: string) => Promise<StoredSeries[]>,
): Tsdb {
  const watched = watchProcess(child);
  return {
    pid: child.pid ?? -1,
    port,
    url,
    writeUrl,
    output: watched.output,
    series,
    async instant(query, timeMs = Date.now()) {
      await forceFlush(url);
      const params = new URLSearchParams({ query, time: String(timeMs / 1000) });
      const body = await queryApi(`${url}/api/v1/query?${params}`);
      const result = body.data.result as Array<{ metric: Record<string, string>; value: [number, string] }>;
      return result.map((row) => ({ labels: row.metric, value: Number(row.value[1]) }));
    },
    stop: watched.stop,
  };
}

async function ready(tsdb: Tsdb, child: ChildProcess, healthUrl: string): Promise<void> {
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
      const response = await fetch(healthUrl).catch(() => undefined);
      if (response === undefined) return false;
      await response.body?.cancel();
      return response.ok;
    }, { timeoutMs: WAIT_MS, intervalMs: 100, what: `${healthUrl} to answer` });
  } catch (error) {
    await tsdb.stop();
    throw new Error(`Cannot start ${healthUrl}: ${(error as Error).message}\n${tsdb.output()}`, {
      cause: error,
    });
  }
}

/** Asks VictoriaMetrics to make what it received searchable now; Prometheus answers 404, ignored. */
async function forceFlush(url: string): Promise<void> {
  const response = await fetch(`${url}/internal/force_flush`).catch(() => undefined);
  await response?.body?.cancel();
}

async function queryApi(url: string): Promise<{ data: { result: unknown } }> {
  const response = await fetch(url);
  const text = await response.text();
  if (!response.ok) throw new Error(`Query ${url} answered ${response.status}: ${text}`);
  return JSON.parse(text) as { data: { result: unknown } };
}

function sortSeries(series: StoredSeries[]): StoredSeries[] {
  const text = (s: StoredSeries) => JSON.stringify(Object.entries(s.labels).sort());
  return series.sort((a, b) => (text(a) < text(b) ? -1 : text(a) > text(b) ? 1 : 0));
}
