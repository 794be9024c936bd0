/**
 * Test support: runs Debian's InfluxDB 1.6 (`influxd`, package `influxdb`) as a real receiver, in a temp dir
 * of the test's with a config written there, on loopback ports (HTTP and the RPC bind address), stopped by
 * PID, and reads back what it stored through its own InfluxQL `/query` API.
 *
 * The config turns off everything a test does not need (usage reporting, the `_internal` monitor database,
 * continuous queries, the query and HTTP logs) and uses the in-memory index, so it starts in about a second.
 *
 * @module
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "./free_port.ts";
import { waitFor } from "./wait_for.ts";
import { watchProcess } from "./watched_process.ts";

/** Where Debian installs the daemon. */
export const INFLUXD_BINARY = "/usr/bin/influxd";

/** How long the daemon may take to start or stop. */
const WAIT_MS = 20_000;

/** One InfluxQL result series: its name, tags, columns and rows. */
export interface InfluxSeries {
  /** The measurement. */
  readonly name: string;
  /** The tags of a `GROUP BY` series. */
  readonly tags?: Readonly<Record<string, string>>;
  /** The column names, `time` first. */
  readonly columns: readonly string[];
  /** The rows, in the columns' order. */
  readonly values: ReadonlyArray<ReadonlyArray<string | number | boolean | null>>;
}

/** A running influxd: a resource; `stop()` kills it by PID. */
export interface Influxd {
  /** The process id. */
  readonly pid: number;
  /** The HTTP port. */
  readonly port: number;
  /** The base URL of its HTTP API, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** What it printed so far. */
  output(): string;
  /**
   * Runs InfluxQL statements (`CREATE DATABASE …`) with POST.
   *
   * @param statement The statement.
   * @throws {Error} When influxd answers an error.
   */
  execute(statement: string): Promise<void>;
  /**
   * Runs an InfluxQL query with epoch-millisecond times.
   *
   * @param query E.g. `SELECT value FROM "e2e.hits"`.
   * @param db The database.
   * @returns The series of the first statement's result (empty when none).
   * @throws {Error} When influxd answers an error.
   */
  query(query: string, db: string): Promise<InfluxSeries[]>;
  /** Stops it (SIGTERM, SIGKILL after 10 s) and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Says why influxd cannot run here, or `undefined` when it can: tests skip with this message.
 *
 * @returns The reason, or `undefined`.
 */
export function influxdMissing(): string | undefined {
  if (!existsSync(INFLUXD_BINARY)) return `${INFLUXD_BINARY} is not installed (Debian package influxdb)`;
  const probe = spawnSync(INFLUXD_BINARY, ["version"], { encoding: "utf8", timeout: 10_000 });
  return probe.error === undefined ? undefined : `${INFLUXD_BINARY} does not run: ${probe.error.message}`;
}

/** Options of {@link startInfluxd}. */
export interface InfluxdOptions {
  /** The HTTP port; a free one by default (pass the same one to restart influxd where tally expects it). */
  readonly port?: number;
  /** Databases to create once it answers. */
  readonly databases?: readonly string[];
  /** Turns authentication on with this admin user (created first); queries then authenticate as it. */
  readonly admin?: { readonly username: string; readonly password: string };
}

/**
 * Starts influxd on 127.0.0.1 with its data in `dir`; resolves once `/ping` answers and the databases
 * exist.
 *
 * @param dir A directory the test owns (created when missing; reuse it to keep the data across restarts).
 * @param options The port and the databases.
 * @returns The running daemon.
 * @throws {Error} When it exits or does not answer in time; the message carries its output.
 */
export async function startInfluxd(dir: string, options: InfluxdOptions = {}): Promise<Influxd> {
  mkdirSync(dir, { recursive: true });
  const port = options.port ?? await freePort("tcp");
  const rpcPort = await freePort("tcp");
  const config = join(dir, "influxdb.conf");
  writeFileSync(
    config,
    [
      "reporting-enabled = false",
      `bind-address = "127.0.0.1:${rpcPort}"`,
      "[meta]",
      `  dir = "${join(dir, "meta")}"`,
      "[data]",
      `  dir = "${join(dir, "data")}"`,
      `  wal-dir = "${join(dir, "wal")}"`,
      "  query-log-enabled = false",
      '  index-version = "inmem"',
      "[monitor]",
      "  store-enabled = false",
      "[http]",
      `  bind-address = "127.0.0.1:${port}"`,
      "  log-enabled = false",
      `  auth-enabled = ${options.admin !== undefined}`,
      "[continuous_queries]",
      "  enabled = false",
      "[logging]",
      '  level = "error"',
      "",
    ].join("\n"),
  );
  const child = spawn(INFLUXD_BINARY, ["run", "-config", config], { stdio: ["ignore", "pipe", "pipe"] });
  const url = `http://127.0.0.1:${port}`;
  const daemon = running(child, port, url, options.admin);
  try {
    await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
      const response = await fetch(`${url}/ping`).catch(() => undefined);
      await response?.body?.cancel();
      return response?.status === 204;
    }, { timeoutMs: WAIT_MS, intervalMs: 100, what: `${url}/ping to answer` });
    if (options.admin !== undefined) {
      // With no user yet, influxd lets the first admin be created without credentials.
      const { username, password } = options.admin;
      await daemon.execute(`CREATE USER "${username}" WITH PASSWORD '${password}' WITH ALL PRIVILEGES`);
    }
    for (const db of options.databases ?? []) await daemon.execute(`CREATE DATABASE "${db}"`);
  } catch (error) {
    await daemon.stop();
    throw new Error(`Cannot start influxd: ${(error as Error).message}\n${daemon.output()}`, {
      cause: error,
    });
  }
  return daemon;
}

function running(
  child: ChildProcess,
  port: number,
  url: string,
  admin: InfluxdOptions["admin"],
): Influxd {
  const watched = watchProcess(child);
  async function call(q: string, db: string | undefined, method: "GET" | "POST"): Promise<InfluxSeries[]> {
    const params = new URLSearchParams({ q, epoch: "ms", ...(db !== undefined ? { db } : {}) });
    if (admin !== undefined && !q.startsWith("CREATE USER")) {
      params.set("u", admin.username);
      params.set("p", admin.password);
    }
    const response = await fetch(`${url}/query?${params}`, { method });
    const body = await response.text();
    if (!response.ok) throw new Error(`influxd /query answered ${response.status}: ${body}`);
    const parsed = JSON.parse(body) as { results: Array<{ series?: InfluxSeries[]; error?: string }> };
    const first = parsed.results[0];
    if (first?.error !== undefined) throw new Error(`influxd /query: ${first.error} (${q})`);
    return first?.series ?? [];
  }
  return {
    pid: child.pid ?? -1,
    port,
    url,
    output: watched.output,
    async execute(statement) {
      await call(statement, undefined, "POST");
    },
    query: (q, db) => call(q, db, "GET"),
    stop: watched.stop,
  };
}
