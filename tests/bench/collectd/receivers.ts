/**
 * The two receivers of the collectd benchmark, each started fresh per trial on a free loopback UDP port,
 * and how each one's count of received value lists is read back: now (`readCount`) and as it was at a
 * given moment (`countAt`, what the loss is computed from; see `run_trial.ts`).
 *
 * - **tally** (the compiled binary): `tally run -c tally.toml --http 127.0.0.1:H --data-dir DIR` with one
 *   `[inputs.collectd]` on `udp:127.0.0.1:P` and a 1 s flush interval (no StatsD listener). Ready when
 *   `GET /readyz` answers 200. Count: `tally_component_received_events_total{component_id="collectd"}`
 *   on `/metrics`, the value lists the workers parsed (frames dropped on a full ring or by the kernel
 *   never get there). Beside it the generator's exact sums are checked: `Σ collectd_bench_absolute_total`
 *   against `absolute_sum`, `Σ collectd_bench_counter_total` and `…_derive_total` against the final
 *   running totals.
 * - **collectd** 5.12's `network` plugin (`/usr/sbin/collectd -f -C collectd.conf`) with
 *   `Listen "127.0.0.1" "P"` and `ReportStats true`, `Interval 1`. Ready when its UDP port is bound.
 *   Count: the network plugin's own statistics, which it dispatches every interval as host `tallybench`,
 *   plugin `network`: `total_values-dispatch-accepted` is a DERIVE holding the running total of value
 *   lists the plugin parsed from received packets and handed to `plugin_dispatch_values` (collectd's
 *   write queue, then its value cache). The csv plugin with `StoreRates false` writes it raw, so the last
 *   row of `DataDir/tallybench/network/total_values-dispatch-accepted-DATE` is the exact count since start,
 *   and the count at a moment is interpolated between the rows (one a second) around it.
 *   A `PostCache` chain passes only host `tallybench` to csv: the received bench values go through the
 *   whole receive path (receive thread, dispatch thread, write queue, value cache) but no file is written
 *   for each of them. `CollectInternalStats true` adds the write-queue length and drops, reported with
 *   the receive-list length (`network/queue_length`) as diagnostics.
 *
 * @module
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { freePort } from "../../harness/free_port.ts";
import type { BenchReceiver, RunningBase } from "../_shared/bench_receiver.ts";
import { collectdConfig } from "../_shared/collectd_config.ts";
import { GENERATOR_HOST } from "./generator.ts";
import { sleep } from "../_shared/receiver_process.ts";
import { readyzAnswers200, scrapeMetrics, startReceiver, udpBound } from "../_shared/start_receiver.ts";

/** The receivers this benchmark knows. */
export type CollectdBenchReceiverName = "tally" | "collectd";

/** What a receiver says it received, read back after the load. */
export interface ReceivedCount {
  /** Value lists received and parsed since start. */
  readonly valueLists: number;
  /** Other counters that explain a loss or check correctness, by name. */
  readonly diagnostics: Readonly<Record<string, number>>;
}

/** A collectd-protocol receiver that can be started any number of times, each time with fresh state. */
export interface CollectdBenchReceiver
  extends BenchReceiver<CollectdBenchReceiverName, RunningCollectdBenchReceiver> {
  /**
   * The pause before one last read once the count reached what was sent: tally counts value lists as the
   * workers parse them, but its metric values appear at the next flush.
   */
  readonly finalReadDelayMs: number;
}

/** A started receiver instance; `port` is its collectd-protocol UDP port on 127.0.0.1. */
export interface RunningCollectdBenchReceiver extends RunningBase {
  /**
   * Reads the count of value lists received since start.
   *
   * @returns The count and diagnostics.
   * @throws {Error} When the readback fails.
   */
  readCount(): Promise<ReceivedCount>;
  /**
   * The value lists the receiver had processed at a wall-clock moment just past: what it kept up with,
   * as opposed to a backlog it works off later. Resolves once that moment has passed and is known.
   *
   * @param wallMs The moment, ms since the epoch (at most a few seconds ahead).
   * @returns The count then.
   * @throws {Error} When the readback fails.
   */
  countAt(wallMs: number): Promise<number>;
}

