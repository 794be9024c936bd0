/**
 * The http input against the compiled binary: the README's curl examples run as written (against the
 * address of the tally started here) and give exactly the `/metrics` lines the README shows; a `kill -9`
 * right after the 2xx of every push route loses nothing (restart on the same data directory, the values are
 * in `tally query` and on `/metrics`); a non-loopback HTTP address without a token is refused at start
 * unless `--insecure`; a token guards the push routes.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../harness/free_port.ts";
import { metricKey, scrape } from "../harness/scrape.ts";
import { REPO_ROOT, spawnTally } from "../harness/spawn_tally.ts";
import type { RunningTally } from "../harness/spawn_tally.ts";
import { waitFor } from "../harness/wait_for.ts";

const TALLY = join(REPO_ROOT, "dist", "tally");
const README = readFileSync(join(REPO_ROOT, "src", "inputs", "http", "README.md"), "utf8");
const TOP_README = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
const dirs: string[] = [];

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "tally-e2e-http-"));
  dirs.push(dir);
  return dir;
}

/** The fenced blocks of a kind in the README's "Routes" section, in order. */
function blocks(kind: string): string[] {
  const routes = README.slice(README.indexOf("## Routes"), README.indexOf("### `POST /api/v1/push`"));
  return [...routes.matchAll(new RegExp("```" + kind + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1] ?? "");
}

function bash(line: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync("bash", ["-c", line], { encoding: "utf8", timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function post(url: string, path: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}${path}`, { method: "POST", body, headers });
  return { status: res.status, text: await res.text() };
}

describe("e2e: http input against dist/tally", () => {
  it("the README's curl examples work as written and give the README's /metrics lines", async (t) => {
    assert.ok(existsSync(TALLY), "dist/tally is missing: run `npm run build` first");
    if (bash("command -v curl && command -v gzip").status !== 0) {
      t.skip("curl or gzip is not installed");
      return;
    }
    const tally = await spawnTally({ args: ["--flush-interval", "1s"] });
    try {
      const address = tally.url.replace("http://", "");
      const [examples, readBack] = blocks("sh");
      const [expected] = blocks("text");
      const outputs: string[] = [];
      for (const line of examples!.trim().split("\n")) {
        const run = bash(line.replaceAll("127.0.0.1:8127", address));
        assert.equal(run.status, 0, `${line}\n${run.stderr}`);
        outputs.push(run.stdout);
      }
      assert.deepEqual(outputs, ['{"accepted":2}', "", "", "", '{"ids":[1]}', ""]);
      const shown = await waitFor(() => {
        const out = bash(readBack!.trim().replaceAll("127.0.0.1:8127", address)).stdout;
        return out === expected ? out : undefined;
      }, { timeoutMs: 15_000, intervalMs: 250, what: "the README's /metrics lines" }).catch(() =>
        bash(readBack!.trim().replaceAll("127.0.0.1:8127", address)).stdout
      );
      assert.equal(shown, expected);
    } finally {
      await tally.stop();
    }
  });

  it("the top-level README's push examples work as written", async (t) => {
    if (bash("command -v curl").status !== 0) {
      t.skip("curl is not installed");
      return;
    }
    const section = TOP_README.slice(
      TOP_README.indexOf("## Pushing over HTTP"),
      TOP_README.indexOf("## Building"),
    );
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
    const tally = await spawnTally({ args: ["--flush-interval", "1s"] });
    try {
      const address = tally.url.replace("http://", "");
      const outputs = block.trim().split("\n").map((line) => {
        const run = bash(line.replaceAll("127.0.0.1:8127", address));
        assert.equal(run.status, 0, `${line}\n${run.stderr}`);
        return run.stdout;
      });
      assert.deepEqual(outputs, ['{"accepted":1}', "", '{"ids":[1]}']);
      const metrics = await waitFor(async () => {
        const values = await scrape(tally.url);
        return values.has(metricKey("room_temp_c", { floor: "2" })) ? values : undefined;
      }, { timeoutMs: 15_000, intervalMs: 250, what: "the pushed values on /metrics" });
      assert.equal(metrics.get(metricKey("builds_total", { branch: "main" })), 1);
      assert.equal(metrics.get(metricKey("room_temp_c", { floor: "2" })), 21.5);
    } finally {
      await tally.stop();
    }
  });

  it("a kill -9 right after every push route's 2xx loses nothing: the restart has the exact values", async () => {
    const dataDir = tempDir();
    // A window of an hour: nothing is flushed before the kill, so everything must come from the inbox.
    const first = await spawnTally({ dataDir, args: ["--flush-interval", "1h"] });
    const url = first.url;
    let second: RunningTally | undefined;
    try {
      const pushes: Array<[string, string, number]> = [
        [
          "/api/v1/push",
          JSON.stringify({
            metrics: [
              { name: "e2e.deploys", type: "counter", value: 2, labels: { env: "prod" } },
              { name: "e2e.deploys", type: "counter", value: 3, labels: { env: "prod" } },
              { name: "e2e.depth", type: "gauge", value: 42.5 },
            ],
          }),
          200,
        ],
        ["/write?precision=ms", `e2e_influx,host=a value=7.25 ${Date.now()}`, 204],
        ["/api/v2/write", "e2e_influx2 value=3i", 204],
        ["/api/v1/import/prometheus", "# TYPE e2e_prom gauge\ne2e_prom 11\n", 204],
        ["/api/v1/statsd", "e2e.jobs:4|c\ne2e.jobs:5|c\n", 204],
      ];
      for (const [path, body, status] of pushes) {
        const res = await post(url, path, body);
        assert.equal(res.status, status, `${path}: ${res.text}`);
      }
      const event = await post(
        url,
        "/api/v1/events",
        JSON.stringify({ events: [{ title: "e2e deploy", text: "v9" }] }),
      );
      assert.deepEqual(JSON.parse(event.text), { ids: [1] });
      process.kill(first.pid, "SIGKILL");
      const exit = await first.exited;
      assert.equal(exit.signal, "SIGKILL");

      second = await spawnTally({ dataDir, args: ["--flush-interval", "1s"] });
      const want = new Map([
        [metricKey("e2e_deploys_total", { env: "prod" }), 5],
        [metricKey("e2e_depth"), 42.5],
        [metricKey("e2e_influx", { host: "a" }), 7.25],
        [metricKey("e2e_influx2"), 3],
        [metricKey("e2e_prom"), 11],
        [metricKey("e2e_jobs_total"), 9],
      ]);
      const running = second;
      const values = await waitFor(async () => {
        const metrics = await scrape(running.url);
        return [...want.keys()].every((key) => metrics.has(key)) ? metrics : undefined;
      }, { timeoutMs: 20_000, intervalMs: 250, what: "the replayed values on /metrics" });
      for (const [key, value] of want) assert.equal(values.get(key), value, key);
      assert.match(second.stderr(), /msg="Replayed frames accepted before the last stop" .*frames=5/);

      const query = (name: string) => {
        const out = spawnSync(TALLY, ["query", name, "--data-dir", dataDir, "--since", "2h", "--json"], {
          encoding: "utf8",
        });
        assert.equal(out.status, 0, out.stderr);
        return (JSON.parse(out.stdout) as Array<
          { labels: Record<string, string>; points: Array<{ value: number }> }
        >)
          .map((s) => [s.labels, s.points.map((p) => p.value)]);
      };
      await waitFor(() => spawnSync(TALLY, ["query", "e2e.jobs", "--data-dir", dataDir]).status === 0, {
        timeoutMs: 20_000,
        intervalMs: 250,
        what: "the first flush after the restart to reach the store",
      });
      assert.deepEqual(query("e2e.deploys"), [[{ env: "prod" }, [5]]]);
      assert.deepEqual(query("e2e.depth"), [[{}, [42.5]]]);
      assert.deepEqual(query("e2e_influx"), [[{ host: "a" }, [7.25]]]);
      assert.deepEqual(query("e2e.jobs"), [[{}, [9]]]);
      const events = spawnSync(TALLY, ["query", "--events", "--data-dir", dataDir, "--json"], {
        encoding: "utf8",
      });
      assert.deepEqual(
        (JSON.parse(events.stdout) as Array<{ title: string; text: string }>).map((e) => [e.title, e.text]),
        [["e2e deploy", "v9"]],
      );
    } finally {
      await first.stop();
      await second?.stop();
    }
  });

  it("tally run refuses a non-loopback HTTP address without a token, naming it and both ways out", async () => {
    const port = await freePort("tcp");
    const refused = spawnSync(TALLY, ["run", "--http", `0.0.0.0:${port}`, "--data-dir", tempDir()], {
      encoding: "utf8",
      timeout: 20_000,
    });
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, new RegExp(`--http "0\\.0\\.0\\.0:${port}" is not a loopback address`));
    assert.match(refused.stderr, /set http\.token .*--insecure \(http\.insecure = true\)/);
    const open = await spawnTally({ httpPort: port, args: ["--http", `0.0.0.0:${port}`, "--insecure"] });
    try {
      const res = await post(open.url, "/api/v1/statsd", "open:1|c");
      assert.equal(res.status, 204);
    } finally {
      await open.stop();
    }
  });

  it("a configured token guards the push routes: 401 without it, 2xx with it", async () => {
    const dir = tempDir();
    const config = join(dir, "tally.toml");
    writeFileSync(config, '[http]\ntoken = "e2e-s3cret"\n[inputs.http]\ntype = "http"\n');
    const tally = await spawnTally({ args: ["--config", config], statsd: [] });
    try {
      const body = JSON.stringify({ metrics: [{ name: "guarded", type: "counter", value: 1 }] });
      const denied = await fetch(`${tally.url}/api/v1/push`, { method: "POST", body });
      assert.equal(denied.status, 401);
      assert.equal(denied.headers.get("www-authenticate"), 'Bearer realm="tally"');
      const allowed = await post(tally.url, "/api/v1/push", body, { authorization: "Bearer e2e-s3cret" });
      assert.deepEqual([allowed.status, allowed.text], [200, '{"accepted":1}']);
    } finally {
      await tally.stop();
    }
  });
});
