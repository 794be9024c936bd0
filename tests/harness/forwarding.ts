/**
 * Test support for the forwarders' end-to-end tests (`tests/e2e/remote_write_test.ts`, `otlp_test.ts`,
 * `influx_test.ts`): feed a running tally StatsD, read back what its store kept (the oracle: every point a
 * flush stored went into the outboxes first), wait for its outputs to deliver, read its self-metrics.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { metricKey, scrape } from "./scrape.ts";
import { REPO_ROOT, spawnTally } from "./spawn_tally.ts";
import type { RunningTally } from "./spawn_tally.ts";
import { waitFor } from "./wait_for.ts";

/**
 * Starts the compiled `dist/tally` with 1 s flushes, StatsD on a free port, and the given outputs, from a
 * config written to `<root>/<name>/tally.toml`.
 *
 * @param root The test's temporary directory.
 * @param name A name for this tally's folder.
 * @param outputs The `[outputs.<id>]` tables, as TOML.
 * @param dataDir The data directory; `<root>/<name>/data` by default (pass the same one to restart).
 * @returns The running tally; the caller stops it.
 */
export async function startForwardingTally(
  root: string,
  name: string,
  outputs: string,
  dataDir: string = join(root, name, "data"),
): Promise<RunningTally> {
  const config = join(root, name, "tally.toml");
  mkdirSync(join(root, name), { recursive: true });
  writeFileSync(config, `[agent]\nflush_interval = "1s"\n\n${outputs}`);
  return await spawnTally({ shape: "binary", dataDir, args: ["--config", config] });
}

/** What the tests of one forwarding suite share: a temporary folder, and what they started in it. */
export interface ForwardingSuite {
  /** The suite's temporary folder; set before its first test. */
  readonly root: string;
  /**
   * Starts tally as {@link startForwardingTally} does, under {@link ForwardingSuite.root}; it is stopped
   * after the suite.
   *
   * @param name A name for this tally's folder.
   * @param outputs The `[outputs.<id>]` tables, as TOML.
   * @param dataDir The data directory (pass the same one to restart).
   * @returns The running tally.
   */
  startTally(name: string, outputs: string, dataDir?: string): Promise<RunningTally>;
  /**
   * Keeps a receiver the suite started, to stop it after the suite (after every tally).
   *
   * @param started The receiver, or the promise of it.
   * @param stop How to stop it.
   * @returns The receiver.
   */
  keep<T>(started: T | Promise<T>, stop: (receiver: T) => Promise<void>): Promise<T>;
}

/**
 * Sets up a forwarding suite inside a `describe`: before its tests, a temporary folder (and a check that
 * `dist/tally` was built); after them, every tally stopped, then every receiver, then the folder removed.
 *
 * @param prefix The temporary folder's name prefix, e.g. `tally-e2e-otlp-`.
 * @param missing Why the suite is skipped (a receiver not installed), if it is: then nothing is set up.
 * @returns The suite's folder and starters.
 */
export function forwardingSuite(prefix: string, missing?: string): ForwardingSuite {
  let root = "";
  const tallies: RunningTally[] = [];
  const stops: Array<() => Promise<void>> = [];
  before(() => {
    if (missing !== undefined) return;
    assert.ok(
      existsSync(join(REPO_ROOT, "dist", "tally")),
      "dist/tally is missing: run `npm run build` first",
    );
    root = mkdtempSync(join(tmpdir(), prefix));
  });
  after(async () => {
    await Promise.all(tallies.map((tally) => tally.stop()));
    await Promise.all(stops.map((stop) => stop()));
    if (root !== "") rmSync(root, { recursive: true, force: true });
  });
  return {
    get root() {
      return root;
    },
    async startTally(name, outputs, dataDir) {
      const tally = await startForwardingTally(root, name, outputs, dataDir);
      tallies.push(tally);
      return tally;
    },
    async keep(started, stop) {
      const receiver = await started;
      stops.push(() => stop(receiver));
      return receiver;
    },
  };
}

/** One stored point as tally's `/api/v1/query` returns it. */
export interface StorePoint {
  /** The window's start, in ms since the epoch. */
  readonly t: number;
  /** The point's main value. */
  readonly value: number;
  /** The point's other fields (`total`, `rate`, `p50`, `totalSum`, …). */
  readonly fields?: Readonly<Record<string, number>>;
}

/** What {@link sendDuringOutage} sent, as tally stored it. */
export interface OutagePoints {
  /** The counter `e2e.out.hits` (1, 2, … per window). */
  readonly hits: StorePoint[];
  /** The gauge `e2e.out.level` (100, 101, … per window). */
  readonly level: StorePoint[];
}

