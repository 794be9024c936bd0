/**
 * How many datagrams per second the statsd input's UDP receive loop takes without loss: the input alone,
 * with an `emit` that copies each datagram into a 64 KiB scratch buffer (what the ring does) and counts it.
 * `shared/tools/statsd-gen` sends from its own process (the other core on a 2-core machine) at stepped
 * rates; for each rate the program prints packets sent, received, lost (and how many of those the kernel
 * counted on the socket), and the highest rate with < 1 % loss.
 *
 * Run: `./node_modules/.bin/bun tests/bench/udp_recv.ts [--seconds 3] [--lines 1] [--rates 100000,200000]`
 * (also `deno run -A tests/bench/udp_recv.ts`). Needs `cc` to build the generator.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as v from "valibot";
import { parseListenAddress } from "../../src/config/address.ts";
import { createLogger } from "../../src/internal/log.ts";
import { componentStats, SelfStats } from "../../src/internal/self_stats.ts";
import { schema } from "../../src/inputs/statsd/config.ts";
import { StatsdInput } from "../../src/inputs/statsd/listen.ts";
import { detectRuntime } from "../../src/runtime/detect.ts";
import { buildGenerator, runGenerator } from "./statsd/generator.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "3" },
    lines: { type: "string", default: "1" },
    rates: { type: "string", default: "50000,100000,150000,200000,300000,400000,1000000" },
  },
});
const seconds = Number(values.seconds);
const linesPerPacket = Number(values.lines);
const rates = values.rates.split(",").map(Number);

const dir = mkdtempSync(join(tmpdir(), "tally-udp-recv-"));
const generator = await buildGenerator(dir);
const runtime = detectRuntime();
const scratch = new Uint8Array(65_536);
let received = 0;
let bytes = 0;
const stats = componentStats(new SelfStats(), { type: "statsd", id: "bench" });
const input = new StatsdInput(v.parse(schema, { listen: ["udp:127.0.0.1:0"] }), "bench");
await input.start({
  emit(datagram) {
    scratch.set(datagram);
    received++;
    bytes += datagram.length;
    return true;
  },
  signal: new AbortController().signal,
  runtime,
  log: createLogger({ component_type: "statsd", component_id: "bench" }, { level: "warn" }),
  stats,
});
const address = parseListenAddress(input.addresses()[0] ?? "");
if (address === undefined || address.transport === "unix") throw new Error("Cannot find the bound UDP port");

console.log(
  `# udp_recv on ${runtime.name}, ${linesPerPacket} line(s)/packet, ${seconds} s per rate, ${
    new Date().toISOString()
  }`,
);
console.log("target_pps  sent_pps  received_pps  loss_%  kernel_drops");
let best = 0;
for (const pps of rates) {
  const before = received;
  const dropsBefore = await input.refreshKernelDrops();
  const summary = await runGenerator(generator, {
    port: address.port,
    pps,
    seconds,
    linesPerPacket,
    names: 1000,
    mix: "c=4,g=2,ms=2,s=2",
    sumsFile: join(dir, "sums.json"),
  });
  // Let the socket drain what is still queued.
  let last = -1;
  while (received !== last) {
    last = received;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const got = received - before;
  const drops = (await input.refreshKernelDrops()) - dropsBefore;
  const loss = summary.packetsSent === 0 ? 0 : (1 - got / summary.packetsSent) * 100;
  if (loss < 1) best = Math.max(best, got / summary.durationS);
  console.log(
    [
      String(pps).padStart(10),
      String(Math.round(summary.achievedPps)).padStart(9),
      String(Math.round(got / summary.durationS)).padStart(13),
      loss.toFixed(2).padStart(7),
      String(drops).padStart(13),
    ].join(" "),
  );
}
console.log(
  `best rate with < 1 % loss: ${Math.round(best)} packets/s (${Math.round(best * linesPerPacket)} lines/s)`,
);
console.log(`total: ${received} datagrams, ${bytes} bytes`);
await input.stop();
rmSync(dir, { recursive: true, force: true });
