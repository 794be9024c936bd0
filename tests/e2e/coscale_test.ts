/**
 * The CoScale-compatible API (`src/inputs/coscale_api/`) against the compiled binary, with CoScale's own
 * clients' requests: the README's examples as written; the CoScale CLI's requests, reproduced shape for shape
 * (`tests/harness/coscale_cli.ts`), for `metric new`, `metric dimension new`, `data insert`, `event new`,
 * `newdata` and `updatedata`, across a restart (sessions forgotten, definitions kept); the CoScale statsd
 * backend's requests from inside a real Etsy statsd (`tests/harness/coscale_statsd.ts`), across a restart;
 * and a `kill -9` right after `data/`'s 200. Values are read back exactly from `/metrics`, `tally query` and
 * the event log.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createSocket } from "node:dgram";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { CoscaleCli } from "../harness/coscale_cli.ts";
import { startCoscaleStatsd } from "../harness/coscale_statsd.ts";
import { freePort } from "../harness/free_port.ts";
import { metricKey, parsePrometheusText } from "../harness/scrape.ts";
import { REPO_ROOT, spawnTally } from "../harness/spawn_tally.ts";
import type { RunningTally } from "../harness/spawn_tally.ts";
import { waitFor } from "../harness/wait_for.ts";

const TALLY = join(REPO_ROOT, "dist", "tally");
const README = readFileSync(join(REPO_ROOT, "src", "inputs", "coscale_api", "README.md"), "utf8");
const TOKEN = "e2e-s3cret";
const APP = "0b8f3c9e-1111-4c4c-9a9a-123456789abc";
const dirs: string[] = [];

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tally-e2e-coscale-"));
  dirs.push(dir);
  return dir;
}

/** A config file with the token and the default inputs tally runs without one (no StatsD: not needed). */
function tokenConfig(): string {
  const file = join(tempDir(), "tally.toml");
  writeFileSync(
    file,
    `[http]\ntoken = "${TOKEN}"\n[inputs.http]\ntype = "http"\n[inputs.coscale_api]\ntype = "coscale_api"\n`,
  );
  return file;
}

/** A tally with the token on a data directory and port of its own, restartable on both. */
interface TokenTally {
  readonly dataDir: string;
  readonly httpPort: number;
  /** Starts tally there, flushing every `flush`. */
  start(flush?: string): Promise<RunningTally>;
}

async function tokenTally(): Promise<TokenTally> {
  const dataDir = tempDir();
  const config = tokenConfig();
  const httpPort = await freePort("tcp");
  return {
    dataDir,
    httpPort,
    start: (flush = "1s") =>
      spawnTally({ dataDir, httpPort, args: ["--config", config, "--flush-interval", flush], statsd: [] }),
  };
}

