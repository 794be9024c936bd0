/**
 * The forwarding benchmark (issue 8). Prints figures; asserts nothing.
 *
 * 1. `send`: the remote_write encoder and sender in this process against Debian's VictoriaMetrics on
 *    loopback (started here, stopped by PID): flushes of `--series` series (40 % counters, 30 % gauges,
 *    20 % timers with 4 percentiles, 10 % sets; 4 labels each) encoded into 10 000-sample requests and
 *    posted one at a time, as the output does. Samples/s for encode (protobuf + snappy), snappy alone,
 *    and encode + send end to end, with this process's CPU time (the target is ≥ 1 M samples/s on one
 *    core). The readback checks VictoriaMetrics holds every sample.
 * 2. `outbox`: `DiskOutbox` append and replay (peek + ack) rates over the same request bodies.
 * 3. `outage`: `dist/tally` forwarding to a port nothing listens on, fed `--outage-series` StatsD gauges
 *    per second for `--outage-seconds`, with a `--outage-cap` outbox: RSS sampled every 2 s must stay flat
 *    once the outbox is full and evicting. `--baseline` first runs the same feed with no output, for
 *    comparison.
 * 4. `otlp`: the otlp encoder over the same flushes (one data point per series): protobuf alone, gzip at
 *    levels 1 and 6, JSON, and the library alternative (plain objects encoded by protobufjs through the
 *    OpenTelemetry project's generated classes); then encode (protobuf + gzip) and send to a recording
 *    receiver in a process of its own (`otlp_sink.ts`), which decodes every request and counts the points.
 * 5. `influx`: the influx encoder (line protocol, with and without gzip) and encode + send to
 *    VictoriaMetrics' `/write` on loopback, read back through its export API.
 *
 * Run: `./node_modules/.bin/bun tests/bench/forward.ts [--only send,outbox,outage,otlp,influx] [--series N]
 * [--flushes N] [--outage-seconds S] [--outage-series N] [--outage-cap SIZE] [--baseline]` (after
 * `npm run build`).
 *
 * @module
 */
import { createSocket } from "node:dgram";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import type { Metric, Point } from "../../src/model/metric.ts";
import type { Labels, SampleKind } from "../../src/model/sample.ts";
import { seriesKey } from "../../src/model/series_key.ts";
import { Sender } from "../../src/outputs/_send.ts";
import { createRemoteWriteEncoder } from "../../src/outputs/remote_write/encode.ts";
import { snappyCompress } from "../../src/outputs/remote_write/snappy.ts";
import { DiskOutbox } from "../../src/store/disk_outbox.ts";
import type { OutboxInput } from "../../src/store/outbox.ts";
import { freePort } from "../harness/free_port.ts";
import { scrape } from "../harness/scrape.ts";
import { snappyUncompress } from "../harness/write_request.ts";
import { REPO_ROOT, spawnTally } from "../harness/spawn_tally.ts";
import { startVictoriaMetrics, tsdbMissing, VICTORIA_METRICS_BINARY } from "../harness/tsdb.ts";
import { describeMachine } from "./_shared/bench_cli.ts";
import { benchInfluxPart } from "./_forward_influx.ts";
import { benchOtlpPart } from "./_forward_otlp.ts";
import { benchFlushes, cpuMsSince, mib, processCpuMs, rate } from "./_forward_figures.ts";
import { processTree, treeMemory } from "./_shared/proc_stats.ts";

const PARTS = ["send", "outbox", "outage", "otlp", "influx"] as const;
type Part = typeof PARTS[number];

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    series: { type: "string" },
    flushes: { type: "string" },
    "outage-seconds": { type: "string" },
    "outage-series": { type: "string" },
    "outage-cap": { type: "string" },
    baseline: { type: "boolean" },
  },
});
const only = new Set((values.only ?? PARTS.join(",")).split(",").map((p) => p.trim()) as Part[]);
const SERIES = Number(values.series ?? 50_000);
const FLUSHES = Number(values.flushes ?? 6);
const OUTAGE_SECONDS = Number(values["outage-seconds"] ?? 60);
const OUTAGE_SERIES = Number(values["outage-series"] ?? 20_000);
const OUTAGE_CAP = values["outage-cap"] ?? "16MiB";
const BASELINE = values.baseline === true;
const root = mkdtempSync(join(tmpdir(), "tally-bench-forward-"));
const lines: string[] = [];

function say(line: string): void {
  lines.push(line);
  console.log(line);
}

function kindOf(i: number): SampleKind {
  const slot = i % 10;
  return slot < 4 ? "counter" : slot < 7 ? "gauge" : slot < 9 ? "timer" : "set";
}

