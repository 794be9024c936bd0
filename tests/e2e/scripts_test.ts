/**
 * The `scripts` input against the compiled binary: CoScale scripts in bash, python3 and node (the
 * testdata scripts of `src/inputs/scripts/`), a Nagios plugin and a Prometheus-format script reach
 * `/metrics`, the store and the event log; Difference metrics are stored as window deltas; lines and bad
 * lines are counted per script; a script that forks grandchildren and ignores SIGTERM is gone by its limit
 * while the other scripts keep flushing, and nothing any script started outlives tally. Then
 * `tally script check` on a clean, a flawed and an unusable script.
 *
 * Every script process is found through `/proc/PID/environ`: the input gives every script the variable
 * `E2E_MARK` (scripts get a clean environment, so nothing else carries it), and the hung script's wrapper
 * adds `RUN_MARK=<its pid>`, which its grandchildren inherit even after they leave its process group.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { metricKey, scrape } from "../harness/scrape.ts";
import type { MetricValues } from "../harness/scrape.ts";
import { REPO_ROOT, spawnTally } from "../harness/spawn_tally.ts";
import type { RunningTally } from "../harness/spawn_tally.ts";
import { waitFor } from "../harness/wait_for.ts";

const TALLY = join(REPO_ROOT, "dist", "tally");
const TESTDATA = join(REPO_ROOT, "src", "inputs", "scripts", "testdata");
const MARK = `E2E_MARK=${process.pid}-${Date.now()}`;
const SCRIPTS = { component_id: "scripts", component_type: "scripts" };

/** A Nagios plugin: WARNING (exit 1) with perfdata in MB and %. */
const DISK_SH = `#!/bin/sh
echo "DISK WARNING - free space: / 3326 MB (56%) | /=2643MB;5948;5958;0;5968"
echo "inode use ok | inodes=12%;80;90"
exit 1
`;

/** A script printing Prometheus text. */
const QUEUE_SH = `#!/bin/sh
printf '# TYPE e2e_queue_depth gauge\\ne2e_queue_depth{queue="mail"} 7\\n'
`;

/** One hung run: marks its processes with RUN_MARK, then becomes fork_ignore_term.sh (pids in pids.$$). */
const HANG_SH = `#!/bin/sh
export RUN_MARK=$$
PIDFILE="$DIR/pids.$$" exec ${join(TESTDATA, "fork_ignore_term.sh")}
`;

/** Defines one metric; its data run prints a good line, a bad value, an unknown id, then hangs. */
const BROKEN_SH = `#!/bin/sh
if [ "$1" = "-c" ]; then
  echo '{"metrics":[{"id":1,"name":"X","datatype":"DOUBLE","calctype":"Instant"}]}'
else
  echo "M1 1"; echo "M1 abc"; echo "M7 2"; exec sleep 30
fi
`;