function bash(line: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync("bash", ["-c", line], { encoding: "utf8", timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `/metrics` with the bearer token, parsed. */
async function metrics(tally: RunningTally): Promise<Map<string, number>> {
  const res = await fetch(`${tally.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return parsePrometheusText(await res.text());
}

/** Waits until `/metrics` has every expected value, and says what it saw otherwise. */
async function waitForValues(tally: RunningTally, expected: ReadonlyMap<string, number>): Promise<void> {
  let seen = new Map<string, number>();
  try {
    await waitFor(async () => {
      seen = await metrics(tally);
      return [...expected].every(([key, value]) => seen.get(key) === value);
    }, { timeoutMs: 20_000, intervalMs: 200, what: "the CoScale values on /metrics" });
  } catch (error) {
    const shown = [...expected.keys()].map((key) => `${key} = ${seen.get(key)}`).join(", ");
    throw new Error(`Expected ${JSON.stringify([...expected])}, saw ${shown}`, { cause: error });
  }
}

/** `tally query NAME --json` on a data directory: each series' labels and values. */
function query(dataDir: string, name: string): Array<[Record<string, string>, number[]]> {
  const out = spawnSync(TALLY, ["query", name, "--data-dir", dataDir, "--since", "2h", "--json"], {
    encoding: "utf8",
  });
  assert.equal(out.status, 0, out.stderr);
  return (JSON.parse(out.stdout) as Array<
    { labels: Record<string, string>; points: Array<{ value: number }> }
  >)
    .map((s) => [s.labels, s.points.map((p) => p.value)]);
}

describe("e2e: the CoScale-compatible API against dist/tally", () => {
  it("the README's examples work as written and give the README's /metrics line", async (t) => {
    assert.ok(existsSync(TALLY), "dist/tally is missing: run `npm run build` first");
    if (bash("command -v curl").status !== 0) {
      t.skip("curl is not installed");
      return;
    }
    const section = README.slice(README.indexOf("## Try it"), README.indexOf("## Routes"));
    const [examples] = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
    const [printed] = [...section.matchAll(/```text\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
    const check = /`(curl -s 127\.0\.0\.1:8127\/metrics \| grep \^queue_depth)` shows\s+`([^`]+)`/.exec(
      section,
    );
    assert.ok(check, "the README names the /metrics check and its line");
    const tally = await spawnTally({ args: ["--flush-interval", "1s"] });
    try {
      const address = tally.url.replace("http://", "");
      const outputs = examples!.trim().split("\n").map((line) => {
        const run = bash(line.replaceAll("127.0.0.1:8127", address));
        assert.equal(run.status, 0, `${line}\n${run.stderr}`);
        return run.stdout;
      });
      assert.deepEqual(outputs, printed!.trim().split("\n"));
      const line = await waitFor(() => {
        const out = bash(check[1]!.replaceAll("127.0.0.1:8127", address)).stdout.trim();
        return out === check[2] ? out : undefined;
      }, { timeoutMs: 15_000, intervalMs: 250, what: "the README's /metrics line" }).catch(() =>
        bash(check[1]!.replaceAll("127.0.0.1:8127", address)).stdout.trim()
      );
      assert.equal(line, check[2]);
    } finally {
      await tally.stop();
    }
  });

  it("the CoScale CLI's requests work unchanged, across a restart that forgets the sessions", async () => {
    const place = await tokenTally();
    const { dataDir } = place;
    let tally = await place.start();
    try {
      const cli = new CoscaleCli(`${tally.url}/`, APP, TOKEN);
      const metric = await cli.metricNew("queue depth", "DOUBLE", "SERVER");
      assert.equal(metric.code, 0, metric.output);
      const metricId = (JSON.parse(metric.output) as { id: number }).id;
      const latency = await cli.metricNew("job latency", "HISTOGRAM", "APPLICATION");
      const latencyId = (JSON.parse(latency.output) as { id: number }).id;
      const dimension = await cli.dimensionNew("Queue", "queue depth");
      assert.equal(dimension.code, 0, dimension.output);
      const dimensionId = (JSON.parse(dimension.output) as { id: number }).id;
      assert.deepEqual(cli.log.slice(-3), [
        "POST /dimensions/ 200",
        "GET /metrics/?selectByName=queue+depth 200",
        `POST /metrics/${metricId}/dimensions/${dimensionId}/ 200`,
      ]);
      // What `data insert --data 'M<q>:S100:-60:1.2;M<q>:S100:0:1.1:{"Queue":"q1"};M<l>:A:0:[100,50,[1,2,3,4,5,6]]'`
      // makes of its data string, in its own spacing.
      const payload = `[{"m":${metricId}, "s":"S100", "d":[[-60,1.2]]},` +
        `{"m":${metricId}, "s":"S100", "d":[[0,1.1]],"dv":{"Queue":"q1"}},` +
        `{"m":${latencyId}, "s":"A", "d":[[0,[100,50,[1,2,3,4,5,6]]]]}]`;
      const inserted = await cli.dataInsert(payload);
      assert.deepEqual(inserted, { code: 0, output: '{"msg":"Inserted 3 data points"}' });

      assert.equal((await cli.eventNew("cron backup")).code, 0);
      const opened = await cli.eventNewData("cron backup", {
        message: "nightly backup",
        subject: "a",
        attribute: '{"exitCode":-1}',
        timestamp: -120,
      });
      assert.equal(opened.code, 0, opened.output);
      const dataId = (JSON.parse(opened.output) as { id: number; stopTime: null }).id;

      await waitForValues(
        tally,
        new Map([
          [metricKey("queue_depth", { Queue: "q1", subject: "s100" }), 1.1],
          [metricKey("job_latency", { percentile: "0", subject: "application" }), 1],
          [metricKey("job_latency", { percentile: "100", subject: "application" }), 6],
          [metricKey("job_latency_count_total", { subject: "application" }), 100],
        ]),
      );

      // tally restarts: the CLI's session is gone, so it gets a 401, logs in again and retries.
      await tally.stop();
      tally = await place.start();
      const again = await cli.metricNew("queue depth", "DOUBLE", "SERVER");
      assert.deepEqual(JSON.parse(again.output), JSON.parse(metric.output), "the metric, found by its name");
      assert.deepEqual(cli.log.slice(-4), [
        "POST /metrics/ 401",
        "POST /login/ 200",
        "POST /metrics/ 409",
        `GET /metrics/${metricId}/ 200`,
      ]);
      const closed = await cli.eventUpdateData("cron backup", dataId, {
        attribute: '{"exitCode":0}',
        stopTime: 0,
      });
      assert.equal(closed.code, 0, closed.output);
      const closedData = JSON.parse(closed.output) as {
        version: number;
        stopTime: number;
        timestamp: number;
      };
      assert.equal(closedData.version, 2);
      assert.ok(closedData.stopTime - closedData.timestamp >= 120, JSON.stringify(closedData));
      assert.equal((await cli.dataInsert(`[{"m":${metricId}, "s":"A", "d":[[0,7.5]]}]`)).code, 0);
      await waitForValues(tally, new Map([[metricKey("queue_depth", { subject: "application" }), 7.5]]));

      assert.deepEqual(query(dataDir, "queue depth"), [
        [{ Queue: "q1", subject: "s100" }, [1.1]],
        [{ subject: "application" }, [7.5]],
        [{ subject: "s100" }, [1.2]],
      ]);
      const events = spawnSync(TALLY, ["query", "--events", "--data-dir", dataDir, "--json"], {
        encoding: "utf8",
      });
      assert.equal(events.status, 0, events.stderr);
      const [event] = JSON.parse(events.stdout) as Array<
        { title: string; text: string; t: number; end: number; labels: Record<string, string> }
      >;
      assert.deepEqual([event?.title, event?.text, event?.labels], ["cron backup", "nightly backup", {
        exitCode: "0",
        subject: "application",
      }]);
      assert.ok(
        event!.end - event!.t >= 120_000,
        "the event spans from 120 s before it was opened to its close",
      );
    } finally {
      await tally.stop();
    }
  });

  it("the CoScale statsd backend, inside a real Etsy statsd, works unchanged, across a restart of tally", async () => {
    const place = await tokenTally();
    const { dataDir, httpPort } = place;
    let tally = await place.start();
    const statsd = await startCoscaleStatsd({
      apiPort: httpPort,
      accessToken: TOKEN,
      appId: APP,
      flushIntervalMs: 1000,
    });
    const udp = createSocket("udp4");
    const send = (lines: string) =>
      new Promise<void>((resolve, reject) =>
        udp.send(lines, statsd.port, "127.0.0.1", (error) => (error ? reject(error) : resolve()))
      );
    const host = hostname();
    try {
      await send(
        "api.db.latency:10|ms\napi.db.latency:40|ms\napi.db.latency:20|ms\napi.db.latency:30|ms\n" +
          "jobs.done:5|c\nqueue.depth:42|g",
      );
      // Timers as [n, 10, [v(0), v(10), … v(90), v(95), v(99), v(100)]] of the sorted values 10, 20, 30, 40.
      const latency = (p: string, value: number): [string, number] => [
        metricKey("StatsD_api_db_latency", { percentile: p, subject: host }),
        value,
      ];
      await waitForValues(
        tally,
        new Map([
          [metricKey("StatsD_queue_depth", { subject: host }), 42],
          [metricKey("StatsD_jobs_done", { subject: host }), 5],
          latency("0", 10),
          latency("20", 10),
          latency("30", 20),
          latency("50", 30),
          latency("99", 40),
          latency("100", 40),
          [metricKey("StatsD_api_db_latency_count_total", { subject: host }), 4],
        ]),
      );
      const catalog = async (path: string) =>
        await (await fetch(`${tally.url}/api/v1/app/${APP}/${path}`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        })).json() as Array<{ id: number; name: string; parentId?: number | null; dataType?: string }>;
      const groups = await catalog("metricgroups/");
      const root = groups.find((g) => g.name === "StatsD" && g.parentId === null);
      const api = groups.find((g) => g.name === "api" && g.parentId === root?.id);
      const db = groups.find((g) => g.name === "db" && g.parentId === api?.id);
      assert.ok(db, `StatsD/api/db in ${JSON.stringify(groups)}`);
      const members = await catalog(`metricgroups/${db.id}/metrics/`);
      assert.deepEqual(members.map((m) => [m.name, m.dataType]), [["StatsD api.db.latency", "HISTOGRAM"]]);
      const servers = await catalog("servers/?selectByName=" + encodeURIComponent(host));
      assert.equal(servers.length, 1);

      // A restart: the backend's session is gone (401), it logs in again and resends, with its cached ids.
      await tally.stop();
      tally = await place.start();
      await send("queue.depth:43|g");
      await waitForValues(tally, new Map([[metricKey("StatsD_queue_depth", { subject: host }), 43]]));
      assert.match(statsd.output(), /POST data\/ 401[\s\S]*POST data\/ 200/);
      assert.equal((await catalog("servers/")).length, 1, "no second server after the restart");
      assert.deepEqual(
        query(dataDir, "StatsD queue.depth").map(([labels, values]) => [labels, values.at(-1)]),
        [
          [{ subject: host }, 43],
        ],
      );
      assert.doesNotMatch(statsd.output(), /not JSON|coscale backend: Error/);
    } finally {
      udp.close();
      await statsd.stop();
      await tally.stop();
    }
  });

  it("a kill -9 right after data/'s 200 loses nothing, and the restart finds the definitions", async () => {
    const place = await tokenTally();
    // A window of an hour: nothing is flushed before the kill, so the data must come from the inbox.
    const first = await place.start("1h");
    let second: RunningTally | undefined;
    try {
      const cli = new CoscaleCli(first.url, APP, TOKEN);
      const jobs = JSON.parse((await cli.metricNew("jobs", "COUNT", "APPLICATION")).output) as { id: number };
      const inserted = await cli.dataInsert(`[{"m":${jobs.id}, "s":"A", "d":[[0,2],[0,3]]}]`);
      assert.equal(inserted.code, 0, inserted.output);
      process.kill(first.pid, "SIGKILL");
      assert.equal((await first.exited).signal, "SIGKILL");
      second = await place.start();
      await waitForValues(second, new Map([[metricKey("jobs_total", { subject: "application" }), 5]]));
      cli.newProcess();
      const found = await cli.metricNew("jobs", "COUNT", "APPLICATION");
      assert.deepEqual(JSON.parse(found.output), jobs);
    } finally {
      await first.stop();
      await second?.stop();
    }
  });
});