/** The default daemon path of Debian's collectd-core. */
export const COLLECTD_DAEMON = "/usr/sbin/collectd";
/** The host name collectd reports its own statistics under. */
const COLLECTD_HOSTNAME = "tallybench";
/** tally's flush interval in the benchmark. */
const FLUSH_INTERVAL = "1s";
const READY_TIMEOUT_MS = 20_000;

/** Options for {@link tallyCollectdReceiver}. */
export interface TallyCollectdReceiverOptions {
  /** The executable. */
  readonly executable: string;
  /** The label in the report. */
  readonly label: string;
  /** Extra `tally run` flags, e.g. `["--workers", "2"]`. */
  readonly extraArgs?: readonly string[];
  /** Whether the input gets `warm_up = true` (its config is the benchmark's own, so no flag can say it). */
  readonly warmUpInput?: boolean;
}

/**
 * Describes tally's collectd input as a receiver.
 *
 * @param options The executable, label and extra flags.
 * @returns The receiver.
 */
export function tallyCollectdReceiver(options: TallyCollectdReceiverOptions): CollectdBenchReceiver {
  return {
    name: "tally",
    label: `${options.label}${options.extraArgs?.length ? ` run ${options.extraArgs.join(" ")}` : ""}${
      options.warmUpInput === true ? " (warm_up = true)" : ""
    }`,
    readback: 'GET /metrics, tally_component_received_events_total{component_id="collectd"} (value lists ' +
      `parsed; flush interval ${FLUSH_INTERVAL}); exact sums checked on collectd_bench_*_total`,
    settleMs: 2500,
    finalReadDelayMs: 1500,
    start: async function startTally(dir: string): Promise<RunningCollectdBenchReceiver> {
      const port = await freePort("udp");
      const httpPort = await freePort("tcp");
      const base = `http://127.0.0.1:${httpPort}`;
      const config = join(dir, "tally.toml");
      await writeFile(
        config,
        `# Written by tests/bench/collectd; one fresh tally per trial.\n[agent]\nflush_interval = "${FLUSH_INTERVAL}"\n\n` +
          `[inputs.collectd]\ntype = "collectd"\nlisten = ["udp:127.0.0.1:${port}"]\n` +
          (options.warmUpInput === true ? "warm_up = true\n" : ""),
      );
      const running = await startReceiver(options.executable, [
        "run",
        "--config",
        config,
        "--http",
        `127.0.0.1:${httpPort}`,
        "--data-dir",
        join(dir, "data"),
        ...(options.extraArgs ?? []),
      ], { cwd: dir, port, isReady: readyzAnswers200(base), readyTimeoutMs: READY_TIMEOUT_MS });
      async function scrapeTally(): Promise<ReceivedCount> {
        return parseTallyCount(await scrapeMetrics(base));
      }
      return {
        ...running,
        readCount: scrapeTally,
        countAt: async function scrapeTallyAt(wallMs: number) {
          // tally counts value lists as its workers parse them, so a scrape at the moment is the count then.
          await sleep(Math.max(0, wallMs - Date.now()));
          return (await scrapeTally()).valueLists;
        },
      };
    },
  };
}

/** `name{labels} value` or `name value`, one exposition line. */
const SAMPLE_LINE_REGEXP = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?[ \t]+(\S+)/gm;
const REASON_REGEXP = /reason="([^"]*)"/;
const BENCH_TOTAL_REGEXP = /^collectd_bench_(absolute|counter|derive)_total$/;

/**
 * Reads tally's count of parsed value lists and the diagnostics out of its `/metrics` body.
 *
 * @param text The exposition.
 * @returns `valueLists` = `tally_component_received_events_total{component_id="collectd"}`; diagnostics
 *   `packets`, `dropped_<reason>`, `bad_lines`, `worker_restarts`, and `absolute_sum`, `counter_final_sum`,
 *   `derive_final_sum` over the generator's series (host `benchhost`).
 */
