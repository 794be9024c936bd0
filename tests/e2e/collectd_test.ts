/**
 * The real collectd 5.12 (Debian `collectd-core`) against the compiled `dist/tally`, with collectd's own
 * csv plugin (`StoreRates false`) as the oracle.
 *
 * One tally runs from a TOML config with a collectd input per security level (`plain`, `signed`,
 * `encrypted`), one that only ever gets refused packets (`wrong`), one for the load generator (`gen`) and a
 * `collectd_unixsock` input (`sock`). Four collectd daemons, each with its own host name so that every path
 * has series of its own, send at `Interval 1`:
 *
 * | host         | plugins                                   | to tally                                          |
 * | ------------ | ----------------------------------------- | ------------------------------------------------- |
 * | `tallyplain` | cpu, load, memory, interface, unixsock    | plain → `plain`; wrong password, unknown user and |
 * |              |                                           | plain → `wrong`                                   |
 * | `tallysign`  | load, memory                              | `SecurityLevel Sign` → `signed`                   |
 * | `tallyenc`   | load, memory                              | `SecurityLevel Encrypt` → `encrypted`             |
 * | `tallysock`  | load, memory, unixsock                    | none: tally polls its unixsock                    |
 *
 * Each writes its csv too. tally files a value that carries collectd's time under the window of that time,
 * so the point of window `t` must hold the csv row whose epoch falls in `[t, t + 1 s)`: gauges as printed
 * (`%lf`, six decimals), COUNTER/DERIVE raw totals exactly. `shared/tools/collectd-gen` then sends to `gen`
 * and its printed sums must come back exactly.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectdMissing, startCollectd, unixsockCommand } from "../harness/collectd.ts";
import type { CollectdProcess } from "../harness/collectd.ts";
import { freePort } from "../harness/free_port.ts";
import { metricKey, scrape } from "../harness/scrape.ts";
import type { MetricValues } from "../harness/scrape.ts";
import { REPO_ROOT, spawnTally } from "../harness/spawn_tally.ts";
import type { RunningTally } from "../harness/spawn_tally.ts";
import { waitFor } from "../harness/wait_for.ts";

const WINDOW_MS = 1000;
/** Windows compared per series before a comparison counts as done. */
const MIN_WINDOWS = 3;
/** The csv plugin prints gauges with `%lf`: six decimals, so a stored double is within half a unit. */
const CSV_GAUGE_TOLERANCE = 5e-7 + 1e-12;
/** The unixsock plugin prints values with `%e`: seven significant digits. */
const UNIXSOCK_RELATIVE_TOLERANCE = 5e-7 + 1e-12;
const PASSWORD = "secret";
const GENERATOR_SOURCE = join(REPO_ROOT, "..", "shared", "tools", "collectd-gen.c");

/** One stored point as `/api/v1/query` returns it. */
interface QueriedPoint {
  readonly t: number;
  readonly value: number;
  readonly fields?: Readonly<Record<string, number>>;
}

/** One stored series as `/api/v1/query` returns it. */
interface QueriedSeries {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly kind: string;
  readonly points: readonly QueriedPoint[];
}

/** One csv row: its epoch in ms and its columns after the epoch, as printed. */
interface CsvRow {
  readonly epochMs: number;
  readonly columns: Readonly<Record<string, string>>;
}

/** A tally point beside the csv row of its window. */
interface Pair {
  readonly t: number;
  readonly tally: number;
  readonly csv: string;
}

/** What one comparison of a stored series against a csv file found. */
interface Comparison {
  readonly pairs: readonly Pair[];
  /** Windows tally stored that no csv row falls into (must stay empty). */
  readonly unmatched: readonly number[];
}

