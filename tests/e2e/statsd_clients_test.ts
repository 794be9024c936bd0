/**
 * Real StatsD clients against the compiled binary: hot-shots (npm) over UDP and TCP, and Debian's
 * python3-statsd. Values are checked exactly on `/metrics` and through the query API; bad input is
 * counted while its neighbours are kept.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import StatsD from "hot-shots";
import { freePort } from "../harness/free_port.ts";
import { metricKey, scrape } from "../harness/scrape.ts";
import type { MetricValues } from "../harness/scrape.ts";
import { REPO_ROOT, spawnTally } from "../harness/spawn_tally.ts";
import type { RunningTally } from "../harness/spawn_tally.ts";
import { waitFor } from "../harness/wait_for.ts";

const DEBIAN_PYTHON = "/usr/bin/python3";
const FLUSH_MS = 1000;

describe("e2e: StatsD clients against dist/tally", () => {
  let tally: RunningTally;
  let udpPort: number;
  let tcpPort: number;

  before(async () => {
    assert.ok(
      existsSync(join(REPO_ROOT, "dist", "tally")),
      "dist/tally is missing: run `npm run build` first",
    );
    udpPort = await freePort("udp");
    tcpPort = await freePort("tcp");
    tally = await spawnTally({
      shape: "binary",
      statsd: [`udp:127.0.0.1:${udpPort}`, `tcp:127.0.0.1:${tcpPort}`],
      args: ["--flush-interval", "1s", "--workers", "2"],
    });
  });

  after(async () => {
    await tally?.stop();
  });

  it("hot-shots counters, gauges, sets and timers arrive exactly", async () => {
    const client = new StatsD({
      host: "127.0.0.1",
      port: udpPort,
      maxBufferSize: 1400,
      bufferFlushInterval: 20,
    });
    // Sets and quantiles are per window: send them together right after a window opens.
    await atStartOfWindow();
    for (let i = 1; i <= 100; i++) client.timing("hs.latency", i);
    for (let i = 0; i < 370; i++) client.set("hs.users", `user${i % 37}`);
    for (let i = 0; i < 500; i++) client.increment("hs.requests");
    for (let i = 0; i < 50; i++) client.increment("hs.bytes", 7, { env: "prod", region: "eu" });
    client.gauge("hs.temperature", 21.5);
    client.histogram("hs.size", 42, ["env:prod"]);
    await closeClient(client);

    const values = await waitForValue(tally, metricKey("hs_requests_total"), 500);
    assert.equal(values.get(metricKey("hs_bytes_total", { env: "prod", region: "eu" })), 350);
    assert.equal(values.get(metricKey("hs_temperature")), 21.5);
    assert.equal(values.get(metricKey("hs_latency_count")), 100);
    assert.equal(values.get(metricKey("hs_latency_sum")), 5050);
    assert.equal(values.get(metricKey("hs_latency", { quantile: "0.5" })), 50);
    assert.equal(values.get(metricKey("hs_latency", { quantile: "0.9" })), 90);
    assert.equal(values.get(metricKey("hs_latency", { quantile: "0.99" })), 99);
    assert.equal(values.get(metricKey("hs_size_count", { env: "prod" })), 1);

    const users = await queryApi(tally, "hs.users");
    assert.equal(users.length, 1);
    assert.ok(
      users[0]!.points.some((p) => p.value === 37),
      `a window with 37 distinct users: ${JSON.stringify(users)}`,
    );
    const requests = await queryApi(tally, "hs.requests");
    assert.equal(requests[0]!.points.reduce((sum, p) => sum + p.value, 0), 500, "the stored deltas add up");
  });

  it("hot-shots over TCP arrives exactly", async () => {
    const client = new StatsD({ host: "127.0.0.1", port: tcpPort, protocol: "tcp" });
    for (let i = 0; i < 200; i++) client.increment("hs.tcp.hits", 2);
    client.gauge("hs.tcp.level", 9);
    await closeClient(client);
    const values = await waitForValue(tally, metricKey("hs_tcp_hits_total"), 400);
    assert.equal(values.get(metricKey("hs_tcp_level")), 9);
  });

  it("python3-statsd (Debian) counters, gauge deltas, sets and timers arrive exactly", async (t) => {
    if (!hasPythonStatsd()) {
      t.skip("Debian python3-statsd is not installed (.ci/run installs it)");
      return;
    }
    await atStartOfWindow();
    const script = `
import statsd
c = statsd.StatsClient("127.0.0.1", ${udpPort}, prefix="py")
for _ in range(300):
    c.incr("hits")
c.incr("weighted", 3, rate=1)
c.gauge("level", 5)
c.gauge("level", 3, delta=True)
c.gauge("level", -1, delta=True)
with c.pipeline() as p:
    for i in range(1, 11):
        p.timing("query", i * 10)
    for member in ["a", "b", "c", "a"]:
        p.set("visitors", member)
t = statsd.TCPStatsClient("127.0.0.1", ${tcpPort}, prefix="py")
t.incr("tcp_hits", 11)
t.close()
`;
    const run = spawnSync(DEBIAN_PYTHON, ["-c", script], { encoding: "utf8", timeout: 10_000 });
    assert.equal(run.status, 0, run.stderr);
    const values = await waitForValue(tally, metricKey("py_hits_total"), 300);
    assert.equal(values.get(metricKey("py_weighted_total")), 3);
    assert.equal(values.get(metricKey("py_level")), 7);
    assert.equal(values.get(metricKey("py_query_count")), 10);
    assert.equal(values.get(metricKey("py_query_sum")), 550);
    assert.equal(values.get(metricKey("py_query", { quantile: "0.5" })), 50);
    assert.equal(values.get(metricKey("py_query", { quantile: "0.9" })), 90);
    await waitForValue(tally, metricKey("py_tcp_hits_total"), 11);
    const visitors = await queryApi(tally, "py.visitors");
    assert.ok(visitors[0]!.points.some((p) => p.value === 3), JSON.stringify(visitors));
  });

  it("DogStatsD events and service checks from hot-shots reach /api/v1/events", async () => {
    const client = new StatsD({ host: "127.0.0.1", port: udpPort });
    client.event("Deploy finished", "web 1.2.3\nall green", { alert_type: "success", hostname: "web1" }, [
      "env:prod",
    ]);
    client.check("hs.service.up", client.CHECKS.WARNING, { hostname: "web1", message: "slow" }, ["env:prod"]);
    await closeClient(client);
    const events = await waitFor(async () => {
      const response = await fetch(`${tally.url}/api/v1/events?since=5m`);
      const body = (await response.json()) as {
        events: Array<
          { kind: string; title: string; text: string; status: number; labels: Record<string, string> }
        >;
      };
      return body.events.length >= 2 ? body.events : undefined;
    }, { timeoutMs: 10_000, what: "two events in the store" });
    const deploy = events.find((e) => e.kind === "event");
    assert.equal(deploy?.title, "Deploy finished");
    assert.equal(deploy?.text, "web 1.2.3\nall green");
    assert.equal(deploy?.labels.env, "prod");
    assert.equal(deploy?.labels.alert_type, "success");
    const check = events.find((e) => e.kind === "service_check");
    assert.equal(check?.title, "hs.service.up");
    assert.equal(check?.status, 1);
    assert.equal(check?.text, "slow");
    await waitForValue(tally, metricKey("hs_service_up", { env: "prod" }), 1);
  });

  it("a live /metrics page passes promtool check metrics", async (t) => {
    if (spawnSync("promtool", ["--version"]).status !== 0) {
      t.skip("promtool (Debian prometheus) is not installed (.ci/run installs it)");
      return;
    }
    const text = await (await fetch(`${tally.url}/metrics`)).text();
    assert.match(text, /hs_requests_total|tally_component_received_events_total/);
    const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.equal(check.stdout.trim() + check.stderr.trim(), "", "no lint findings");
  });

  it("bad input is counted, its neighbours are kept, and the process stays up", async () => {
    const before = await scrape(tally.url);
    const badBefore = sumMatching(before, "tally_bad_lines_total");
    const socket = createSocket("udp4");
    const send = (bytes: Uint8Array) =>
      new Promise<void>((resolve, reject) =>
        socket.send(bytes, udpPort, "127.0.0.1", (e) => (e ? reject(e) : resolve()))
      );
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    // Random bytes: 20 datagrams with no newline, so each is exactly one bad line at most.
    let randomBad = 0;
    for (let i = 0; i < 20; i++) {
      const bytes = new Uint8Array(200);
      for (let j = 0; j < bytes.length; j++) bytes[j] = 0x80 + Math.floor(random() * 0x7f); // invalid UTF-8 soup
      await send(bytes);
      randomBad++;
    }
    // Truncated lines and an invalid UTF-8 line between good neighbours, in one datagram.
    const enc = new TextEncoder();
    const mixed = new Uint8Array([
      ...enc.encode("bad.neighbour:1|c\nbad.trunc:\nbad.trunc2:1|\nbad.neighbour:1|c\n"),
      ...[0x62, 0xff, 0xfe, 0x3a, 0x31, 0x7c, 0x63, 0x0a], // "b\xff\xfe:1|c\n"
      ...enc.encode("bad.neighbour:1|c\nbad.type:1|zz\n"),
    ]);
    await send(mixed);
    // One datagram near the 64 KiB limit: 3640 good lines of 18 bytes.
    const line = "big.packet.ok:1|c\n";
    const lines = Math.floor(65_000 / line.length);
    await send(enc.encode(line.repeat(lines)));
    socket.close();

    const values = await waitForValue(tally, metricKey("big_packet_ok_total"), lines);
    await waitForValue(tally, metricKey("bad_neighbour_total"), 3);
    const bad = sumMatching(await waitForBad(tally, badBefore + randomBad + 4), "tally_bad_lines_total") -
      badBefore;
    assert.equal(bad, randomBad + 4, "20 random datagrams + 2 truncated + 1 invalid UTF-8 + 1 unknown type");
    assert.ok(values.size > 0);
    const ready = await fetch(`${tally.url}/readyz`);
    assert.equal(ready.status, 200, "still alive and ready");
  });
});

describe("e2e: SIGTERM flushes the last window and exits 0", () => {
  it("dist/tally stores what arrived just before SIGTERM", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "tally-e2e-shutdown-"));
    const tally = await spawnTally({ shape: "binary", dataDir, args: ["--flush-interval", "10s"] });
    const client = new StatsD({ host: "127.0.0.1", port: tally.statsdPort! });
    for (let i = 0; i < 25; i++) client.increment("last.window");
    await closeClient(client);
    // The window is 10 s long: only the final flush on shutdown can store these.
    await waitFor(
      async () => sumMatching(await scrape(tally.url), "tally_component_received_bytes_total") > 0,
      {
        what: "the datagrams to arrive",
      },
    );
    const started = Date.now();
    const exit = await tally.stop();
    assert.equal(exit.code, 0, tally.stderr());
    assert.equal(exit.killed, false);
    assert.ok(Date.now() - started < 5000, "stopped within the 5 s bound");
    const query = spawnSync(join(REPO_ROOT, "dist", "tally"), [
      "query",
      "last.window",
      "--data-dir",
      dataDir,
      "--json",
    ], {
      encoding: "utf8",
    });
    rmSync(dataDir, { recursive: true, force: true });
    assert.equal(query.status, 0, query.stderr);
    const series = JSON.parse(query.stdout) as Array<{ points: Array<{ value: number }> }>;
    assert.equal(series[0]!.points.reduce((sum, p) => sum + p.value, 0), 25);
  });
});

describe("e2e: the esbuild bundle under Deno", () => {
  it("deno run -A dist/tally.mjs takes StatsD and serves exact /metrics", async () => {
    assert.ok(
      existsSync(join(REPO_ROOT, "dist", "tally.mjs")),
      "dist/tally.mjs is missing: run `npm run build` first",
    );
    const tally = await spawnTally({ shape: "bundle", args: ["--flush-interval", "1s", "--workers", "1"] });
    try {
      const client = new StatsD({ host: "127.0.0.1", port: tally.statsdPort!, maxBufferSize: 1000 });
      for (let i = 0; i < 120; i++) client.increment("deno.hits");
      client.gauge("deno.gauge", 3.25);
      for (let i = 1; i <= 10; i++) client.timing("deno.timer", i);
      await closeClient(client);
      const values = await waitForValue(tally, metricKey("deno_hits_total"), 120);
      assert.equal(values.get(metricKey("deno_gauge")), 3.25);
      await waitForValue(tally, metricKey("deno_timer_count"), 10);
    } finally {
      const exit = await tally.stop();
      assert.equal(exit.code, 0, tally.stderr());
    }
  });
});

async function waitForValue(tally: RunningTally, key: string, want: number): Promise<MetricValues> {
  let last: number | undefined;
  return await waitFor(async () => {
    const values = await scrape(tally.url);
    last = values.get(key);
    return last === want ? values : undefined;
  }, { timeoutMs: 10_000, what: `${key} to reach ${want}` }).catch((error: unknown) => {
    throw new Error(`${key} is ${last}, expected ${want}\n${tally.stderr()}`, { cause: error });
  });
}

async function waitForBad(tally: RunningTally, atLeast: number): Promise<MetricValues> {
  return await waitFor(async () => {
    const values = await scrape(tally.url);
    return sumMatching(values, "tally_bad_lines_total") >= atLeast ? values : undefined;
  }, { timeoutMs: 10_000, what: "bad lines to be counted" });
}

function sumMatching(values: MetricValues, name: string): number {
  let sum = 0;
  for (const [key, value] of values) if (key === name || key.startsWith(`${name}{`)) sum += value;
  return sum;
}

interface QueriedSeries {
  readonly points: ReadonlyArray<{ readonly value: number }>;
}

async function queryApi(tally: RunningTally, name: string): Promise<QueriedSeries[]> {
  return await waitFor(async () => {
    const response = await fetch(`${tally.url}/api/v1/query?name=${encodeURIComponent(name)}&since=5m`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as { series: QueriedSeries[] };
    return body.series.length > 0 ? body.series : undefined;
  }, { timeoutMs: 10_000, what: `series "${name}" in the store` });
}

/** Waits until the current 1 s window is young, so a burst of sends lands in one window. */
async function atStartOfWindow(): Promise<void> {
  for (;;) {
    const into = Date.now() % FLUSH_MS;
    if (into >= 50 && into < 300) return;
    await new Promise((resolve) => setTimeout(resolve, into < 50 ? 50 - into : FLUSH_MS - into + 60));
  }
}

function closeClient(client: InstanceType<typeof StatsD>): Promise<void> {
  return new Promise((resolve, reject) => client.close((error) => (error ? reject(error) : resolve())));
}

function hasPythonStatsd(): boolean {
  return spawnSync(DEBIAN_PYTHON, ["-c", "import statsd"]).status === 0;
}