export function parseTallyCount(text: string): ReceivedCount {
  let valueLists = 0;
  const diagnostics: Record<string, number> = {
    absolute_sum: 0,
    counter_final_sum: 0,
    derive_final_sum: 0,
  };
  const add = (key: string, value: number): void => {
    diagnostics[key] = (diagnostics[key] ?? 0) + value;
  };
  for (const match of text.matchAll(SAMPLE_LINE_REGEXP)) {
    const [, name = "", labels = "", raw = ""] = match;
    const value = Number(raw);
    const bench = BENCH_TOTAL_REGEXP.exec(name);
    if (bench !== null) {
      if (labels.includes(`instance="${GENERATOR_HOST}"`)) {
        add(`${bench[1]}_${bench[1] === "absolute" ? "sum" : "final_sum"}`, value);
      }
      continue;
    }
    if (!name.startsWith("tally_")) continue;
    if (name === "tally_worker_restarts_total") add("worker_restarts", value);
    if (!labels.includes('component_id="collectd"')) continue;
    if (name === "tally_component_received_events_total") valueLists += value;
    else if (name === "tally_input_packets_total") add("packets", value);
    else if (name === "tally_component_dropped_events_total") {
      add(`dropped_${REASON_REGEXP.exec(labels)?.[1] ?? "unknown"}`, value);
    } else if (name === "tally_component_errors_total" && labels.includes('error_type="bad_line"')) {
      add("bad_lines", value);
    }
  }
  return { valueLists, diagnostics };
}

/** Options for {@link collectdNetworkReceiver}. */
export interface CollectdNetworkReceiverOptions {
  /** The daemon, {@link COLLECTD_DAEMON} by default. */
  readonly executable?: string;
}

/**
 * Describes collectd's network plugin as a receiver.
 *
 * @param options The daemon path.
 * @returns The receiver.
 */
export function collectdNetworkReceiver(options: CollectdNetworkReceiverOptions = {}): CollectdBenchReceiver {
  const executable = options.executable ?? COLLECTD_DAEMON;
  return {
    name: "collectd",
    label: `collectd network plugin (${executable})`,
    readback: "network plugin ReportStats true: csv (StoreRates false) last row of " +
      `${COLLECTD_HOSTNAME}/network/total_values-dispatch-accepted (running total, Interval 1)`,
    settleMs: 2500,
    finalReadDelayMs: 0,
    start: async function startCollectd(dir: string): Promise<RunningCollectdBenchReceiver> {
      const port = await freePort("udp");
      const csvDir = join(dir, "csv");
      const configFile = join(dir, "collectd.conf");
      await writeFile(configFile, collectdConf(dir, csvDir, port));
      const running = await startReceiver(executable, ["-f", "-C", configFile], {
        cwd: dir,
        port,
        isReady: udpBound(port),
        readyTimeoutMs: READY_TIMEOUT_MS,
      });
      return {
        ...running,
        readCount: function readCsv() {
          return readCollectdStats(join(csvDir, COLLECTD_HOSTNAME));
        },
        countAt: async function interpolateCsv(wallMs: number) {
          // collectd reports its running total once per interval: wait for the first row at or after the
          // moment, then interpolate between it and the row before.
          const deadline = Date.now() + COUNT_AT_WAIT_MS;
          for (;;) {
            const rows = await readCsvRows(join(csvDir, COLLECTD_HOSTNAME), DISPATCHED_FILE, 1);
            const at = countFromRows(rows, wallMs);
            if (at !== undefined) return at;
            if (Date.now() > deadline) {
              throw new Error(
                `Cannot read collectd's count at ${
                  new Date(wallMs).toISOString()
                }: no csv row after it within ` +
                  `${COUNT_AT_WAIT_MS} ms (${rows.length} rows)`,
              );
            }
            await sleep(100);
          }
        },
      };
    },
  };
}

/** The running total of value lists the network plugin dispatched, relative to `DataDir/HOST`. */
const DISPATCHED_FILE = "network/total_values-dispatch-accepted";
/** How long {@link RunningCollectdBenchReceiver.countAt} waits for collectd's next row (two intervals and a bit). */
const COUNT_AT_WAIT_MS = 3000;

/** One csv row: its time and one column's value. */
export interface CsvPoint {
  /** The row's epoch, ms. */
  readonly epochMs: number;
  /** The value. */
  readonly value: number;
}

/**
 * The running total at `wallMs`, interpolated linearly between the rows around it (collectd dispatches
 * evenly within an interval as far as a one-second resolution can tell).
 *
 * @param rows Rows in time order.
 * @param wallMs The moment, ms since the epoch.
 * @returns The count, or `undefined` while no row at or after the moment exists.
 */