describe("e2e: collectd 5.12 network and unixsock plugins against dist/tally", () => {
  const missing = collectdMissing();
  const daemons: CollectdProcess[] = [];
  let root = "";
  let tally: RunningTally | undefined;
  /** Per host, the collectd directory (csv under `csv/HOST`, unixsock at `sock`). */
  const homes = new Map<string, string>();
  let genPort = 0;

  before(async () => {
    if (missing !== undefined) return;
    assert.ok(
      existsSync(join(REPO_ROOT, "dist", "tally")),
      "dist/tally is missing: run `npm run build` first",
    );
    root = mkdtempSync(join(tmpdir(), "tally-e2e-collectd-"));
    const authFile = join(root, "collectd.auth");
    writeFileSync(authFile, `# user: password, collectd's AuthFile format\nalice: ${PASSWORD}\n`);
    const ports = {
      plain: await freePort("udp"),
      signed: await freePort("udp"),
      encrypted: await freePort("udp"),
      wrong: await freePort("udp"),
      gen: await freePort("udp"),
    };
    genPort = ports.gen;
    for (const host of ["tallyplain", "tallysign", "tallyenc", "tallysock"]) {
      const home = join(root, host);
      mkdirSync(home);
      homes.set(host, home);
    }
    const config = join(root, "tally.toml");
    writeFileSync(
      config,
      `[agent]
flush_interval = "1s"

[inputs.plain]
type = "collectd"
listen = ["udp:127.0.0.1:${ports.plain}"]

[inputs.signed]
type = "collectd"
listen = ["udp:127.0.0.1:${ports.signed}"]
security_level = "sign"
auth_file = "${authFile}"

[inputs.encrypted]
type = "collectd"
listen = ["udp:127.0.0.1:${ports.encrypted}"]
security_level = "encrypt"
auth_file = "${authFile}"

[inputs.wrong]
type = "collectd"
listen = ["udp:127.0.0.1:${ports.wrong}"]
security_level = "sign"
auth_file = "${authFile}"

[inputs.gen]
type = "collectd"
listen = ["udp:127.0.0.1:${ports.gen}"]

[inputs.sock]
type = "collectd_unixsock"
path = "${join(homeOf("tallysock"), "sock")}"
interval = "1s"
timeout = "800ms"
`,
    );
    tally = await spawnTally({ shape: "binary", statsd: [], args: ["--config", config] });

    const server = (port: number, level: string, user = "", password = ""): string =>
      level === "None"
        ? `  <Server "127.0.0.1" "${port}">\n  </Server>`
        : `  <Server "127.0.0.1" "${port}">\n    SecurityLevel ${level}\n    Username "${user}"\n` +
          `    Password "${password}"\n  </Server>`;
    // Each daemon is registered as soon as it runs, so that `after` stops it even when another fails.
    await Promise.all([
      startDaemon("tallyplain", ["cpu", "load", "memory", "interface"], [
        server(ports.plain, "None"),
        server(ports.wrong, "Sign", "alice", "wrong"),
        server(ports.wrong, "Encrypt", "alice", "wrong"),
        server(ports.wrong, "Sign", "mallory", PASSWORD),
        server(ports.wrong, "None"),
      ], true),
      startDaemon("tallysign", ["load", "memory"], [server(ports.signed, "Sign", "alice", PASSWORD)], false),
      startDaemon(
        "tallyenc",
        ["load", "memory"],
        [server(ports.encrypted, "Encrypt", "alice", PASSWORD)],
        false,
      ),
      startDaemon("tallysock", ["load", "memory"], [], true),
    ]);
  });

  after(async () => {
    await Promise.all(daemons.map((daemon) => daemon.stop()));
    await tally?.stop();
    if (root !== "") rmSync(root, { recursive: true, force: true });
  });

  function homeOf(host: string): string {
    const home = homes.get(host);
    if (home === undefined) throw new Error(`No collectd home for host "${host}"`);
    return home;
  }

  /**
   * Starts one collectd: the read plugins at `Interval 1`, csv (`StoreRates false`) as the oracle, the
   * network plugin flushing its buffer every second when there are servers, and unixsock when asked.
   */
  async function startDaemon(
    host: string,
    plugins: readonly string[],
    servers: readonly string[],
    unixsock: boolean,
  ): Promise<void> {
    const home = homeOf(host);
    const body = [
      ...plugins.map((plugin) => `LoadPlugin ${plugin}`),
      "LoadPlugin csv",
      `<Plugin csv>\n  DataDir "${join(home, "csv")}"\n  StoreRates false\n</Plugin>`,
      // Only the loopback interface: present everywhere, and busy (this test's own traffic).
      ...(plugins.includes("interface") ? ['<Plugin interface>\n  Interface "lo"\n</Plugin>'] : []),
      ...(unixsock
        ? ["LoadPlugin unixsock", `<Plugin unixsock>\n  SocketFile "${join(home, "sock")}"\n</Plugin>`]
        : []),
      // The network plugin sends a packet when its buffer is full, or at each flush: flush every second.
      ...(servers.length > 0
        ? [
          "<LoadPlugin network>\n  FlushInterval 1\n</LoadPlugin>",
          "<Plugin network>",
          ...servers,
          "</Plugin>",
        ]
        : []),
    ].join("\n");
    const daemon = await startCollectd(home, body, { hostname: host });
    daemons.push(daemon);
  }

  /** The tally instance, for tests that run after `before` succeeded. */
  function running(): RunningTally {
    if (tally === undefined) throw new Error("tally is not running: the before hook failed");
    return tally;
  }

  /**
   * Waits until the stored series and the csv file overlap in `MIN_WINDOWS` windows, then returns the
   * comparison. `read` picks the number to compare out of a point (gauge value, or cumulative total).
   */
  async function compareWithCsv(
    query: { readonly name: string; readonly labels: Readonly<Record<string, string>> },
    csv: { readonly host: string; readonly dir: string; readonly file: string; readonly column: string },
    read: (point: QueriedPoint) => number | undefined,
  ): Promise<Comparison> {
    return await waitFor(async () => {
      const series = await queryApi(running(), query.name, query.labels);
      if (series.length !== 1) return undefined;
      const rows = readCsv(join(homeOf(csv.host), "csv", csv.host, csv.dir), csv.file);
      const comparison = pairUp(series[0]!.points, rows, csv.column, read);
      return comparison.pairs.length >= MIN_WINDOWS ? comparison : undefined;
    }, {
      timeoutMs: 15_000,
      intervalMs: 200,
      what: `${MIN_WINDOWS} windows of ${query.name} ${JSON.stringify(query.labels)} beside collectd's csv`,
    });
  }

  it("plain: load, memory, cpu and interface values equal collectd's csv for the same timestamps", async (t) => {
    if (missing !== undefined) return t.skip(missing);
    const instance = { instance: "tallyplain" };
    for (const column of ["shortterm", "midterm", "longterm"]) {
      const load = await compareWithCsv(
        { name: `collectd_load_${column}`, labels: instance },
        { host: "tallyplain", dir: "load", file: "load", column },
        (point) => point.value,
      );
      assertGaugesEqual(load, `load ${column}`);
    }
    const memory = await compareWithCsv(
      { name: "collectd_memory", labels: { ...instance, memory: "used" } },
      { host: "tallyplain", dir: "memory", file: "memory-used", column: "value" },
      (point) => point.value,
    );
    assertGaugesEqual(memory, "memory used");
    // DERIVE values are cumulative: each window's point carries the raw total collectd reported.
    const cpu = await compareWithCsv(
      { name: "collectd_cpu", labels: { ...instance, cpu: "0", type: "user" } },
      { host: "tallyplain", dir: "cpu-0", file: "cpu-user", column: "value" },
      (point) => point.fields?.["total"],
    );
    assertExact(cpu, "cpu-0 user jiffies");
    for (const column of ["rx", "tx"]) {
      const octets = await compareWithCsv(
        { name: `collectd_interface_if_octets_${column}`, labels: { ...instance, interface: "lo" } },
        { host: "tallyplain", dir: "interface-lo", file: "if_octets", column },
        (point) => point.fields?.["total"],
      );
      assertExact(octets, `lo if_octets ${column}`);
    }

    // /metrics: the interface counter's _total is a raw value collectd wrote (exactly), the load gauge too.
    const values = await scrape(running().url);
    const rxTotal = values.get(
      metricKey("collectd_interface_if_octets_rx_total", { ...instance, interface: "lo" }),
    );
    assert.ok(rxTotal !== undefined && rxTotal > 0, "collectd_interface_if_octets_rx_total is on /metrics");
    const rxRows = readCsv(join(homeOf("tallyplain"), "csv", "tallyplain", "interface-lo"), "if_octets");
    assert.ok(
      rxRows.some((row) => Number(row.columns["rx"]) === rxTotal),
      `${rxTotal} is an rx total collectd wrote: ${
        rxRows.slice(-5).map((row) => row.columns["rx"]).join(", ")
      }`,
    );
    const shortterm = values.get(metricKey("collectd_load_shortterm", instance));
    const loadRows = readCsv(join(homeOf("tallyplain"), "csv", "tallyplain", "load"), "load");
    assert.ok(
      shortterm !== undefined &&
        loadRows.some((row) => row.columns["shortterm"] === printfLf(shortterm)),
      `load shortterm ${shortterm} on /metrics is a value collectd wrote`,
    );
    assert.equal(
      values.get(
        metricKey("tally_bad_lines_total", {
          component_id: "plain",
          component_type: "collectd",
          reason: "unknown_type",
        }),
      ) ?? 0,
      0,
      "every type collectd sent is in types.db",
    );
  });

  it("SecurityLevel Sign and Encrypt: the values of each arrive exactly, through the matching input", async (t) => {
    if (missing !== undefined) return t.skip(missing);
    for (const [host, component] of [["tallysign", "signed"], ["tallyenc", "encrypted"]] as const) {
      const load = await compareWithCsv(
        { name: "collectd_load_shortterm", labels: { instance: host } },
        { host, dir: "load", file: "load", column: "shortterm" },
        (point) => point.value,
      );
      assertGaugesEqual(load, `${host} load shortterm`);
      const memory = await compareWithCsv(
        { name: "collectd_memory", labels: { instance: host, memory: "used" } },
        { host, dir: "memory", file: "memory-used", column: "value" },
        (point) => point.value,
      );
      assertGaugesEqual(memory, `${host} memory used`);
      const values = await scrape(running().url);
      const labels = { component_id: component, component_type: "collectd" };
      assert.ok((values.get(metricKey("tally_component_received_events_total", labels)) ?? 0) > 0, component);
      assert.equal(
        sumFamily(values, "tally_collectd_auth_failures_total", labels),
        0,
        `${component}: no refusals`,
      );
    }
  });

  it("a wrong password, an unknown user and plain packets at level sign are counted and never stored", async (t) => {
    if (missing !== undefined) return t.skip(missing);
    const labels = { component_id: "wrong", component_type: "collectd" };
    const reasons = ["bad_signature", "bad_checksum", "unknown_user", "required"] as const;
    const values = await waitFor(async () => {
      const scraped = await scrape(running().url);
      return reasons.every((reason) =>
          (scraped.get(metricKey("tally_collectd_auth_failures_total", { ...labels, reason })) ?? 0) > 0
        )
        ? scraped
        : undefined;
    }, { timeoutMs: 10_000, intervalMs: 200, what: "every kind of refusal on the wrong input" });
    for (const reason of reasons) {
      const failures = values.get(metricKey("tally_collectd_auth_failures_total", { ...labels, reason })) ??
        0;
      const dropped = values.get(
        metricKey("tally_component_dropped_events_total", { ...labels, reason: `auth_${reason}` }),
      );
      assert.ok(failures > 0, reason);
      assert.equal(dropped, failures, `${reason} is counted as a drop too`);
    }
    assert.ok(
      (values.get(metricKey("tally_input_packets_total", { ...labels, transport: "udp" })) ?? 0) >=
        reasons.length,
    );
    assert.equal(
      values.get(metricKey("tally_component_received_bytes_total", labels)),
      0,
      "no byte reached the pipeline",
    );
    assert.equal(
      values.get(metricKey("tally_component_received_events_total", labels)),
      0,
      "no value list was parsed",
    );
  });

  it("a notification (unixsock PUTNOTIF, forwarded by the network plugin) becomes an event on /api/v1/events", async (t) => {
    if (missing !== undefined) return t.skip(missing);
    const timeS = Math.floor(Date.now() / 1000);
    const reply = await unixsockCommand(
      join(homeOf("tallyplain"), "sock"),
      `PUTNOTIF severity=warning time=${timeS} host=tallyplain plugin=df plugin_instance=root type=percent_bytes ` +
        `type_instance=used message="Disk root is 91% full"`,
    );
    assert.deepEqual(reply, ["0 Success"]);
    const events = await waitFor(async () => {
      const response = await fetch(`${running().url}/api/v1/events?since=5m`);
      const body = (await response.json()) as { events: Array<Record<string, unknown>> };
      const found = body.events.filter((event) => event["title"] === "Disk root is 91% full");
      return found.length > 0 ? found : undefined;
    }, { timeoutMs: 10_000, intervalMs: 200, what: "the notification in the store" });
    // Only the plain input accepts it: the wrong input refuses the copies sent to it.
    assert.equal(events.length, 1, JSON.stringify(events));
    assert.deepEqual(events[0], {
      id: events[0]!["id"],
      t: timeS * 1000,
      end: timeS * 1000,
      kind: "event",
      title: "Disk root is 91% full",
      text: "Disk root is 91% full",
      labels: {
        instance: "tallyplain",
        plugin: "df",
        plugin_instance: "root",
        severity: "warning",
        type: "percent_bytes",
        type_instance: "used",
      },
      status: 1,
    });
  });

  it("unixsock pull: the values tally polls equal collectd's csv for the same timestamps", async (t) => {
    if (missing !== undefined) return t.skip(missing);
    for (const column of ["shortterm", "longterm"]) {
      const load = await compareWithCsv(
        { name: `collectd_load_${column}`, labels: { instance: "tallysock" } },
        { host: "tallysock", dir: "load", file: "load", column },
        (point) => point.value,
      );
      assertRelative(load, `unixsock load ${column}`);
    }
    const memory = await compareWithCsv(
      { name: "collectd_memory", labels: { instance: "tallysock", memory: "used" } },
      { host: "tallysock", dir: "memory", file: "memory-used", column: "value" },
      (point) => point.value,
    );
    assertRelative(memory, "unixsock memory used");
    const values = await scrape(running().url);
    const labels = { component_id: "sock", component_type: "collectd_unixsock" };
    assert.ok(
      (values.get(metricKey("tally_input_polls_total", { ...labels, result: "ok" })) ?? 0) >= MIN_WINDOWS,
    );
    assert.ok((values.get(metricKey("tally_component_received_events_total", labels)) ?? 0) > 0);
  });

  it("collectd-gen: the exact sums it prints equal tally's counters, gauges and stored deltas", async (t) => {
    if (missing !== undefined) return t.skip(missing);
    if (!existsSync(GENERATOR_SOURCE)) {
      return t.skip(`${GENERATOR_SOURCE} is not there (it lives beside the repository)`);
    }
    const generator = join(root, "collectd-gen");
    try {
      execFileSync("cc", ["-O2", "-o", generator, GENERATOR_SOURCE, "-lm"], { stdio: "pipe" });
    } catch (error) {
      return t.skip(
        `cannot compile collectd-gen with cc: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    const names = 400;
    const summary = await runCollectdGen(generator, [
      "-p",
      String(genPort),
      "-r",
      "400",
      "-d",
      "1",
      "-n",
      String(names),
      "-q",
    ]);
    assert.equal(summary.send_errors, 0);
    assert.equal(summary.names, names);

    const labels = { component_id: "gen", component_type: "collectd" };
    const values = await waitFor(async () => {
      const scraped = await scrape(running().url);
      const received = scraped.get(metricKey("tally_component_received_events_total", labels)) ?? 0;
      // Every value list parsed, and the flush after the last one has happened.
      const absolute = sumFamily(scraped, "collectd_bench_absolute_total", { instance: "benchhost" });
      return received === summary.value_lists_sent && absolute === summary.absolute_sum ? scraped : undefined;
    }, {
      timeoutMs: 10_000,
      intervalMs: 200,
      what: `${summary.value_lists_sent} value lists from collectd-gen on /metrics`,
    });

    // ABSOLUTE: increments, summed; COUNTER and DERIVE: the raw totals the generator ended on.
    assert.equal(
      sumFamily(values, "collectd_bench_absolute_total", { instance: "benchhost" }),
      summary.absolute_sum,
    );
    assert.equal(
      sumFamily(values, "collectd_bench_counter_total", { instance: "benchhost" }),
      summary.counter_final_sum,
    );
    assert.equal(
      sumFamily(values, "collectd_bench_derive_total", { instance: "benchhost" }),
      summary.derive_final_sum,
    );
    // GAUGE: identifier k carries k % 1000 + 0.5 every time.
    const byType = {
      counter: [] as number[],
      gauge: [] as number[],
      derive: [] as number[],
      absolute: [] as number[],
    };
    const mix = ["counter", "gauge", "derive", "absolute"] as const;
    for (let k = 0; k < names; k++) byType[mix[k % mix.length]!].push(k);
    for (const k of byType.gauge) {
      const key = metricKey("collectd_bench_gauge", {
        bench: `g${Math.floor(k / 100)}`,
        instance: "benchhost",
        type: `m${k}`,
      });
      assert.equal(values.get(key), (k % 1000) + 0.5, key);
    }
    assert.equal(
      countFamily(values, "collectd_bench_gauge", { instance: "benchhost" }),
      summary.identifiers_by_type.gauge,
    );
    assert.equal(
      countFamily(values, "collectd_bench_counter_total", { instance: "benchhost" }),
      summary.identifiers_by_type.counter,
    );
    assert.equal(
      values.get(metricKey("tally_component_received_events_total", labels)),
      summary.value_lists_sent,
    );
    assert.equal(sumFamily(values, "tally_bad_lines_total", labels), 0);

    // The store: ABSOLUTE window deltas add up to the sum; COUNTER deltas to the final totals minus the
    // first values (a series' first value contributes 0: where the source started is unknown).
    const absolute = await queryApi(running(), "collectd_bench_absolute", { instance: "benchhost" });
    assert.equal(absolute.length, summary.identifiers_by_type.absolute);
    assert.equal(sumPoints(absolute), summary.absolute_sum);
    const counter = await queryApi(running(), "collectd_bench_counter", { instance: "benchhost" });
    const firstValues = byType.counter.reduce((sum, k) => sum + 1 + (k % 5), 0);
    assert.equal(sumPoints(counter), summary.counter_final_sum - firstValues);
    assert.ok(counter.every((series) => series.kind === "cumulative"), "COUNTER series are cumulative");
  });
});

/** The fields of collectd-gen's JSON summary this test reads. */
interface CollectdGenSummary {
  readonly names: number;
  readonly send_errors: number;
  readonly value_lists_sent: number;
  readonly identifiers_by_type: {
    readonly counter: number;
    readonly gauge: number;
    readonly derive: number;
    readonly absolute: number;
  };
  readonly absolute_sum: number;
  readonly counter_final_sum: number;
  readonly derive_final_sum: number;
}

/** Runs collectd-gen to its end (it stops by itself after `-d`) and parses its summary line. */
function runCollectdGen(executable: string, args: readonly string[]): Promise<CollectdGenSummary> {
  return new Promise((resolve, reject) => {
    const child = spawn(executable, args, { stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(
          new Error(`collectd-gen failed with exit code ${code}: "${Buffer.concat(err).toString().trim()}"`),
        );
        return;
      }
      resolve(
        JSON.parse(Buffer.concat(out).toString().trim().split("\n").at(-1) ?? "") as CollectdGenSummary,
      );
    });
  });
}

async function queryApi(
  tally: RunningTally,
  name: string,
  labels: Readonly<Record<string, string>>,
): Promise<QueriedSeries[]> {
  const params = new URLSearchParams({ name, since: "5m" });
  for (const [label, value] of Object.entries(labels)) params.set(`label.${label}`, value);
  const response = await fetch(`${tally.url}/api/v1/query?${params}`);
  assert.equal(response.status, 200);
  return ((await response.json()) as { series: QueriedSeries[] }).series;
}

/**
 * Reads every csv file the plugin wrote for one identifier (`<file>-YYYY-MM-DD`, one per local day).
 *
 * @param dir `DataDir/HOST/PLUGIN[-INSTANCE]`.
 * @param file `TYPE[-INSTANCE]`.
 */
function readCsv(dir: string, file: string): CsvRow[] {
  if (!existsSync(dir)) return [];
  const rows: CsvRow[] = [];
  const pattern = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-\\d{4}-\\d{2}-\\d{2}$`);
  for (const name of readdirSync(dir).filter((entry) => pattern.test(entry)).sort()) {
    const lines = readFileSync(join(dir, name), "utf8").split("\n");
    const header = (lines[0] ?? "").split(",");
    for (const line of lines.slice(1)) {
      const cells = line.split(",");
      // A line still being written has fewer cells; skip it.
      if (cells.length !== header.length || line === "") continue;
      const columns: Record<string, string> = {};
      for (let i = 1; i < header.length; i++) columns[header[i]!] = cells[i]!;
      rows.push({ epochMs: Math.round(Number(cells[0]) * 1000), columns });
    }
  }
  return rows;
}

/** Pairs each stored point with the (last) csv row whose time falls in the point's window. */
function pairUp(
  points: readonly QueriedPoint[],
  rows: readonly CsvRow[],
  column: string,
  read: (point: QueriedPoint) => number | undefined,
): Comparison {
  const byWindow = new Map<number, string>();
  for (const row of rows) {
    const cell = row.columns[column];
    if (cell !== undefined) byWindow.set(Math.floor(row.epochMs / WINDOW_MS) * WINDOW_MS, cell);
  }
  const pairs: Pair[] = [];
  const unmatched: number[] = [];
  for (const point of points) {
    const csv = byWindow.get(point.t);
    const tally = read(point);
    if (csv === undefined || tally === undefined) unmatched.push(point.t);
    else pairs.push({ t: point.t, tally, csv });
  }
  return { pairs, unmatched };
}

function assertGaugesEqual(comparison: Comparison, what: string): void {
  assert.deepEqual(comparison.unmatched, [], `${what}: every stored window has a csv row`);
  for (const pair of comparison.pairs) assert.equal(printfLf(pair.tally), pair.csv, `${what} at ${pair.t}`);
}

/**
 * Formats a non-negative double as glibc's `printf("%lf")` does (the csv plugin's gauge format): six
 * decimals, correctly rounded, an exact tie rounded to even. `toFixed` rounds exact ties up instead.
 */
function printfLf(value: number): string {
  const up = value.toFixed(6);
  const digits = value.toFixed(20);
  const cut = digits.indexOf(".") + 7;
  if (!/^50*$/.test(digits.slice(cut))) return up;
  const down = digits.slice(0, cut);
  return Number(down.at(-1)) % 2 === 0 ? down : up;
}

function assertExact(comparison: Comparison, what: string): void {
  assert.deepEqual(comparison.unmatched, [], `${what}: every stored window has a csv row`);
  for (const pair of comparison.pairs) assert.equal(pair.tally, Number(pair.csv), `${what} at ${pair.t}`);
}

function assertRelative(comparison: Comparison, what: string): void {
  assert.deepEqual(comparison.unmatched, [], `${what}: every stored window has a csv row`);
  for (const pair of comparison.pairs) {
    const csv = Number(pair.csv);
    assert.ok(
      Math.abs(pair.tally - csv) <=
        UNIXSOCK_RELATIVE_TOLERANCE * Math.max(1, Math.abs(csv)) + CSV_GAUGE_TOLERANCE,
      `${what} at ${pair.t}: tally ${pair.tally}, csv ${pair.csv}`,
    );
  }
}

/** The series of one family on /metrics that carry all of `labels`. */
function familySeries(
  values: MetricValues,
  name: string,
  labels: Readonly<Record<string, string>>,
): number[] {
  const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
  const found: number[] = [];
  for (const [key, value] of values) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    if (wanted.every((pair) => key.includes(`{${pair}`) || key.includes(`,${pair}`))) found.push(value);
  }
  return found;
}

function sumFamily(values: MetricValues, name: string, labels: Readonly<Record<string, string>>): number {
  return familySeries(values, name, labels).reduce((sum, value) => sum + value, 0);
}

function countFamily(values: MetricValues, name: string, labels: Readonly<Record<string, string>>): number {
  return familySeries(values, name, labels).length;
}

function sumPoints(series: readonly QueriedSeries[]): number {
  let sum = 0;
  for (const one of series) for (const point of one.points) sum += point.value;
  return sum;
}