function pointOf(kind: SampleKind, i: number, flush: number): Point {
  switch (kind) {
    case "counter":
      return { kind: "counter", delta: 3, total: 1000 + i + flush * 3, rate: 0.3 };
    case "gauge":
      return { kind: "gauge", value: (i % 977) + flush / 10 };
    case "set":
      return { kind: "set", count: i % 50 };
    default:
      return {
        kind: "summary",
        count: 10,
        sum: 55,
        totalCount: 10 * (flush + 1),
        totalSum: 55 * (flush + 1),
        min: 1,
        max: 10,
        mean: 5.5,
        quantiles: [0.5, 0.9, 0.95, 0.99].map((q) => ({ q, value: q * 10 + (i % 7) })),
      };
  }
}

/** The series of every flush: name, labels and key built once, as tally's series table keeps them. */
const IDENTITIES = Array.from({ length: SERIES }, (_, i) => {
  const kind = kindOf(i);
  const name = `bench.${kind}_${i % 500}`;
  const labels: Labels = [
    ["env", "prod"],
    ["host", `edge-${i % 97}`],
    ["route", `/api/v${i % 13}`],
    ["shard", String(Math.floor(i / 500))],
  ];
  return { kind, name, labels, key: seriesKey(name, labels) };
});

/** One flush of `SERIES` series stamped `timeMs`. */
function flushOf(flush: number, timeMs: number): Metric[] {
  return IDENTITIES.map(({ kind, name, labels, key }, i) => ({
    name,
    labels,
    key,
    kind,
    point: pointOf(kind, i, flush),
    timeMs,
    intervalMs: 10_000,
    startMs: timeMs,
  }));
}

/** Part 1: encode + send to VictoriaMetrics. Returns the bodies of the last flush for part 2. */
async function benchSend(): Promise<OutboxInput[]> {
  const encoder = createRemoteWriteEncoder({
    externalLabels: { site: "bench" },
    maxBatchSamples: 10_000,
    maxBatchBytes: 4 << 20,
  });
  const { now, flushes, warmUp } = benchFlushes({ flushOf, flushes: FLUSHES });
  encoder.encode({ windowMs: now, metrics: warmUp, events: [] });
  let encodeMs = 0;
  let encodeCpuMs = 0;
  let snappyCpuMs = 0;
  let samples = 0;
  let rawBytes = 0;
  let wireBytes = 0;
  const encoded: OutboxInput[][] = [];
  for (const metrics of flushes) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const { batches } = encoder.encode({ windowMs: 0, metrics, events: [] });
    encodeCpuMs += cpuMsSince(cpu);
    encodeMs += performance.now() - started;
    encoded.push(batches);
    for (const batch of batches) {
      const raw = snappyUncompress(batch.body);
      const before = process.cpuUsage();
      snappyCompress(raw);
      snappyCpuMs += cpuMsSince(before);
      samples += batch.events;
      rawBytes += raw.length;
      wireBytes += batch.body.length;
    }
  }
  say(
    `send: ${FLUSHES} flushes × ${SERIES} series = ${samples} samples, ${encoded.flat().length} requests, ` +
      `${mib(rawBytes)} protobuf → ${mib(wireBytes)} snappy (${(rawBytes / wireBytes).toFixed(1)}×)`,
  );
  say(
    `  encode (protobuf + snappy): ${rate(samples, encodeCpuMs)} samples per core-second ` +
      `(${rate(samples, encodeMs)} wall-clock)`,
  );
  say(
    `    snappy alone:   ${rate(samples, snappyCpuMs)} samples per core-second, ` +
      `${(rawBytes / 2 ** 20 / (snappyCpuMs / 1000)).toFixed(0)} MiB/s of protobuf`,
  );
  say(
    `    protobuf alone: ${
      rate(samples, encodeCpuMs - snappyCpuMs)
    } samples per core-second (the difference)`,
  );

  const missing = tsdbMissing(VICTORIA_METRICS_BINARY, "-version");
  if (missing !== undefined) {
    say(`  send: skipped (${missing})`);
    return encoded.at(-1) ?? [];
  }
  const vm = await startVictoriaMetrics(join(root, "vm"));
  try {
    const sender = new Sender({
      url: vm.writeUrl,
      headers: { ...encoder.headers, "user-agent": "tally/bench" },
      timeoutMs: 60_000,
    });
    const signal = new AbortController().signal;
    // Warm the connection and VictoriaMetrics' series index with the warm-up flush's series.
    for (
      const batch of encoder.encode({ windowMs: 0, metrics: warmUp, events: [] }).batches
    ) {
      await sender.send(batch.body, signal);
    }
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const vmCpuBefore = processCpuMs(vm.pid);
    let sent = 0;
    for (const metrics of flushes) {
      for (const batch of encoder.encode({ windowMs: 0, metrics, events: [] }).batches) {
        const result = await sender.send(batch.body, signal);
        if (result.kind !== "delivered") {
          throw new Error(`VictoriaMetrics answered ${JSON.stringify(result)}`);
        }
        sent += batch.events;
      }
    }
    const elapsedMs = performance.now() - started;
    const cpuMs = cpuMsSince(cpuBefore);
    const vmCpuMs = processCpuMs(vm.pid) - vmCpuBefore;
    await sender.close();
    say(
      `  encode + send to VictoriaMetrics: ${rate(sent, cpuMs)} samples per core-second of tally's code ` +
        `(${rate(sent, elapsedMs)} wall-clock over ${elapsedMs.toFixed(0)} ms; this process used ` +
        `${(cpuMs / elapsedMs).toFixed(2)} cores, VictoriaMetrics ${(vmCpuMs / elapsedMs).toFixed(2)} cores)`,
    );
    const stored = await vm.series('{__name__=~"bench_.*",site="bench"}');
    const count = stored.reduce((sum, s) => sum + s.samples.length, 0);
    say(
      `  readback: VictoriaMetrics holds ${count} samples (${sent} sent + ${count - sent} from the warm-up)`,
    );
  } finally {
    await vm.stop();
  }
  return encoded.at(-1) ?? [];
}