export function countFromRows(rows: readonly CsvPoint[], wallMs: number): number | undefined {
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    if (row.epochMs < wallMs) continue;
    const before = rows[i - 1];
    if (before === undefined || row.epochMs === wallMs) return row.value;
    return before.value +
      (row.value - before.value) * (wallMs - before.epochMs) / (row.epochMs - before.epochMs);
  }
  return undefined;
}

/** The csv files read back, relative to `DataDir/HOST`, and the column of each. */
const COLLECTD_STATS: ReadonlyArray<readonly [key: string, file: string, column: number]> = [
  ["value_lists", DISPATCHED_FILE, 1],
  ["dispatch_rejected", "network/total_values-dispatch-rejected", 1],
  ["packets", "network/if_packets", 1],
  ["receive_list_length", "network/queue_length", 1],
  ["write_queue_length", "collectd-write_queue/queue_length", 1],
  ["write_queue_dropped", "collectd-write_queue/derive-dropped", 1],
];

/**
 * Reads the last row of each statistics csv file collectd wrote; when a run crosses midnight the newest
 * date wins (the DERIVE values are running totals).
 *
 * @param hostDir The csv plugin's `DataDir/HOST`.
 * @returns `valueLists` from `total_values-dispatch-accepted` (0 before the first write), diagnostics
 *   `dispatch_rejected`, `packets`, `receive_list_length`, `write_queue_length`, `write_queue_dropped`.
 */
export async function readCollectdStats(hostDir: string): Promise<ReceivedCount> {
  const values: Record<string, number> = {};
  await Promise.all(COLLECTD_STATS.map(async ([key, file, column]) => {
    const value = await lastCsvValue(hostDir, file, column);
    if (value !== undefined) values[key] = value;
  }));
  const { value_lists: valueLists = 0, ...diagnostics } = values;
  return { valueLists, diagnostics };
}

async function lastCsvValue(hostDir: string, file: string, column: number): Promise<number | undefined> {
  return (await readCsvRows(hostDir, file, column)).at(-1)?.value;
}

/**
 * Reads one column of every row of the csv files collectd wrote for one identifier (one file per day), in
 * time order; a line still being written (no newline yet) is skipped.
 *
 * @param hostDir The csv plugin's `DataDir/HOST`.
 * @param file `PLUGIN[-INSTANCE]/TYPE[-INSTANCE]`, without the date.
 * @param column The column after the epoch (1 = the first value).
 * @returns The rows; empty before the first write.
 */
export async function readCsvRows(hostDir: string, file: string, column: number): Promise<CsvPoint[]> {
  const slash = file.lastIndexOf("/");
  const dir = join(hostDir, file.slice(0, slash));
  const prefix = `${file.slice(slash + 1)}-`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const files = names.filter((name) =>
    name.startsWith(prefix) && /^\d{4}-\d{2}-\d{2}$/.test(name.slice(prefix.length))
  )
    .sort();
  const rows: CsvPoint[] = [];
  for (const name of files) {
    const lines = (await readFile(join(dir, name), "utf8")).split("\n");
    // The last element follows the last newline: empty, or a line still being written.
    for (let i = 1; i < lines.length - 1; i++) {
      const cells = (lines[i] ?? "").split(",");
      const epochMs = Math.round(Number(cells[0]) * 1000);
      const value = Number(cells[column]);
      if (
        cells.length > column && cells[column] !== "" && Number.isFinite(epochMs) && Number.isFinite(value)
      ) {
        rows.push({ epochMs, value });
      }
    }
  }
  return rows;
}

function collectdConf(dir: string, csvDir: string, port: number): string {
  return collectdConfig({
    writtenBy: "tests/bench/collectd",
    hostname: COLLECTD_HOSTNAME,
    dir,
    csvDir,
    globals: ["CollectInternalStats true"],
    plugin: "network",
    pluginOptions: [`Listen "127.0.0.1" "${port}"`, "ReportStats true"],
    chainComment: [
      `Only collectd's own statistics (host ${COLLECTD_HOSTNAME}) reach the csv plugin; the received values stop`,
      "after the cache, as they would in a collectd with no write plugin for them.",
    ],
    rule: "own_statistics",
    match: [`Host "^${COLLECTD_HOSTNAME}$"`],
  });
}
