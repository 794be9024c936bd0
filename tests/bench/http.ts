/**
 * HTTP push benchmark: the compiled tally's http input, every 2xx durable (committed to the inbox in the
 * store's WAL before the answer), in three parts:
 *
 * 1. `influx`: InfluxDB line protocol in batches of 5 000 lines (`bench_cpu`, 1 000 hosts, three fields:
 *    float, integer, boolean, with timestamps) POSTed to `/write` by a few keep-alive connections, beside
 *    VictoriaMetrics' own `/write` (Debian `victoria-metrics`, started here on loopback) on the same batches.
 *    Lines/s counts 2xx answers × 5 000; the receiver's own counter is then read back to check that every
 *    accepted line was parsed (tally: `tally_component_received_events_total{component_type="http"}`;
 *    VictoriaMetrics: `vm_rows_inserted_total{type="influx"}`, one row per field).
 * 2. `push`: one small single-metric `POST /api/v1/push` per request, driven by Debian's `wrk`
 *    (`-c 64` by default), with the inbox's commit counters to show the group commit's batch size.
 * 3. `latency`: the cost of the durable ack, one connection at a time: `POST /api/v1/push` with one metric
 *    (validated, emitted and committed to the inbox before the 200) against the same route with an empty
 *    `metrics` array (validated, nothing to keep: no commit).
 *
 * Run from the repository root (after `npm run build`):
 *
 *   ./node_modules/.bin/bun tests/bench/http.ts [--seconds 10] [--only influx,push,latency]
 *     [--tally dist/tally] [--tally-arg=--workers --tally-arg=1] [--connections 4] [--wrk-connections 64]
 *
 * Every receiver runs in a fresh temporary directory on free loopback ports and is stopped by PID
 * afterwards. Progress goes to stderr; a plain-text table, then one JSON document, to stdout. The load
 * average is printed before and after: the figures mean little on a busy machine. A program, not a test.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { describeMachine } from "./_shared/bench_cli.ts";
import { processTree, treeCpuSeconds, treeMemory } from "./_shared/proc_stats.ts";
import { readyzAnswers200, scrapeMetrics, startReceiver } from "./_shared/start_receiver.ts";
import type { RunningBase } from "./_shared/bench_receiver.ts";
import { killAllReceivers, sleep } from "./_shared/receiver_process.ts";
import { freePort } from "../harness/free_port.ts";
import { parsePrometheusText } from "../harness/scrape.ts";
import { influxBatches, postInflux, quantile } from "./http/influx_load.ts";
import type { InfluxLoadResult } from "./http/influx_load.ts";
import { runWrk } from "./http/wrk.ts";
import type { WrkResult } from "./http/wrk.ts";

const USAGE = `Usage: bun tests/bench/http.ts [options]

  --seconds N          load per part and receiver, seconds (default 10)
  --only LIST          parts to run, comma-separated: influx,push,latency (default all)
  --tally PATH         the tally executable (default dist/tally)
  --tally-arg ARG      an extra 'tally run' argument (repeatable)
  --victoria PATH      the VictoriaMetrics executable (default /usr/bin/victoria-metrics)
  --connections N      concurrent Influx writers (default 4)
  --wrk-connections N  wrk connections for the push part (default 64)
  -h, --help           this text`;

const LINES_PER_BATCH = 5000;
const SERIES = 1000;
const FIELDS_PER_LINE = 3;
const PUSH_BODY = '{"metrics":[{"name":"bench.push","type":"counter","value":1,"labels":{"host":"a"}}]}';
const EMPTY_BODY = '{"metrics":[]}';

type Part = "influx" | "push" | "latency";

interface Options {
  readonly seconds: number;
  readonly parts: readonly Part[];
  readonly tally: string;
  readonly tallyArgs: readonly string[];
  readonly victoria: string;
  readonly connections: number;
  readonly wrkConnections: number;
}

/** A receiver started for one part. */
interface Receiver extends RunningBase {
  readonly base: string;
}