describe("e2e: scripts against dist/tally", () => {
  let dir: string;
  let tally: RunningTally | undefined;

  before(async () => {
    assert.ok(existsSync(TALLY), "dist/tally is missing: run `npm run build` first");
    dir = mkdtempSync(join(tmpdir(), "tally-e2e-scripts-"));
    // Scripts run as nobody when the tests run as root: they must read the scripts and write here.
    chmodSync(dir, 0o777);
    for (const [name, text] of [["disk.sh", DISK_SH], ["queue.sh", QUEUE_SH], ["hang.sh", HANG_SH]]) {
      writeFileSync(join(dir, name!), text!, { mode: 0o755 });
    }
    const testdata = (name: string) => join(TESTDATA, name);
    const scripts = [
      { command: testdata("bash_example.sh") },
      { command: `python3 ${testdata("python_example.py")}` },
      { command: testdata("node_example.js") },
      { command: testdata("counting.sh"), env: { STATE: join(dir, "counting.state") } },
      { command: testdata("restart_events.sh") },
      { command: join(dir, "disk.sh"), id: "disk", format: "nagios" },
      { command: join(dir, "queue.sh"), id: "queue", format: "prometheus" },
      {
        command: join(dir, "hang.sh"),
        id: "hang",
        format: "prometheus",
        period: "3s",
        timeout: "2s",
        env: { DIR: dir },
      },
    ];
    const config = [
      "[agent]",
      'flush_interval = "1s"',
      "workers = 1",
      "[inputs.scripts]",
      'type = "scripts"',
      'min_period = "1s"',
      `env = { E2E_MARK = ${JSON.stringify(MARK.slice("E2E_MARK=".length))} }`,
      ...scripts.map((script) => `[[inputs.scripts.scripts]]\n${tomlPairs({ period: "1s", ...script })}`),
    ].join("\n");
    const file = join(dir, "tally.toml");
    writeFileSync(file, config + "\n");
    tally = await spawnTally({ shape: "binary", statsd: [], args: ["-c", file] });
  });

  after(async () => {
    await tally?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("a script that forks and ignores SIGTERM is gone by its limit while the others keep flushing", async () => {
    const url = tally!.url;
    const timeouts = metricKey("tally_script_timeouts_total", {
      component_id: "scripts",
      mode: "data",
      script: "hang",
    });
    // counting.sh's first value is only its running total's baseline: a hung run that began before it was
    // stored could span a single window of counting.sh's increases, flushed after the run was counted. So
    // watch a hung run that starts once the baseline is stored (hang.sh runs every 3 s).
    const baselineMs = await waitFor(
      async () => (await query(url, "bytes_in_bytes")).length > 0 ? Date.now() : undefined,
      {
        timeoutMs: 4000,
        what: "counting.sh's first value stored",
      },
    );
    // A hung run whose processes are all still there (it has not reached its limit yet).
    const run = await waitFor(() => {
      for (const name of readdirSync(dir)) {
        if (!name.startsWith("pids.")) continue;
        const path = join(dir, name);
        if (statSync(path).mtimeMs < baselineMs) continue;
        const pids = readFileSync(path, "utf8").trim().split(/\s+/).map(Number);
        const marked = liveWithEnv(`RUN_MARK=${name.slice("pids.".length)}`);
        if (pids.length === 4 && pids.every((pid) => marked.includes(pid))) {
          return { pids, marked, startedMs: statSync(path).mtimeMs, mark: `RUN_MARK=${name.slice(5)}` };
        }
      }
      return undefined;
    }, { timeoutMs: 5000, what: "a hung run of hang.sh that began after counting.sh's baseline" });
    // The script, its background sleep, the subshell (bash execs its sleep) and the setsid'd sleep.
    assert.equal(run.marked.length, 4, `the run's processes: ${run.marked.join(" ")}`);
    // Read while this run is still whole, so that only its own timeout counts (an earlier run's was
    // counted before it began).
    const timeoutsBefore = (await scrape(url)).get(timeouts) ?? 0;

    await waitFor(async () => ((await scrape(url)).get(timeouts) ?? 0) > timeoutsBefore, {
      timeoutMs: 4000,
      what: "the hung run to be counted as timed out",
    });
    const killedMs = Date.now();
    // Counted only once the sandbox saw the whole group (and the escaped session) gone.
    assert.deepEqual(liveWithEnv(run.mark), [], "nothing of the run is left once its timeout is counted");

    // The counting script went on: windows that closed while hang.sh hung (about two) were flushed with
    // its values.
    const points = await waitFor(async () => {
      const series = await query(url, "bytes_in_bytes");
      // The series' first point is its baseline (a running total's first value adds 0): not a window of
      // counting.sh's increases, so it is left out.
      const closed = series[0]?.points.slice(1).filter((p) =>
        p.t + 1000 >= run.startedMs && p.t + 1000 <= killedMs
      );
      return closed !== undefined && closed.length > 0 ? closed : undefined;
    }, { timeoutMs: 3000, what: "a window of counting.sh flushed while hang.sh hung" });
    assert.ok(points.every((p) => p.value > 0 && p.value % 5 === 0), JSON.stringify(points));
  });

  it("CoScale scripts in bash, python3 and node reach /metrics and the store", async () => {
    const values = await waitForValues(tally!, [
      [metricKey("port_open", { group: "Network", script: "bash_example" }), 0],
      [metricKey("server_time_hours", { group: "Time", script: "python_example" }), 9],
      [metricKey("server_time_minutes", { group: "Time", script: "python_example" }), 7],
      [metricKey("certificate_days_left", { group: "Web,Security/TLS", script: "python_example" }), -1],
      [metricKey("random", { group: "Random", script: "node_example" }), 0.7134250217139325],
      [metricKey("tiny", { group: "Random", script: "node_example" }), 1.2e-7],
    ]);
    // bash_example's "M1 " (a failed ping) has no value: no series at all.
    assert.equal([...values.keys()].some((key) => key.startsWith("ping_time")), false);
    for (
      const [name, script, value] of [
        ["port_open", "bash_example", 0],
        ["server_time_hours", "python_example", 9],
        ["random", "node_example", 0.7134250217139325],
      ] as const
    ) {
      const series = await query(tally!.url, name);
      assert.equal(series.length, 1);
      assert.equal(series[0]!.labels.script, script);
      assert.equal(series[0]!.points.at(-1)!.value, value);
    }
  });

  it("Difference metrics are stored as window deltas, /metrics shows the raw total", async () => {
    const { series, total } = await waitFor(async () => {
      const total = (await scrape(tally!.url)).get(
        metricKey("bytes_in_bytes_total", { interface: "eth0", script: "counting" }),
      );
      const series = await query(tally!.url, "bytes_in_bytes");
      const points = series[0]?.points ?? [];
      // Both read between the same two flushes: the store's last total is the one /metrics shows.
      return points.length >= 3 && points.at(-1)!.fields?.total === total ? { series, total } : undefined;
    }, { timeoutMs: 4000, what: "three windows of counting.sh" });
    assert.equal(series[0]!.kind, "cumulative");
    let previous = 105; // the first run's value is only the baseline
    for (const point of series[0]!.points) {
      const pointTotal = point.fields?.total ?? Number.NaN;
      assert.equal(point.value, pointTotal - previous, JSON.stringify(series[0]!.points));
      assert.equal(point.value % 5, 0);
      previous = pointTotal;
    }
    assert.equal(series[0]!.points.reduce((sum, p) => sum + p.value, 0), total! - 105);
    assert.equal((await scrape(tally!.url)).get(metricKey("load", { script: "counting" })), 0.5);
  });

  it("CoScale events reach /api/v1/events: now, relative and absolute times, unescaped JSON attributes", async () => {
    const events = await waitFor(async () => {
      const response = await fetch(`${tally!.url}/api/v1/events?since=1458345000&limit=1000`);
      const body = (await response.json()) as { events: StoredEvent[] };
      const found = {
        counted: body.events.find((e) => e.title === "Counted" && e.labels.script === "counting"),
        restarted: body.events.find((e) => e.text === "Apache restarted"),
        deploy: body.events.find((e) => e.text === "Deploy"),
      };
      return Object.values(found).every((e) => e !== undefined) ? found : undefined;
    }, { timeoutMs: 4000, what: "the events of counting.sh and restart_events.sh" });
    assert.match(events.counted!.text, /^run \d+$/);
    assert.equal(events.restarted!.title, "Apache restarts");
    assert.equal(events.restarted!.labels.script, "restart_events");
    assert.equal(events.deploy!.t, 1458345600_000);
  });

  it("a Nagios plugin and a Prometheus-format script reach /metrics and the event log", async () => {
    await waitForValues(tally!, [
      [metricKey("nagios_status", { script: "disk" }), 1],
      [metricKey("nagios_perfdata_bytes", { label: "/", script: "disk" }), 2643 * 1024 * 1024],
      [metricKey("nagios_perfdata_percent", { label: "inodes", script: "disk" }), 12],
      [metricKey("e2e_queue_depth", { queue: "mail", script: "queue" }), 7],
    ]);
    const response = await fetch(`${tally!.url}/api/v1/events?since=5m&limit=1000`);
    const { events } = (await response.json()) as { events: StoredEvent[] };
    const check = events.find((e) => e.kind === "service_check" && e.labels.script === "disk");
    assert.equal(check?.status, 1);
    assert.equal(check?.text, "DISK WARNING - free space: / 3326 MB (56%)\ninode use ok");
    const depth = await query(tally!.url, "e2e_queue_depth");
    assert.equal(depth[0]!.points.at(-1)!.value, 7);
  });

  it("lines and bad lines are counted per script on /metrics", async () => {
    const values = await scrape(tally!.url);
    const bashLabels = { ...SCRIPTS, script: "bash_example" };
    const bad = values.get(metricKey("tally_bad_lines_total", { ...bashLabels, reason: "no_value" })) ?? 0;
    assert.ok(bad > 0, "bash_example's M1 without a value");
    // Two lines a run, one of them bad: both counters move in the same flush.
    assert.equal(values.get(metricKey("tally_component_received_events_total", bashLabels)), 2 * bad);
    assert.equal(
      values.get(metricKey("tally_component_errors_total", { ...bashLabels, error_type: "bad_line" })),
      bad,
    );
    const nodeLabels = { ...SCRIPTS, script: "node_example" };
    assert.ok((values.get(metricKey("tally_component_received_events_total", nodeLabels)) ?? 0) >= 2);
    assert.equal(
      values.get(metricKey("tally_component_errors_total", { ...nodeLabels, error_type: "bad_line" })),
      0,
    );
    const badNode = [...values.keys()].filter((key) =>
      key.startsWith("tally_bad_lines_total{") && key.includes('script="node_example"')
    );
    assert.deepEqual(badNode, []);
    // The input-level series (no script label) carries none of the lines.
    assert.equal(values.get(metricKey("tally_component_received_events_total", SCRIPTS)), 0);
  });

  it("stopping tally leaves no script process behind", async () => {
    // Stop in the middle of a hung run (runs take 2 s of every 3 s), so that stop has to end it.
    await waitFor(() => liveWithEnv(MARK).length >= 4, { timeoutMs: 3000, what: "a hung run of hang.sh" });
    const exit = await tally!.stop();
    tally = undefined;
    assert.equal(exit.code, 0);
    assert.equal(exit.killed, false);
    assert.deepEqual(liveWithEnv(MARK), [], "no process any script started is alive");
  });
});

describe("e2e: tally script check", () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tally-e2e-check-"));
    chmodSync(dir, 0o777);
    writeFileSync(join(dir, "broken.sh"), BROKEN_SH, { mode: 0o755 });
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it("exits 0 on a clean script and prints its definitions and values", () => {
    const check = spawnSync(TALLY, ["script", "check", join(TESTDATA, "lvs_check.sh")], {
      encoding: "utf8",
      timeout: 10_000,
    });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /^ {2}0 {3}Thin pool size {2}b {5}DOUBLE/m);
    assert.match(
      check.stdout,
      /thin_pool_size_bytes .*logical_volume=thinpool, volume_group=vg0 +107374182400 +gauge/,
    );
    assert.match(check.stdout, /Script is clean: 2 value\(s\), 0 event\(s\)/);
  });

  it("exits 1 on a script with rejected lines and names each with its line number", () => {
    const check = spawnSync(TALLY, ["script", "check", join(TESTDATA, "id_mismatch.sh")], {
      encoding: "utf8",
      timeout: 10_000,
    });
    assert.equal(check.status, 1, check.stdout + check.stderr);
    assert.match(check.stdout, /line 3: unknown_id: Metric id 3 is not defined/);
  });

  it("exits 2 on a script killed at its limit, and still lists its rejected lines by number", () => {
    const check = spawnSync(TALLY, ["script", "check", join(dir, "broken.sh"), "--timeout", "1s"], {
      encoding: "utf8",
      timeout: 10_000,
    });
    assert.equal(check.status, 2, check.stdout + check.stderr);
    assert.match(check.stdout, /line 2: bad_value: Value "abc" of metric 1/);
    assert.match(check.stdout, /line 3: unknown_id: Metric id 7 is not defined/);
    assert.match(check.stdout + check.stderr, /unusable: it was killed at its 1000 ms limit/);
  });
});

