/**
 * Part `otlp` of the forwarding benchmark (`forward.ts`): the otlp encoder's figures and its choice of
 * library, then encode + send to a recording receiver in a process of its own.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { gzipSync } from "node:zlib";
import root from "@opentelemetry/otlp-transformer/build/src/generated/root.js";
import type { Metric } from "../../src/model/metric.ts";
import type { Labels } from "../../src/model/sample.ts";
import { Sender } from "../../src/outputs/_send.ts";
import { createOtlpEncoder } from "../../src/outputs/otlp/encode.ts";
import { createJsonMetrics, metricsRequest } from "../../src/outputs/otlp/json_metrics.ts";
import { createProtobufMetrics } from "../../src/outputs/otlp/protobuf_metrics.ts";
import { jsonAttributes } from "../../src/outputs/otlp/resource.ts";
import { REPO_ROOT } from "../harness/spawn_tally.ts";
import {
  benchFlushes,
  cpuMsSince,
  type ForwardBenchContext,
  mib,
  processCpuMs,
  rate,
} from "./_forward_figures.ts";

/** The generated class the library alternative encodes with. */
const REQUEST = (root as unknown as {
  opentelemetry: {
    proto: {
      collector: {
        metrics: {
          v1: {
            ExportMetricsServiceRequest: {
              fromObject(object: unknown): unknown;
              encode(message: unknown): { finish(): Uint8Array };
            };
          };
        };
      };
    };
  };
}).opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;

const RESOURCE: Labels = [["host.name", "bench"], ["service.name", "tally"]];
const BATCH_POINTS = 10_000;

/**
 * Runs the part: prints encode rates (protobuf, gzip 1 and 6, JSON, protobufjs) and encode + send.
 *
 * @param ctx The printer, the workload and a scratch directory.
 */
export async function benchOtlpPart(ctx: ForwardBenchContext): Promise<void> {
  const { say } = ctx;
  const { flushes, warmUp } = benchFlushes(ctx);
  const options = {
    temporality: "cumulative" as const,
    resource: RESOURCE,
    version: "bench",
    maxBatchPoints: BATCH_POINTS,
    maxBatchBytes: 4 << 20,
  };
  const points = flushes.reduce((sum, f) => sum + f.length, 0);

  const protobuf = createProtobufMetrics(options);
  protobuf(warmUp);
  let cpu = process.cpuUsage();
  const bodies = flushes.flatMap((metrics) => protobuf(metrics).map((b) => b.body));
  const protobufMs = cpuMsSince(cpu);
  const rawBytes = bodies.reduce((sum, b) => sum + b.length, 0);
  say(
    `otlp: ${ctx.flushes} flushes × ${flushes[0]?.length ?? 0} series = ${points} data points, ` +
      `${bodies.length} requests, ${mib(rawBytes)} of protobuf (${
        (rawBytes / points).toFixed(0)
      } B per point)`,
  );
  say(`  protobuf (tally's writer): ${rate(points, protobufMs)} points per core-second`);
  for (const level of [1, 6]) {
    cpu = process.cpuUsage();
    const zipped = bodies.reduce((sum, body) => sum + gzipSync(body, { level }).length, 0);
    const ms = cpuMsSince(cpu);
    say(
      `  gzip level ${level}: ${rate(points, ms)} points per core-second, ` +
        `${(rawBytes / 2 ** 20 / (ms / 1000)).toFixed(0)} MiB/s of protobuf, ${
          (rawBytes / zipped).toFixed(1)
        }× smaller`,
    );
  }
  const json = createJsonMetrics(options);
  json(warmUp);
  cpu = process.cpuUsage();
  const jsonBytes = flushes.reduce(
    (sum, metrics) => sum + json(metrics).reduce((s, b) => s + b.body.length, 0),
    0,
  );
  say(`  JSON: ${rate(points, cpuMsSince(cpu))} points per core-second, ${mib(jsonBytes)}`);
  // The library alternative: plain objects in the OTLP/JSON shape, encoded by protobufjs through the
  // OpenTelemetry project's generated classes (what an encoder built on a protobuf library would do).
  const parts = {
    temporality: "cumulative" as const,
    resource: { attributes: jsonAttributes(RESOURCE) },
    scope: { name: "tally", version: "bench" },
  };
  const viaLibrary = (metrics: readonly Metric[]): number => {
    let bytes = 0;
    for (let from = 0; from < metrics.length; from += BATCH_POINTS) {
      const chunk = metrics.slice(from, from + BATCH_POINTS).map((m) => [m, m.startMs] as const);
      bytes += REQUEST.encode(REQUEST.fromObject(metricsRequest(chunk, parts))).finish().length;
    }
    return bytes;
  };
  viaLibrary(warmUp);
  cpu = process.cpuUsage();
  const libraryBytes = flushes.reduce((sum, metrics) => sum + viaLibrary(metrics), 0);
  say(
    `  protobufjs 7 via OpenTelemetry's generated classes, from plain objects: ` +
      `${rate(points, cpuMsSince(cpu))} points per core-second (${mib(libraryBytes)})`,
  );

  const sink = spawn(process.execPath, [`${REPO_ROOT}/tests/bench/otlp_sink.ts`], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let text = "";
      sink.stdout.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        const match = /port (\d+)/.exec(text);
        if (match !== null) resolve(Number(match[1]));
      });
      sink.once("exit", (code) => reject(new Error(`otlp_sink exited with ${code}: ${text}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const encoder = createOtlpEncoder({
      ...options,
      metricsUrl: `${base}/v1/metrics`,
      logsUrl: `${base}/v1/logs`,
      encoding: "protobuf",
      compression: "gzip",
      sendEvents: true,
    });
    const sender = new Sender({
      url: `${base}/v1/metrics`,
      headers: { ...encoder.headers, "user-agent": "tally/bench" },
      timeoutMs: 60_000,
    });
    const signal = new AbortController().signal;
    const routes = encoder.routes!;
    const send = async (metrics: readonly Metric[]): Promise<number> => {
      let sent = 0;
      for (const batch of encoder.encode({ windowMs: 0, metrics, events: [] }).batches) {
        const result = await sender.send(batch.body.subarray(1), signal, { url: routes[batch.body[0]!]! });
        if (result.kind !== "delivered") throw new Error(`the sink answered ${JSON.stringify(result)}`);
        sent += batch.events;
      }
      return sent;
    };
    const warmSent = await send(warmUp);
    cpu = process.cpuUsage();
    const started = performance.now();
    const sinkCpuBefore = processCpuMs(sink.pid!);
    let sent = 0;
    for (const metrics of flushes) sent += await send(metrics);
    const elapsedMs = performance.now() - started;
    const cpuMs = cpuMsSince(cpu);
    const sinkCpuMs = processCpuMs(sink.pid!) - sinkCpuBefore;
    await sender.close();
    say(
      `  encode (protobuf + gzip 1) + send to a recording receiver: ${rate(sent, cpuMs)} points per ` +
        `core-second of tally's code (${rate(sent, elapsedMs)} wall-clock over ${elapsedMs.toFixed(0)} ms; ` +
        `this process used ${(cpuMs / elapsedMs).toFixed(2)} cores, the receiver ${
          (sinkCpuMs / elapsedMs).toFixed(2)
        })`,
    );
    const count = await (await fetch(`${base}/count`)).json() as { points: number; requests: number };
    say(
      `  readback: the receiver decoded ${count.points} data points in ${count.requests} requests ` +
        `(${sent} sent + ${warmSent} from the warm-up)`,
    );
  } finally {
    sink.kill("SIGTERM");
  }
}