function parseOptions(argv: readonly string[]): Options | undefined {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      seconds: { type: "string", default: "10" },
      only: { type: "string", default: "influx,push,latency" },
      tally: { type: "string", default: "dist/tally" },
      "tally-arg": { type: "string", multiple: true, default: [] },
      victoria: { type: "string", default: "/usr/bin/victoria-metrics" },
      connections: { type: "string", default: "4" },
      "wrk-connections": { type: "string", default: "64" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) return undefined;
  const parts = values.only.split(",").map((p) => p.trim()) as Part[];
  for (const part of parts) {
    if (!["influx", "push", "latency"].includes(part)) throw new Error(`Unknown part "${part}"\n${USAGE}`);
  }
  return {
    seconds: Number(values.seconds),
    parts,
    tally: resolve(values.tally),
    tallyArgs: values["tally-arg"],
    victoria: values.victoria,
    connections: Number(values.connections),
    wrkConnections: Number(values["wrk-connections"]),
  };
}

function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

function load(): string {
  return loadavg().map((n) => n.toFixed(2)).join(" ");
}

async function startTally(options: Options, dir: string): Promise<Receiver> {
  const port = await freePort("tcp");
  const base = `http://127.0.0.1:${port}`;
  const args = [
    "run",
    "--http",
    `127.0.0.1:${port}`,
    "--statsd",
    "udp:127.0.0.1:0",
    "--data-dir",
    join(dir, "data"),
    "--flush-interval",
    "1s",
    ...options.tallyArgs,
  ];
  const running = await startReceiver(options.tally, args, {
    cwd: dir,
    port,
    isReady: readyzAnswers200(base),
  });
  return { ...running, base };
}

async function startVictoria(options: Options, dir: string): Promise<Receiver> {
  const port = await freePort("tcp");
  const base = `http://127.0.0.1:${port}`;
  const args = [
    `-httpListenAddr=127.0.0.1:${port}`,
    `-storageDataPath=${join(dir, "vm")}`,
    "-retentionPeriod=1d",
    "-loggerLevel=ERROR",
  ];
  const running = await startReceiver(options.victoria, args, {
    cwd: dir,
    port,
    isReady: async function healthOk() {
      const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      return res.status === 200;
    },
  });
  return { ...running, base };
}

/** Sums the series of one family on a receiver's `/metrics` whose labels include `labels`. */
async function counter(
  base: string,
  name: string,
  labels: Readonly<Record<string, string>>,
): Promise<number> {
  const text = await scrapeMetrics(base);
  let total = 0;
  for (const [key, value] of parsePrometheusText(text)) {
    if (!key.startsWith(`${name}{`) && key !== name) continue;
    if (Object.entries(labels).every(([k, v]) => key.includes(`${k}="${v}"`))) total += value;
  }
  return total;
}

/** Polls a counter until it reaches `expected` or stops moving for 3 s. */
async function settle(read: () => Promise<number>, expected: number): Promise<number> {
  let last = -1;
  let stableSince = performance.now();
  for (;;) {
    const value = await read();
    if (value >= expected) return value;
    if (value !== last) {
      last = value;
      stableSince = performance.now();
    } else if (performance.now() - stableSince > 3000) {
      return value;
    }
    await sleep(200);
  }
}

interface InfluxFigures {
  readonly receiver: string;
  readonly linesPerSecond: number;
  readonly requests: number;
  readonly refused: Readonly<Record<string, number>>;
  readonly processedShare: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly coresUsed: number;
  readonly peakRssMiB: number;
}