interface StoredEvent {
  readonly t: number;
  readonly kind: string;
  readonly title: string;
  readonly text: string;
  readonly status: number;
  readonly labels: Record<string, string>;
}

interface StoredSeries {
  readonly labels: Record<string, string>;
  readonly kind: string;
  readonly points: ReadonlyArray<
    { readonly t: number; readonly value: number; readonly fields?: Record<string, number> }
  >;
}

/** Renders flat key/value pairs (strings and string tables) as TOML lines. */
function tomlPairs(table: Readonly<Record<string, string | Readonly<Record<string, string>>>>): string {
  return Object.entries(table).map(([key, value]) =>
    typeof value === "string"
      ? `${key} = ${JSON.stringify(value)}`
      : `${key} = { ${Object.entries(value).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(", ")} }`
  ).join("\n");
}

/** The live (not zombie) processes whose environment holds `entry` (`NAME=VALUE`), read from /proc. */
function liveWithEnv(entry: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "latin1");
      const state = stat.charAt(stat.lastIndexOf(")") + 2);
      if (state === "Z" || state === "X") continue;
      if (readFileSync(`/proc/${name}/environ`, "latin1").split("\0").includes(entry)) {
        pids.push(Number(name));
      }
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

async function query(url: string, name: string): Promise<StoredSeries[]> {
  const response = await fetch(`${url}/api/v1/query?name=${encodeURIComponent(name)}&since=5m`);
  assert.equal(response.status, 200);
  return ((await response.json()) as { series: StoredSeries[] }).series;
}

async function waitForValues(
  tally: RunningTally,
  wanted: ReadonlyArray<readonly [string, number]>,
): Promise<MetricValues> {
  let last: MetricValues = new Map();
  return await waitFor(async () => {
    last = await scrape(tally.url);
    return wanted.every(([key, value]) => last.get(key) === value) ? last : undefined;
  }, { timeoutMs: 4000, what: "the scripts' values on /metrics" }).catch((error: unknown) => {
    const found = wanted.map(([key, value]) => `${key}: ${last.get(key)} (want ${value})`).join("\n");
    throw new Error(`${found}\n${tally.stderr()}`, { cause: error });
  });
}
