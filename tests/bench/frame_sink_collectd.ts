/**
 * Micro-benchmark of a worker's cost per collectd value list without the socket: `FrameSink.frame()` (parse
 * and aggregate, what a worker runs on each collectd frame it reads from its ring) over the packets
 * `../shared/tools/collectd-gen` sends, with a window change and a `take()` every `--window` value lists, as
 * a worker sees with 1 s flushes. Prints CPU seconds per million value lists (1 / that is what one core
 * could take, less `recvmmsg`, the ring and the main thread) for each identifier count. Not a test; it
 * asserts nothing.
 *
 * Run: `./node_modules/.bin/bun tests/bench/frame_sink_collectd.ts [--names 1000,10000,100000]
 * [--value-lists 4000000] [--window 600000]`.
 *
 * The packets are collectd-gen's (its defaults: `-M 1452`, host `benchhost`, equal parts of COUNTER, GAUGE,
 * DERIVE and ABSOLUTE): host, time_hr, interval_hr, then per value list plugin `bench`, plugin_instance
 * `g<k/100>`, type, type_instance `m<k>` and one value, each string part only when it changes; a ring of
 * packets over identifiers `0 .. names` cyclically. As the generator does at send time, each packet's
 * time and values are written just before it is handed over (running totals for COUNTER and DERIVE, the
 * increment for ABSOLUTE): that costs a few writes per value list, counted in the figure. The first window
 * of each identifier count warms the JIT up and is left out.
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { FORMAT_IDS } from "../../src/model/frame.ts";
import { FrameSink } from "../../src/pipeline/frame_sink.ts";
import { BUILTIN_TYPES_DB } from "../../src/formats/_types_db_builtin.ts";

const MAX_PAYLOAD = 1452;
const TYPE_NAMES = ["counter", "gauge", "derive", "absolute"] as const;
const TICKS_PER_MS = 1073741824 / 1000;

/** One packet of the ring, with where its time parts and values sit. */
interface Packet {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly timeOffsets: readonly number[];
  /** Per value list: the value's offset, its identifier and its type code. */
  readonly values: readonly { offset: number; id: number; code: number }[];
}

const encoder = new TextEncoder();

/** Builds collectd-gen's ring of packets for `names` identifiers. */
function makePackets(names: number): Packet[] {
  const packets: Packet[] = [];
  let seq = 0;
  for (;;) {
    const b = new Uint8Array(MAX_PAYLOAD);
    const view = new DataView(b.buffer);
    let len = 0;
    const timeOffsets: number[] = [];
    const values: { offset: number; id: number; code: number }[] = [];
    const addString = (type: number, text: string): boolean => {
      const bytes = encoder.encode(text);
      const length = 4 + bytes.length + 1;
      if (len + length > MAX_PAYLOAD) return false;
      view.setUint16(len, type);
      view.setUint16(len + 2, length);
      b.set(bytes, len + 4);
      b[len + 4 + bytes.length] = 0;
      len += length;
      return true;
    };
    const addNumber = (type: number, value: bigint): boolean => {
      if (len + 12 > MAX_PAYLOAD) return false;
      view.setUint16(len, type);
      view.setUint16(len + 2, 12);
      view.setBigUint64(len + 4, value);
      len += 12;
      return true;
    };
    addString(0x0000, "benchhost");
    timeOffsets.push(len);
    addNumber(0x0008, 0n);
    addNumber(0x0009, 10n << 30n);
    let plugin = "";
    let pluginInstance = "";
    let type = "";
    let typeInstance = "";
    const seen = new Set<number>();
    for (;;) {
      const id = seq % names;
      const code = id % 4;
      const pi = `g${Math.floor(id / 100)}`;
      const ti = `m${id}`;
      const save = len;
      const saveTimes = timeOffsets.length;
      let ok = true;
      if (seen.has(id)) {
        timeOffsets.push(len);
        ok = addNumber(0x0008, 0n);
      }
      if (ok && plugin !== "bench") ok = addString(0x0002, "bench");
      if (ok && pluginInstance !== pi) ok = addString(0x0003, pi);
      if (ok && type !== TYPE_NAMES[code]) ok = addString(0x0004, TYPE_NAMES[code]!);
      if (ok && typeInstance !== ti) ok = addString(0x0005, ti);
      if (ok && len + 15 > MAX_PAYLOAD) ok = false;
      if (!ok) {
        len = save;
        timeOffsets.length = saveTimes;
        break;
      }
      view.setUint16(len, 0x0006);
      view.setUint16(len + 2, 15);
      view.setUint16(len + 4, 1);
      b[len + 6] = code;
      values.push({ offset: len + 7, id, code });
      len += 15;
      seen.add(id);
      plugin = "bench";
      pluginInstance = pi;
      type = TYPE_NAMES[code]!;
      typeInstance = ti;
      seq++;
    }
    packets.push({ bytes: b.subarray(0, len), view, timeOffsets, values });
    if (seq % names === 0 || seq >= 4 * names || packets.length >= 20_000) break;
  }
  return packets;
}

