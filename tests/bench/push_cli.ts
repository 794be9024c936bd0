/**
 * `tally push --stdin` end to end (issue 7): a generated input of `--lines` lines (1 M by default) piped
 * from a file into the compiled CLI, which sends it in gzipped batches to a real `tally run` on loopback.
 * It measures the CLI's wall time, lines/s and peak RSS (`VmHWM` from `/proc/PID/status`, polled every
 * 10 ms while it runs), then checks that every line arrived: the counters' totals on `/metrics` (statsd,
 * json) or the agent's received-lines count (influx, coscale). A program, not a test: it prints figures
 * (plain text, then one JSON document) and asserts nothing.
 *
 * Needs the HTTP push routes in the binary (issue 7's HTTP half). Run from the repository root after
 * `npm run build`:
 *
 *   ./node_modules/.bin/bun tests/bench/push_cli.ts [--lines 1000000] [--format statsd|influx|json|coscale]
 *     [--repeat 3] [--tally dist/tally] [--url http://HOST:PORT (an agent already running; no readback)]
 *
 * @module
 */
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { scrape } from "../harness/scrape.ts";
import { REPO_ROOT, spawnTally } from "../harness/spawn_tally.ts";
import type { RunningTally } from "../harness/spawn_tally.ts";
import { waitFor } from "../harness/wait_for.ts";
import { describeMachine } from "./_shared/bench_cli.ts";

const FORMATS = ["statsd", "influx", "json", "coscale"] as const;
type Format = (typeof FORMATS)[number];

/** Distinct series in the generated input, so the agent aggregates a realistic, bounded set. */
const NAMES = 1000;
const HOSTS = 10;
const HWM_REGEXP = /^VmHWM:\s+(\d+)\s+kB$/m;
const USAGE = `Usage: bun tests/bench/push_cli.ts [--lines 1000000] [--format statsd|influx|json|coscale]
         [--repeat 3] [--tally dist/tally] [--url http://HOST:PORT]

Times "tally push --stdin" of a generated input end to end against "tally run" (or the agent at --url),
with the CLI's peak RSS, and reads back what arrived.
`;

/** One timed run of the CLI. */
interface PushRun {
  readonly seconds: number;
  readonly linesPerSecond: number;
  readonly peakRssMiB: number;
  readonly exitCode: number | null;
  readonly stderr: string;
}

/** Line `i` of the generated input; every line counts 1 towards the readback. */
function line(format: Format, i: number): string {
  const name = i % NAMES;
  const host = i % HOSTS;
  switch (format) {
    case "statsd":
      return `bench.push.m${name}:1|c|#host:h${host}`;
    case "influx":
      return `bench_push,host=h${host},m=m${name} value=${i}`;
    case "json":
      return `{"name":"bench_push_m${name}","type":"counter","value":1,"labels":{"host":"h${host}"}}`;
    case "coscale":
      return `M${name + 1}:S${host + 1}:0:${i}`;
  }
}

function writeInput(path: string, format: Format, lines: number): number {
  const chunk: string[] = [];
  const fd = openSync(path, "w");
  try {
    for (let i = 0; i < lines; i++) {
      chunk.push(line(format, i));
      if (chunk.length === 10_000 || i === lines - 1) {
        writeFileSync(fd, chunk.join("\n") + "\n");
        chunk.length = 0;
      }
    }
  } finally {
    closeSync(fd);
  }
  return statSync(path).size;
}

function peakRssKiB(pid: number): number | undefined {
  try {
    const match = HWM_REGEXP.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match === null ? undefined : Number(match[1]);
  } catch {
    return undefined;
  }
}

/** Runs `tally push --stdin` once with the input file as its stdin. */
function pushOnce(
  tally: string,
  url: string,
  format: Format,
  input: string,
  lines: number,
): Promise<PushRun> {
  return new Promise((resolvePromise, reject) => {
    const stdin = openSync(input, "r");
    const started = performance.now();
    const child = spawn(tally, ["push", "--stdin", "--format", format, "--url", url], {
      stdio: [stdin, "ignore", "pipe"],
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin" },
    });
    closeSync(stdin);
    let stderr = "";
    child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    let peakKiB = 0;
    const poll = setInterval(() => {
      if (child.pid !== undefined) peakKiB = Math.max(peakKiB, peakRssKiB(child.pid) ?? 0);
    }, 10);
    child.once("error", (error) => {
      clearInterval(poll);
      reject(error);
    });
    child.once("exit", (code) => {
      const seconds = (performance.now() - started) / 1000;
      clearInterval(poll);
      resolvePromise({
        seconds,
        linesPerSecond: lines / seconds,
        peakRssMiB: peakKiB / 1024,
        exitCode: code,
        stderr,
      });
    });
  });
}