async function influxPart(options: Options, root: string): Promise<InfluxFigures[]> {
  const batches = influxBatches(40, LINES_PER_BATCH, SERIES);
  progress(`influx: ${batches.length} batches of ${LINES_PER_BATCH} lines, ${batches[0]!.length} bytes each`);
  const figures: InfluxFigures[] = [];
  const receivers: Array<
    [string, (dir: string) => Promise<Receiver>, string, (base: string) => Promise<number>]
  > = [
    [
      "tally",
      (dir) => startTally(options, dir),
      "/write",
      (base) => counter(base, "tally_component_received_events_total", { component_type: "http" }),
    ],
    [
      "victoria-metrics",
      (dir) => startVictoria(options, dir),
      "/write",
      async (base) => (await counter(base, "vm_rows_inserted_total", { type: "influx" })) / FIELDS_PER_LINE,
    ],
  ];
  for (const [name, start, path, processed] of receivers) {
    const dir = mkdtempSync(join(root, `${name}-`));
    const receiver = await start(dir);
    try {
      // A short warm-up: JIT, page cache, the first series.
      const warm = await postInflux(`${receiver.base}${path}`, batches, {
        connections: 1,
        seconds: 1,
        linesPerBatch: LINES_PER_BATCH,
      });
      // Counted once parsed (tally: at its next flush): wait for the warm-up's lines before the baseline.
      const before = await settle(() => processed(receiver.base), warm.lines);
      const pids = processTree(receiver.pid);
      const cpuBefore = treeCpuSeconds(pids);
      let peakRss = 0;
      const sampler = setInterval(() => {
        peakRss = Math.max(peakRss, treeMemory(processTree(receiver.pid)).rssBytes);
      }, 250);
      const result: InfluxLoadResult = await postInflux(`${receiver.base}${path}`, batches, {
        connections: options.connections,
        seconds: options.seconds,
        linesPerBatch: LINES_PER_BATCH,
      });
      clearInterval(sampler);
      const cores = (treeCpuSeconds(processTree(receiver.pid)) - cpuBefore) / result.seconds;
      const after = await settle(() => processed(receiver.base), before + result.lines);
      const figure: InfluxFigures = {
        receiver: name,
        linesPerSecond: result.lines / result.seconds,
        requests: result.accepted,
        refused: result.refused,
        processedShare: result.lines === 0 ? 0 : (after - before) / result.lines,
        p50Ms: quantile(result.latenciesMs, 0.5),
        p99Ms: quantile(result.latenciesMs, 0.99),
        coresUsed: cores,
        peakRssMiB: peakRss / 2 ** 20,
      };
      progress(
        `influx ${name}: ${Math.round(figure.linesPerSecond)} lines/s, processed ${
          (figure.processedShare * 100).toFixed(1)
        } %`,
      );
      figures.push(figure);
    } finally {
      await receiver.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return figures;
}

interface PushFigures {
  readonly wrk: Omit<WrkResult, "output">;
  readonly inboxFrames: number;
  readonly inboxCommits: number;
  readonly framesPerCommit: number;
  readonly coresUsed: number;
}

async function pushPart(options: Options, root: string): Promise<PushFigures> {
  const dir = mkdtempSync(join(root, "push-"));
  const tally = await startTally(options, dir);
  try {
    await runWrk({
      url: `${tally.base}/api/v1/push`,
      body: PUSH_BODY,
      dir,
      threads: 1,
      connections: 8,
      seconds: 1,
    });
    const framesBefore = await counter(tally.base, "tally_inbox_frames_total", {});
    const commitsBefore = await counter(tally.base, "tally_inbox_commits_total", {});
    const cpuBefore = treeCpuSeconds(processTree(tally.pid));
    const { output: _output, ...wrk } = await runWrk({
      url: `${tally.base}/api/v1/push`,
      body: PUSH_BODY,
      dir,
      threads: 1,
      connections: options.wrkConnections,
      seconds: options.seconds,
    });
    const cores = (treeCpuSeconds(processTree(tally.pid)) - cpuBefore) / options.seconds;
    const frames = (await counter(tally.base, "tally_inbox_frames_total", {})) - framesBefore;
    const commits = (await counter(tally.base, "tally_inbox_commits_total", {})) - commitsBefore;
    progress(
      `push: ${Math.round(wrk.requestsPerSecond)} requests/s, ${
        (frames / Math.max(1, commits)).toFixed(1)
      } frames per commit`,
    );
    return {
      wrk,
      inboxFrames: frames,
      inboxCommits: commits,
      framesPerCommit: frames / Math.max(1, commits),
      coresUsed: cores,
    };
  } finally {
    await tally.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface LatencyFigures {
  readonly durable: Omit<WrkResult, "output">;
  readonly validatedOnly: Omit<WrkResult, "output">;
}

async function latencyPart(options: Options, root: string): Promise<LatencyFigures> {
  const dir = mkdtempSync(join(root, "latency-"));
  const tally = await startTally(options, dir);
  try {
    const url = `${tally.base}/api/v1/push`;
    const shape = {
      url,
      dir,
      threads: 1,
      connections: 1,
      seconds: Math.max(3, Math.round(options.seconds / 2)),
    };
    await runWrk({ ...shape, body: PUSH_BODY, seconds: 1 });
    const { output: _a, ...durable } = await runWrk({ ...shape, body: PUSH_BODY });
    const { output: _b, ...validatedOnly } = await runWrk({ ...shape, body: EMPTY_BODY });
    progress(
      `latency: p50 ${durable.latencyMs.p50} ms durable, ${validatedOnly.latencyMs.p50} ms without a commit`,
    );
    return { durable, validatedOnly };
  } finally {
    await tally.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function fixed(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "-";
}

async function main(): Promise<number> {
  let options: Options | undefined;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  if (options === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const root = mkdtempSync(join(tmpdir(), "tally-bench-http-"));
  const interrupt = () => {
    killAllReceivers();
    rmSync(root, { recursive: true, force: true });
    process.exit(130);
  };
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);
  const loadBefore = load();
  const report: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: describeMachine(),
    command: `bun tests/bench/http.ts ${process.argv.slice(2).join(" ")}`.trim(),
    loadBefore,
  };
  try {
    const lines: string[] = [`machine: ${report["machine"]}`, `load average before: ${loadBefore}`];
    if (options.parts.includes("influx")) {
      const influx = await influxPart(options, root);
      report["influx"] = influx;
      lines.push(
        "",
        `Influx line protocol, batches of ${LINES_PER_BATCH} lines, ${options.connections} connections, ${options.seconds} s`,
        "receiver          lines/s     2xx  refused  parsed   p50 ms  p99 ms  cores  peak RSS MiB",
        ...influx.map((f) =>
          `${f.receiver.padEnd(16)} ${fixed(f.linesPerSecond).padStart(9)} ${
            String(f.requests).padStart(6)
          }  ` +
          `${JSON.stringify(f.refused).padEnd(7)}  ${(f.processedShare * 100).toFixed(1).padStart(5)}%  ` +
          `${fixed(f.p50Ms, 1).padStart(6)}  ${fixed(f.p99Ms, 1).padStart(6)}  ${
            fixed(f.coresUsed, 2).padStart(5)
          }  ` +
          `${fixed(f.peakRssMiB).padStart(12)}`
        ),
      );
    }
    if (options.parts.includes("push")) {
      const push = await pushPart(options, root);
      report["push"] = push;
      lines.push(
        "",
        `POST /api/v1/push, one metric per request, wrk -c ${options.wrkConnections}, ${options.seconds} s`,
        `requests/s ${fixed(push.wrk.requestsPerSecond)}, non-2xx ${push.wrk.non2xx}, socket errors ` +
          `${push.wrk.socketErrors}, latency p50 ${push.wrk.latencyMs.p50} ms p99 ${push.wrk.latencyMs.p99} ms, ` +
          `${fixed(push.framesPerCommit, 1)} frames per inbox commit, tally ${
            fixed(push.coresUsed, 2)
          } cores`,
      );
    }
    if (options.parts.includes("latency")) {
      const latency = await latencyPart(options, root);
      report["latency"] = latency;
      lines.push(
        "",
        "The durable ack, one connection (wrk -c 1): POST /api/v1/push",
        `one metric (committed): p50 ${latency.durable.latencyMs.p50} ms, p99 ${latency.durable.latencyMs.p99} ms, ` +
          `${fixed(latency.durable.requestsPerSecond)} requests/s`,
        `no metric (no commit):  p50 ${latency.validatedOnly.latencyMs.p50} ms, p99 ` +
          `${latency.validatedOnly.latencyMs.p99} ms, ${
            fixed(latency.validatedOnly.requestsPerSecond)
          } requests/s`,
      );
    }
    const loadAfter = load();
    report["loadAfter"] = loadAfter;
    lines.push("", `load average after: ${loadAfter}`);
    process.stdout.write(`${lines.join("\n")}\n\n${JSON.stringify(report)}\n`);
    return 0;
  } finally {
    killAllReceivers();
    rmSync(root, { recursive: true, force: true });
  }
}

process.exitCode = await main();
