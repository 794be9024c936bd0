/**
 * collectd's statsd plugin (Debian `collectd-core`, `collectd -f -C CONF`) as a benchmark receiver, on a
 * loopback UDP port, `Interval 1`. Ready when its UDP port is bound.
 *
 * Readback: the csv plugin with `StoreRates false`. With `DeleteCounters false` the statsd plugin keeps
 * each counter and dispatches it every interval as a cumulative DERIVE value (`derive-bench.c.K`), so the
 * last row of its csv file is the exact total since start. The unixsock plugin's `GETVAL` is no use here:
 * it converts DERIVE values to rates. A PostCache chain writes only the statsd DERIVE values, so the csv
 * plugin does not open a file per timer/gauge/set value each second and steal CPU from the receiver.
 *
 * @module
 * @see https://collectd.org/documentation/manpages/collectd.conf.5.shtml#plugin_statsd
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { freePort } from "../../harness/free_port.ts";
import { GENERATOR_PREFIX } from "./generator.ts";
import type { Receiver, RunningReceiver } from "./receiver.ts";
import { collectdConfig } from "../_shared/collectd_config.ts";
import { startReceiver, udpBound } from "../_shared/start_receiver.ts";

/** Options for {@link collectdReceiver}. */
export interface CollectdReceiverOptions {
  /** The daemon, `/usr/sbin/collectd` by default. */
  readonly executable?: string;
  /** The bound on waiting for readiness. */
  readonly readyTimeoutMs?: number;
}

/** The default daemon path of Debian's collectd-core. */
export const COLLECTD_EXECUTABLE = "/usr/sbin/collectd";
/** The host name in value identifiers, hence the csv directory name. */
const HOSTNAME = "tallybench";
/** `derive-bench.c.17-2026-01-31`: the counter name, then the csv file's date. */
const CSV_FILE_REGEXP = new RegExp(`^derive-(${GENERATOR_PREFIX}\\.c\\.\\d+)-(\\d{4}-\\d{2}-\\d{2})$`);

/**
 * Describes collectd's statsd plugin as a receiver.
 *
 * @param options The daemon path.
 * @returns The receiver.
 */
export function collectdReceiver(options: CollectdReceiverOptions = {}): Receiver {
  const executable = options.executable ?? COLLECTD_EXECUTABLE;
  return {
    name: "collectd",
    label: `collectd statsd plugin (${executable})`,
    readback: "csv plugin, StoreRates false: last row of derive-bench.c.K (cumulative, DeleteCounters false)",
    settleMs: 2500,
    start: async function startCollectd(dir: string): Promise<RunningReceiver> {
      const statsdPort = await freePort("udp");
      const csvDir = join(dir, "csv");
      const configFile = join(dir, "collectd.conf");
      await writeFile(configFile, collectdConf(dir, csvDir, statsdPort));
      const running = await startReceiver(executable, ["-f", "-C", configFile], {
        cwd: dir,
        port: statsdPort,
        isReady: udpBound(statsdPort),
        readyTimeoutMs: options.readyTimeoutMs,
      });
      return {
        ...running,
        readCounters: function readCsv() {
          return readCsvCounters(join(csvDir, HOSTNAME, "statsd"));
        },
        readDiagnostics: function noSelfMetrics() {
          // The statsd plugin exposes no receive counters; the kernel's drop count tells the story.
          return Promise.resolve({});
        },
      };
    },
  };
}

/**
 * Reads the last row of each `derive-bench.c.K-DATE` csv file; when a trial crosses midnight, the newest
 * date wins (the values are cumulative).
 *
 * @param dir The csv plugin's `DataDir/HOST/statsd`.
 * @returns `bench.c.K` → total since start; empty before the first write.
 */
export async function readCsvCounters(dir: string): Promise<Map<string, number>> {
  const newest = new Map<string, string>();
  let files: string[];
  try {
    files = await readdir(dir);
  } catch {
    return new Map();
  }
  for (const file of files) {
    const match = CSV_FILE_REGEXP.exec(file);
    if (match === null) continue;
    const name = match[1] ?? "";
    const previous = newest.get(name);
    if (previous === undefined || previous < file) newest.set(name, file);
  }
  const totals = new Map<string, number>();
  await Promise.all([...newest].map(async ([name, file]) => {
    const text = await readFile(join(dir, file), "utf8");
    // The csv plugin writes whole lines; a trailing partial line would have no comma after trimming.
    const lines = text.trimEnd().split("\n");
    const last = lines.at(-1) ?? "";
    const value = Number(last.split(",")[1]);
    if (Number.isFinite(value)) totals.set(name, value);
  }));
  return totals;
}

function collectdConf(dir: string, csvDir: string, port: number): string {
  return collectdConfig({
    writtenBy: "tests/bench/statsd",
    hostname: HOSTNAME,
    dir,
    csvDir,
    globals: [],
    plugin: "statsd",
    pluginOptions: [
      'Host "127.0.0.1"',
      `Port "${port}"`,
      "DeleteCounters false",
      "DeleteTimers false",
      "DeleteGauges false",
      "DeleteSets false",
    ],
    chainComment: [
      "Only the statsd counters (type derive) reach the csv plugin; everything else stops here.",
    ],
    rule: "statsd_counters",
    match: ['Plugin "^statsd$"', 'Type "^derive$"'],
  });
}