/** Part 2: outbox append and replay. */
async function benchOutbox(bodies: readonly OutboxInput[]): Promise<void> {
  const inputs = bodies.length > 0
    ? bodies
    : [{ body: new Uint8Array(200_000).map((_, i) => i * 7), events: 10_000 }];
  const dir = join(root, "outbox");
  const outbox = DiskOutbox.open({ dir, format: "bench/1", maxBytes: 2 ** 30 });
  const rounds = Math.max(1, Math.ceil((256 * 2 ** 20) / inputs.reduce((s, b) => s + b.body.length, 0)));
  let bytes = 0;
  let records = 0;
  const started = performance.now();
  for (let r = 0; r < rounds; r++) {
    outbox.append(inputs, Date.now());
    for (const input of inputs) bytes += input.body.length;
    records += inputs.length;
  }
  const appendMs = performance.now() - started;
  await outbox.close();
  const syncedMs = performance.now() - started;
  say(
    `outbox: append ${records} records of ${mib(bytes / records)} avg, ${mib(bytes)} in all: ` +
      `${(bytes / 2 ** 20 / (appendMs / 1000)).toFixed(0)} MiB/s written ` +
      `(${(records / (appendMs / 1000)).toFixed(0)} records/s); with every fdatasync done ` +
      `${(bytes / 2 ** 20 / (syncedMs / 1000)).toFixed(0)} MiB/s`,
  );
  const reopened = DiskOutbox.open({ dir, format: "bench/1", maxBytes: 2 ** 30 });
  const replayStarted = performance.now();
  let replayed = 0;
  let replayedBytes = 0;
  for (let entry = reopened.peek(); entry !== undefined; entry = reopened.peek()) {
    replayed++;
    replayedBytes += entry.body.length;
    reopened.ack(entry);
  }
  const replayMs = performance.now() - replayStarted;
  await reopened.close();
  say(
    `  replay (reopen, peek, checksum, ack) ${replayed} records: ` +
      `${(replayedBytes / 2 ** 20 / (replayMs / 1000)).toFixed(0)} MiB/s (${
        (replayed / (replayMs / 1000)).toFixed(0)
      } records/s)`,
  );
}

/** Runs dist/tally with `outputs` and feeds it the gauges every second; samples RSS and the outbox every 2 s. */
async function feed(
  name: string,
  outputs: string,
  names: readonly string[],
): Promise<Array<{ s: number; rss: number; queued: number; evicted: number }>> {
  const config = join(root, `${name}.toml`);
  writeFileSync(config, `[agent]\nflush_interval = "1s"\n\n${outputs}`);
  const tally = await spawnTally({
    shape: "binary",
    dataDir: join(root, `${name}-data`),
    args: ["--config", config],
  });
  const socket = createSocket("udp4");
  const samples: Array<{ s: number; rss: number; queued: number; evicted: number }> = [];
  const started = Date.now();
  try {
    let tick = 0;
    while (Date.now() - started < OUTAGE_SECONDS * 1000) {
      const second = Date.now();
      let datagram = "";
      for (let i = 0; i < names.length; i++) {
        const line = `${names[i]}:${(i + tick) % 1000}|g`;
        if (datagram.length + line.length + 1 > 1400) {
          socket.send(datagram, tally.statsdPort!, "127.0.0.1");
          datagram = "";
        }
        datagram += datagram === "" ? line : `\n${line}`;
      }
      if (datagram !== "") socket.send(datagram, tally.statsdPort!, "127.0.0.1");
      tick++;
      if (tick % 2 === 0) {
        const metrics = await scrape(tally.url);
        const pick = (prefix: string) =>
          [...metrics].filter(([k]) => k.startsWith(prefix)).reduce((sum, [, v]) => sum + v, 0);
        samples.push({
          s: Math.round((Date.now() - started) / 1000),
          rss: treeMemory(processTree(tally.pid)).rssBytes,
          queued: pick("tally_output_queued_bytes"),
          evicted: pick("tally_output_evicted_bytes_total"),
        });
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - second))));
    }
  } finally {
    socket.close();
    await tally.stop();
  }
  return samples;
}

