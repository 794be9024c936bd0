/**
 * Micro-benchmark for the collectd binary-protocol format: parses 1452-byte packets laid out as
 * `shared/tools/collectd-gen` writes them and prints value lists/s.
 *
 * Not a test. Run: `./node_modules/.bin/bun tests/bench/parse_collectd.ts` (or
 * `./node_modules/.bin/deno run -A tests/bench/parse_collectd.ts`).
 *
 * Layout per packet (as collectd itself writes, a part repeated only when it changes): host, time_hr,
 * interval_hr, then per value list plugin `bench`, plugin_instance `g<k/100>`, type (counter, gauge,
 * derive or absolute by k % 4), type_instance `m<k>`, values (one each). A first run cycles through 1000
 * identifiers (the memoised steady state); a second through 50 000 (under the default series cap, so
 * every identity stays memoised); a third through 200 000 (past any memo a worker keeps).
 *
 * @module
 */

import { createCollectdFormat } from "../../src/formats/collectd.ts";
import { encodeCollectdParts } from "../../src/formats/_collectd_parts.ts";
import type { CollectdPart } from "../../src/formats/_collectd_parts.ts";
import { BUILTIN_TYPES_DB } from "../../src/formats/_types_db_builtin.ts";
import type { BadReason, Sample, SampleSink, TallyEvent } from "../../src/model/sample.ts";

const MAX_PACKET_BYTES = 1452;
const PACKETS = 5_000;
const ROUNDS = 8;
const TYPES = ["counter", "gauge", "derive", "absolute"] as const;

/** Builds the packets: identifiers 0..names-1 cyclically, packed into 1452-byte packets. */
function makePackets(names: number): { packets: Uint8Array[]; valueLists: number } {
  const packets: Uint8Array[] = [];
  let valueLists = 0;
  let k = 0;
  const timeHr = BigInt(Math.floor(Date.now() / 1000)) << 30n;
  for (let p = 0; p < PACKETS; p++) {
    const parts: CollectdPart[] = [
      { kind: "string", type: 0x0000, text: "benchhost" },
      { kind: "number", type: 0x0008, value: timeHr + BigInt(p) },
      { kind: "number", type: 0x0009, value: 10n << 30n },
    ];
    let size = encodeCollectdParts(parts).length;
    let plugin = "";
    let pluginInstance = "";
    let type = "";
    for (;;) {
      const id = k % names;
      const vt = id % 4;
      const next: CollectdPart[] = [];
      if (plugin !== "bench") next.push({ kind: "string", type: 0x0002, text: "bench" });
      const pi = `g${Math.floor(id / 100)}`;
      if (pi !== pluginInstance) next.push({ kind: "string", type: 0x0003, text: pi });
      if (TYPES[vt] !== type) next.push({ kind: "string", type: 0x0004, text: TYPES[vt]! });
      next.push({ kind: "string", type: 0x0005, text: `m${id}` });
      const value = vt === 1 ? (id % 1000) + 0.5 : BigInt(1 + (id % 5) * p);
      next.push({ kind: "values", values: [{ code: vt, value }] });
      const bytes = encodeCollectdParts(next).length;
      if (size + bytes > MAX_PACKET_BYTES) break;
      parts.push(...next);
      size += bytes;
      plugin = "bench";
      pluginInstance = pi;
      type = TYPES[vt]!;
      valueLists++;
      k++;
    }
    packets.push(encodeCollectdParts(parts));
  }
  return { packets, valueLists };
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
  const { packets, valueLists } = makePackets(names);
  const parse = createCollectdFormat({ typesDb: BUILTIN_TYPES_DB });
  const sink = makeSink();
  let records = 0;
  // Warm-up lets the JIT settle before measuring.
  for (const packet of packets) records += parse(packet, sink);
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = performance.now();
    let n = 0;
    for (const packet of packets) n += parse(packet, sink);
    const seconds = (performance.now() - t0) / 1000;
    records += n;
    best = Math.max(best, n / seconds);
  }
  const perPacket = valueLists / PACKETS;
  const rate = `${(best / 1e6).toFixed(2)} M value lists/s, ${
    (best / perPacket / 1e3).toFixed(0)
  } k packets/s`;
  console.log(
    `parseCollectd: ${rate} (best of ${ROUNDS} rounds, ${MAX_PACKET_BYTES}-byte packets, ` +
      `${perPacket.toFixed(1)} value lists/packet, ${names} identifiers; ` +
      `${records} value lists, ${sink.samples} samples, ${sink.rejected} bad)`,
  );
}

measure(1000);
measure(50_000);
measure(200_000);
