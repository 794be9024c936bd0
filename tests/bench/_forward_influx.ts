/**
 * Part `influx` of the forwarding benchmark (`forward.ts`): the influx encoder's figures, then encode +
 * send to VictoriaMetrics' `/write` on loopback, read back through its export API.
 *
 * @module
 */
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { Metric } from "../../src/model/metric.ts";
import { Sender } from "../../src/outputs/_send.ts";
import { createInfluxEncoder } from "../../src/outputs/influx/encode.ts";
import { startVictoriaMetrics, tsdbMissing, VICTORIA_METRICS_BINARY } from "../harness/tsdb.ts";
import {
  benchFlushes,
  cpuMsSince,
  type ForwardBenchContext,
  mib,
  processCpuMs,
  rate,
} from "./_forward_figures.ts";

/**
 * Runs the part: prints encode rates (line protocol, with gzip) and encode + send to VictoriaMetrics.
 *
 * @param ctx The printer, the workload and a scratch directory.
 */
export async function benchInfluxPart(ctx: ForwardBenchContext): Promise<void> {
  const { say } = ctx;
  const { flushes, warmUp } = benchFlushes(ctx);
  const lines = flushes.reduce((sum, f) => sum + f.length, 0);
  const options = {
    precision: "ms" as const,
    temporality: "delta" as const,
    eventsMeasurement: "",
    maxBatchLines: 5000,
    maxBatchBytes: 4 << 20,
  };
  let rawBytes = 0;
  for (const compression of ["none", "gzip"] as const) {
    const encoder = createInfluxEncoder({ ...options, compression });
    encoder.encode({ windowMs: 0, metrics: warmUp, events: [] });
    const cpu = process.cpuUsage();
    const batches = flushes.flatMap((metrics) =>
      encoder.encode({ windowMs: 0, metrics, events: [] }).batches
    );
    const ms = cpuMsSince(cpu);
    const bytes = batches.reduce((sum, b) => sum + b.body.length, 0);
    if (compression === "none") {
      rawBytes = bytes;
      say(
        `influx: ${ctx.flushes} flushes × ${
          flushes[0]?.length ?? 0
        } series = ${lines} lines, ${batches.length} ` +
          `requests, ${mib(bytes)} of line protocol (${(bytes / lines).toFixed(0)} B per line)`,
      );
      say(`  encode (line protocol): ${rate(lines, ms)} lines per core-second`);
    } else {
      const check = gunzipSync(batches[0]!.body).length;
      say(
        `  encode + gzip level 1: ${rate(lines, ms)} lines per core-second, ${
          (rawBytes / bytes).toFixed(1)
        }× ` +
          `smaller (first body ${check} B unzipped)`,
      );
    }
  }

  const missing = tsdbMissing(VICTORIA_METRICS_BINARY, "-version");
  if (missing !== undefined) {
    say(`  send: skipped (${missing})`);
    return;
  }
  const vm = await startVictoriaMetrics(join(ctx.root, "vm-influx"));
  try {
    const encoder = createInfluxEncoder({ ...options, compression: "gzip" });
    const sender = new Sender({
      url: `${vm.url}/write?db=bench&precision=ms`,
      headers: { ...encoder.headers, "user-agent": "tally/bench" },
      timeoutMs: 60_000,
    });
    const signal = new AbortController().signal;
    const send = async (metrics: readonly Metric[]): Promise<number> => {
      let sent = 0;
      for (const batch of encoder.encode({ windowMs: 0, metrics, events: [] }).batches) {
        const result = await sender.send(batch.body, signal);
        if (result.kind !== "delivered") {
          throw new Error(`VictoriaMetrics answered ${JSON.stringify(result)}`);
        }
        sent += batch.events;
      }
      return sent;
    };
    await send(warmUp);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const vmCpuBefore = processCpuMs(vm.pid);
    let sent = 0;
    for (const metrics of flushes) sent += await send(metrics);
    const elapsedMs = performance.now() - started;
    const cpuMs = cpuMsSince(cpu);
    const vmCpuMs = processCpuMs(vm.pid) - vmCpuBefore;
    await sender.close();
    say(
      `  encode (gzip 1) + send to VictoriaMetrics /write: ${rate(sent, cpuMs)} lines per core-second of ` +
        `tally's code (${rate(sent, elapsedMs)} wall-clock over ${
          elapsedMs.toFixed(0)
        } ms; this process used ` +
        `${(cpuMs / elapsedMs).toFixed(2)} cores, VictoriaMetrics ${(vmCpuMs / elapsedMs).toFixed(2)})`,
    );
    // VictoriaMetrics stores one sample per field: a timer's line carries 5 + one per percentile.
    const fields = (metrics: readonly Metric[]) =>
      metrics.reduce((sum, m) => sum + (m.point.kind === "summary" ? 5 + m.point.quantiles.length : 1), 0);
    const expected = fields(warmUp) + flushes.reduce((sum, metrics) => sum + fields(metrics), 0);
    const stored = await vm.series('{db="bench"}');
    const count = stored.reduce((sum, s) => sum + s.samples.length, 0);
    say(
      `  readback: VictoriaMetrics holds ${count} samples of the ${expected} fields sent (warm-up included)`,
    );
  } finally {
    await vm.stop();
  }
}