/**
 * The first half of an outage test: while the receiver is down, sends one window after another of a counter
 * (`e2e.out.hits`) and a gauge (`e2e.out.level`), waits until the store holds every window, and until an
 * output has failed to deliver at least once.
 *
 * @param tally The running tally, its outputs pointing at a receiver that is not up.
 * @param windows How many windows to send.
 * @returns The stored points, to compare with what the receiver gets once it is back.
 */
export async function sendDuringOutage(tally: RunningTally, windows: number): Promise<OutagePoints> {
  for (let w = 0; w < windows; w++) {
    await nextWindow();
    await sendStatsd(tally.statsdPort!, [`e2e.out.hits:${w + 1}|c`, `e2e.out.level:${100 + w}|g`]);
  }
  const hits = await storePoints(tally, "e2e.out.hits", windows);
  const level = await storePoints(tally, "e2e.out.level", windows);
  await waitFor(
    async () => (await selfMetric(tally, "tally_output_retries_total", { reason: "network" })) > 0,
    { what: "a failed attempt" },
  );
  return { hits, level };
}

/**
 * Reads a series' points from tally's store once it has at least `count`.
 *
 * @param tally The running tally.
 * @param name The metric name.
 * @param count How many points to wait for.
 * @returns The points, oldest first.
 */
export async function storePoints(tally: RunningTally, name: string, count: number): Promise<StorePoint[]> {
  return await waitFor(async () => {
    const body = await fetchJson<{ series: Array<{ points: StorePoint[] }> }>(
      `${tally.url}/api/v1/query?${new URLSearchParams({ name, since: "5m" })}`,
    );
    const points = body.series[0]?.points ?? [];
    return points.length >= count ? points : undefined;
  }, { timeoutMs: 15_000, what: `${count} stored points of ${name}` });
}

/**
 * Waits until the outputs have nothing queued and have delivered at least once.
 *
 * @param tally The running tally.
 * @param ids The outputs' ids.
 */
export async function delivered(tally: RunningTally, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    await waitFor(async () => {
      const queued = await selfMetric(tally, "tally_output_queued_batches", { component_id: id });
      const sent = await selfMetric(tally, "tally_output_sent_batches_total", { component_id: id });
      return queued === 0 && sent > 0;
    }, { timeoutMs: 20_000, what: `output ${id} to deliver everything` });
  }
}

/**
 * The sum of tally's own `/metrics` series of one family that carry these labels (among others).
 *
 * @param tally The running tally.
 * @param name The family, e.g. `tally_output_sent_batches_total`.
 * @param labels Labels the series must carry.
 * @returns The sum, 0 when none matches.
 */
export async function selfMetric(
  tally: RunningTally,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): Promise<number> {
  const wanted = Object.entries(labels).map(([k, v]) => metricKey("x", { [k]: v }).slice(2, -1));
  let total = 0;
  for (const [key, value] of await scrape(tally.url)) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    const text = key.slice(name.length + 1, -1).split(/,(?=[a-zA-Z_]+=")/);
    if (wanted.every((pair) => text.includes(pair))) total += value;
  }
  return total;
}

/**
 * Sends StatsD lines over UDP, packed into datagrams under 1 200 bytes.
 *
 * @param port tally's StatsD port.
 * @param lines The lines.
 */
export async function sendStatsd(port: number, lines: readonly string[]): Promise<void> {
  const socket = createSocket("udp4");
  const datagrams: string[] = [];
  let current = "";
  for (const line of lines) {
    if (current !== "" && current.length + line.length + 1 > 1200) {
      datagrams.push(current);
      current = "";
    }
    current += current === "" ? line : `\n${line}`;
  }
  if (current !== "") datagrams.push(current);
  for (const datagram of datagrams) {
    await new Promise<void>((resolve, reject) =>
      socket.send(datagram, port, "127.0.0.1", (error) => (error ? reject(error) : resolve()))
    );
  }
  socket.close();
}

/**
 * Waits.
 *
 * @param ms How long.
 */
/**
 * Waits until 0.4 s into the next wall-clock second: a 1 s flush window's middle. Sends made there land in
 * that window even when tally reads them a little later (a worker reading its socket after a flush's
 * hand-over), so one send per call is one window's point.
 *
 * @returns Resolves in the next window's middle.
 */
export function nextWindow(): Promise<void> {
  const now = Date.now();
  return pause(Math.floor(now / 1000) * 1000 + 1400 - now);
}

/**
 * Waits.
 *
 * @param ms How long.
 * @returns Resolves after `ms`.
 */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function fetchJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  assert.equal(response.status, 200, url);
  return (await response.json()) as T;
}