/** Writes a u64 big-endian from a number below 2^53, without a BigInt. */
function setU64(view: DataView, offset: number, value: number): void {
  view.setUint32(offset, Math.floor(value / 4294967296));
  view.setUint32(offset + 4, value >>> 0);
}

/** Writes a packet's time (ms since the epoch, as time_hr) and its values, as the generator does at send. */
function patch(packet: Packet, timeMs: number, totals: Float64Array): void {
  const view = packet.view;
  const ticks = Math.floor(timeMs * TICKS_PER_MS);
  const times = packet.timeOffsets;
  for (let j = 0; j < times.length; j++) setU64(view, times[j]! + 4, ticks + j);
  const values = packet.values;
  for (let j = 0; j < values.length; j++) {
    const { offset, id, code } = values[j]!;
    const increment = 1 + (id % 5);
    if (code === 1) view.setFloat64(offset, (id % 1000) + 0.5, true);
    else if (code === 3) setU64(view, offset, increment);
    else {
      const total = totals[id]! + increment;
      totals[id] = total;
      setU64(view, offset, total);
    }
  }
}

/** Feeds `total` value lists of `names` identifiers through one sink; returns CPU seconds per million. */
function measure(names: number, total: number, window: number): { cpu: number; series: number; bad: number } {
  const packets = makePackets(names);
  const sink = new FrameSink({
    intervalMs: 1000,
    exactLimit: 256,
    maxSeries: 100_000,
    maxEvents: 10_000,
    cumulativeEntries: 1,
    formats: { collectd: { typesDb: BUILTIN_TYPES_DB } },
  });
  const totals = new Float64Array(names);
  let windowMs = 1_700_000_000_000;
  let seq = 0;
  let p = 0;
  let inWindow = 0;
  let measured = 0;
  let series = 0;
  let bad = 0;
  let cpu = 0;
  let warm = false;
  let t0 = process.cpuUsage();
  for (let valueLists = 0; valueLists < total + window;) {
    const packet = packets[p]!;
    patch(packet, windowMs + (seq % 1000), totals);
    sink.frame(0, FORMAT_IDS.collectd, seq++, windowMs, packet.bytes);
    if (++p === packets.length) p = 0;
    valueLists += packet.values.length;
    inWindow += packet.values.length;
    if (inWindow >= window) {
      const partial = sink.take(windowMs);
      series = partial.aggregate.buckets[0]?.series.length ?? 0;
      for (const b of partial.bad) bad += b.count;
      windowMs += 1000;
      const used = process.cpuUsage(t0);
      if (warm) {
        cpu += (used.user + used.system) / 1e6;
        measured += inWindow;
      }
      warm = true;
      inWindow = 0;
      t0 = process.cpuUsage();
    }
  }
  return { cpu: cpu / (measured / 1e6), series, bad };
}

function main(): void {
  const { values } = parseArgs({
    options: {
      names: { type: "string", default: "1000,10000,100000" },
      "value-lists": { type: "string", default: "4000000" },
      window: { type: "string", default: "600000" },
    },
  });
  const total = Number(values["value-lists"]);
  const window = Number(values.window);
  for (const names of values.names.split(",").map(Number)) {
    const { cpu, series, bad } = measure(names, total, window);
    console.log(
      `frame_sink_collectd: ${names} identifiers, ${series} series a window of ${window} value lists` +
        `${bad > 0 ? ` (${bad} bad)` : ""}: ${cpu.toFixed(3)} CPU s per M value lists ` +
        `(${(1 / cpu).toFixed(2)} M value lists/s a core)`,
    );
  }
}

main();
