/**
 * Micro-benchmark for `parseStatsd`: parses 10-lines-per-packet datagrams and prints lines/s.
 *
 * Not a test. Run: `./node_modules/.bin/bun tests/bench/parse_statsd.ts` (or `deno run tests/bench/parse_statsd.ts`).
 * The workload mirrors `shared/tools/statsd-gen`: 1000 names, mixed c/g/ms/s, some DogStatsD tags. A second
 * run with 200 000 names shows the cost when the parser's series-identity cache cannot help.
 *
 * @module
 */

import { parseStatsd } from "../../src/formats/statsd.ts";
import type { BadReason, Sample, SampleSink, TallyEvent } from "../../src/model/sample.ts";

const LINES_PER_PACKET = 10;
const PACKETS = 20_000;
const ROUNDS = 8;

/** Builds a deterministic set of packets (xorshift PRNG, fixed seed). */
function makePackets(names: number): Uint8Array[] {
  let state = 0x9e3779b9;
  function next(): number {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  }
  const encoder = new TextEncoder();
  const packets: Uint8Array[] = [];
  for (let p = 0; p < PACKETS; p++) {
    const lines: string[] = [];
    for (let l = 0; l < LINES_PER_PACKET; l++) {
      const id = Math.floor(next() * names);
      const pick = next();
      const tags = id % 3 === 0 ? `|#env:prod,host:web${id % 7}` : "";
      if (pick < 0.4) lines.push(`app.requests.count.${id}:${1 + Math.floor(next() * 5)}|c${tags}`);
      else if (pick < 0.6) lines.push(`app.queue.depth.${id}:${Math.floor(next() * 1000)}|g${tags}`);
      else if (pick < 0.9) lines.push(`app.latency.${id}:${(next() * 250).toFixed(3)}|ms|@0.5${tags}`);
      else lines.push(`app.users.${id}:user${Math.floor(next() * 10000)}|s${tags}`);
    }
    packets.push(encoder.encode(lines.join("\n")));
  }
  return packets;
}

/** Counts what the parser hands over, touching each sample so nothing is optimised away. */
function makeSink(): SampleSink & { samples: number; rejected: number; checksum: number } {
  const sink = {
    samples: 0,
    rejected: 0,
    checksum: 0,
    sample(sample: Sample): void {
      sink.samples++;
      sink.checksum += sample.value + sample.key.length;
    },
    event(_event: TallyEvent): void {},
    bad(_reason: BadReason): void {
      sink.rejected++;
    },
  };
  return sink;
}

/** Measures one workload and prints its best round. */
function measure(names: number): void {
  const packets = makePackets(names);
  const sink = makeSink();
  let lines = 0;
  // Warm-up lets the JIT settle before measuring.
  for (const packet of packets) lines += parseStatsd(packet, sink);
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = performance.now();
    let n = 0;
    for (const packet of packets) n += parseStatsd(packet, sink);
    const seconds = (performance.now() - t0) / 1000;
    lines += n;
    best = Math.max(best, n / seconds);
  }
  console.log(
    `parseStatsd: ${
      (best / 1e6).toFixed(2)
    } M lines/s (best of ${ROUNDS} rounds, ${LINES_PER_PACKET} lines/packet, ` +
      `${names} names; ${lines} lines, ${sink.samples} samples, ${sink.rejected} bad)`,
  );
}

measure(1000);
measure(200_000);