/** What arrived, read back from the agent's `/metrics`. */
async function delivered(url: string, format: Format): Promise<number> {
  const values = await scrape(url);
  let sum = 0;
  for (const [key, value] of values) {
    if (format === "statsd" || format === "json") {
      if (key.startsWith("bench_push_m") && key.includes("_total")) sum += value;
    } else if (
      key.startsWith("tally_component_received_events_total{") && key.includes('component_type="http"')
    ) {
      sum += value;
    }
  }
  return sum;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      lines: { type: "string", default: "1000000" },
      format: { type: "string", default: "statsd" },
      repeat: { type: "string", default: "3" },
      tally: { type: "string" },
      url: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const lines = Number(values.lines);
  const repeat = Number(values.repeat);
  const format = values.format as Format;
  if (!Number.isInteger(lines) || lines < 1 || !Number.isInteger(repeat) || repeat < 1) {
    process.stderr.write("push_cli: --lines and --repeat take positive integers\n");
    return 2;
  }
  if (!(FORMATS as readonly string[]).includes(format)) {
    process.stderr.write(`push_cli: --format takes one of ${FORMATS.join(", ")}\n`);
    return 2;
  }
  const tally = resolve(values.tally ?? join(REPO_ROOT, "dist", "tally"));
  const dir = mkdtempSync(join(tmpdir(), "tally-bench-push-"));
  let agent: RunningTally | undefined;
  try {
    const input = join(dir, `input.${format}`);
    const bytes = writeInput(input, format, lines);
    agent = values.url === undefined
      ? await spawnTally({ command: [tally], args: ["--flush-interval", "1s"] })
      : undefined;
    const url = values.url ?? agent!.url;
    const runs: PushRun[] = [];
    for (let i = 0; i < repeat; i++) {
      const run = await pushOnce(tally, url, format, input, lines);
      runs.push(run);
      process.stdout.write(
        `run ${i + 1}: ${run.seconds.toFixed(2)} s, ${Math.round(run.linesPerSecond)} lines/s, ` +
          `peak RSS ${run.peakRssMiB.toFixed(1)} MiB, exit ${run.exitCode}` +
          (run.stderr === "" ? "\n" : `\n  stderr: ${run.stderr.trim().split("\n").join("\n  ")}\n`),
      );
    }
    let readback = "not checked (--url: an agent of your own)";
    if (agent !== undefined) {
      const expected = lines * runs.filter((r) => r.exitCode === 0).length;
      let got = 0;
      await waitFor(async () => (got = await delivered(agent!.url, format)) >= expected, {
        timeoutMs: 60_000,
        intervalMs: 500,
        what: "every pushed line on /metrics",
      }).catch(() => {});
      readback = `${got} of ${expected} lines arrived` +
        (format === "statsd" || format === "json" ? " (counter totals)" : " (http input's received events)");
    }
    const [load1, load5, load15] = loadavg();
    const summary = {
      seconds: median(runs.map((r) => r.seconds)),
      linesPerSecond: median(runs.map((r) => r.linesPerSecond)),
      peakRssMiB: median(runs.map((r) => r.peakRssMiB)),
    };
    process.stdout.write(
      [
        "",
        "tally push --stdin, end to end",
        `date: ${new Date().toISOString()}`,
        `machine: ${describeMachine()}`,
        `load average: ${load1!.toFixed(2)} ${load5!.toFixed(2)} ${load15!.toFixed(2)}`,
        `command: bun tests/bench/push_cli.ts ${process.argv.slice(2).join(" ")}`.trimEnd(),
        `input: ${lines} ${format} lines, ${(bytes / 1024 / 1024).toFixed(1)} MiB`,
        `median of ${repeat}: ${summary.seconds.toFixed(2)} s, ${
          Math.round(summary.linesPerSecond)
        } lines/s, ` +
        `CLI peak RSS ${summary.peakRssMiB.toFixed(1)} MiB`,
        `readback: ${readback}`,
        "",
        JSON.stringify({ benchmark: "push_cli", format, lines, bytes, repeat, runs, summary, readback }),
        "",
      ].join("\n"),
    );
    return runs.every((r) => r.exitCode === 0) ? 0 : 1;
  } finally {
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