/** Part 3: RSS of dist/tally during a long outage. */
async function benchOutage(): Promise<void> {
  if (!existsSync(join(REPO_ROOT, "dist", "tally"))) {
    say("outage: skipped (dist/tally is missing: run `npm run build`)");
    return;
  }
  const deadPort = await freePort("tcp");
  const names = Array.from(
    { length: OUTAGE_SERIES },
    (_, i) => `outage.g${i}.${Math.random().toString(36).slice(2, 8)}`,
  );
  if (BASELINE) {
    const base = await feed("baseline", "", names);
    const rss = base.map((s) => s.rss / 2 ** 20);
    say(
      `outage baseline: the same feed with no output: RSS every 2 s (MiB): ${
        rss.map((r) => r.toFixed(0)).join(" ")
      }`,
    );
  }
  const samples = await feed(
    "outage",
    `[outputs.down]\ntype = "remote_write"\nurl = "http://127.0.0.1:${deadPort}/api/v1/write"\n` +
      `outbox_max_size = "${OUTAGE_CAP}"\nmax_backoff = "5s"\n`,
    names,
  );
  const full = samples.find((s) => s.evicted > 0);
  const steady = full === undefined ? [] : samples.filter((s) => s.s >= full.s);
  say(
    `outage: dist/tally, ${OUTAGE_SERIES} gauges/s to a dead port for ${OUTAGE_SECONDS} s, outbox cap ${OUTAGE_CAP}`,
  );
  say(`  RSS every 2 s (MiB): ${samples.map((s) => (s.rss / 2 ** 20).toFixed(0)).join(" ")}`);
  say(`  outbox queued (MiB): ${samples.map((s) => (s.queued / 2 ** 20).toFixed(1)).join(" ")}`);
  if (full === undefined) {
    say("  the outbox never reached its cap: run longer or with a smaller --outage-cap");
  } else {
    const rss = steady.map((s) => s.rss / 2 ** 20);
    const half = Math.floor(rss.length / 2);
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
    // Least squares over the steady samples, in MiB per minute.
    const xs = steady.map((s) => s.s / 60);
    const mx = xs.reduce((sum, x) => sum + x, 0) / xs.length;
    const my = rss.reduce((sum, y) => sum + y, 0) / rss.length;
    const num = xs.reduce((sum, x, i) => sum + (x - mx) * (rss[i]! - my), 0);
    const den = xs.reduce((sum, x) => sum + (x - mx) ** 2, 0);
    const slope = den > 0 ? num / den : 0;
    say(
      `  cap reached at ${full.s} s; after it (${steady.length} samples) RSS ${
        Math.min(...rss).toFixed(0)
      }–` +
        `${Math.max(...rss).toFixed(0)} MiB, median ${
          median(rss.slice(0, half)).toFixed(0)
        } MiB in the first half ` +
        `and ${median(rss.slice(half)).toFixed(0)} MiB in the second, trend ${slope >= 0 ? "+" : ""}${
          slope.toFixed(1)
        } MiB/min; evicted ${mib(steady.at(-1)!.evicted)}`,
    );
  }
}

/** Part 4: the otlp encoder and sender. */
async function benchOtlp(): Promise<void> {
  await benchOtlpPart({ say, flushOf, flushes: FLUSHES, root });
}

/** Part 5: the influx encoder and sender to VictoriaMetrics. */
async function benchInflux(): Promise<void> {
  await benchInfluxPart({ say, flushOf, flushes: FLUSHES, root });
}

say(`Forwarding benchmark, ${new Date().toISOString()}`);
say(`machine: ${describeMachine()}; load average ${loadavg().map((l) => l.toFixed(2)).join(" ")} at start`);
say(`command: ./node_modules/.bin/bun tests/bench/forward.ts ${process.argv.slice(2).join(" ")}`.trimEnd());
try {
  const bodies = only.has("send") ? await benchSend() : [];
  if (only.has("outbox")) await benchOutbox(bodies);
  if (only.has("outage")) await benchOutage();
  if (only.has("otlp")) await benchOtlp();
  if (only.has("influx")) await benchInflux();
  say(`load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
} finally {
  rmSync(root, { recursive: true, force: true });
}
