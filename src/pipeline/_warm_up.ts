/**
 * A worker's warm-up: before it takes its sockets, the worker runs the StatsD parse-and-aggregate path over
 * made-up datagrams into a throwaway {@link FrameSink}, so that the engine's JIT has compiled that path
 * before the first real burst rather than during it.
 *
 * Why: a collector started under full load lost datagrams in its first half second and nowhere after. In
 * that time JavaScriptCore's `JITWorker` threads took 0.3-0.4 of a core beside the worker, on the one core
 * the sender leaves, and a cold sink took 37-51 ms for its first 1000 datagrams against 2-4 ms warm: longer
 * than the socket's receive buffer holds at 1.4 M lines/s. The pool starts its workers (and waits for their
 * "ready") before any input binds its socket, so the warm-up delays the start, never a datagram.
 *
 * What it runs is the path real traffic takes, not only its hot loop: the four common kinds (counters,
 * gauges, timers, sets) over a few hundred names, so the identity cache's insert path, the aggregator's
 * first line of a series and of a window, and the window's take are compiled too (a warm-up of the hot
 * loop alone, tried before, left the JIT busy when the real names arrived). No tags, sample rates or
 * timestamps: a mix broader than the traffic made the steady state slower.
 *
 * Nothing of it reaches real data: the sink is its own (its aggregator, series numbers, counters, events
 * and partials go with it; its series stamps come from the thread's counter, which never hands one out
 * twice, so a memo it wrote matches no other aggregator), it takes no sequence number, and the thread's
 * StatsD caches (identities, set members) are emptied after it.
 *
 * What it costs (`docs/BENCHMARKS.md`): about 0.2 s more to ready, and 6-10 MiB more idle RSS (the compiled
 * code, and the engine's compilers paged in, which the first real load would page in too). So it is opt-in
 * (an input's `warm_up`, `src/inputs/_warm_up_field.ts`): the inputs bind only after it, so a collector
 * restarted in place under load keeps its port closed that much longer.
 *
 * {@link warmUpCollectd} does the same for the collectd path, when a collectd input asks for it: made-up
 * packets of counter, gauge and derive value lists (over a few hundred identifiers, each packet's parts
 * written as collectd's network plugin writes them, only what changed) opened as a socket-reading worker
 * opens them and parsed into a throwaway sink. The packets are encoded once and their times and values
 * rewritten in place each round (encoding them anew each round took 0.1 s of the 0.2 s it then cost). The
 * collectd format keeps its identity memo in the format instance, which goes with the throwaway sink, so
 * nothing of the thread's is left to empty.
 *
 * @module
 */

import { FORMAT_IDS } from "../model/frame.ts";
import { forgetIdentities } from "../formats/_statsd_identity.ts";
import { forgetMembers } from "../formats/_statsd_members.ts";
import { type CollectdPart, encodeCollectdParts } from "../formats/_collectd_parts.ts";
import { FrameSink, type FrameSinkOptions } from "./frame_sink.ts";
import { DatagramOpener } from "./_datagram_opener.ts";

/** How many lines a worker's warm-up parses by default. */
export const WARM_UP_LINES = 250_000;
/** How many distinct names the warm-up's lines have. */
const WARM_UP_NAMES = 400;
/** Lines per made-up datagram (what the busiest StatsD clients send). */
const LINES_PER_DATAGRAM = 10;
/**
 * Lines between two window changes (each followed by a take), so new windows' paths compile too; enough
 * for each timer to pass the default `exact_limit` (256) and go on in its sketch, as at full load.
 */
const LINES_PER_WINDOW = 125_000;
/** The kinds in the proportions of `statsd-gen`'s default mix (4 counters, 2 gauges, 2 timers, 1 set). */
const MIX = ["c", "c", "c", "c", "g", "g", "ms", "ms", "s"] as const;

/** How many value lists a worker's collectd warm-up parses by default. */
export const WARM_UP_VALUE_LISTS = 100_000;
/** How many distinct identifiers the collectd warm-up's value lists have. */
const WARM_UP_IDENTIFIERS = 400;
/** Value lists per made-up collectd packet (about what fits collectd's 1452-byte default). */
const VALUE_LISTS_PER_PACKET = 40;
/** Value lists between two window changes, so that each cumulative series sees several windows. */
const VALUE_LISTS_PER_WINDOW = 25_000;
/** The types of the made-up value lists, in collectd's types.db and tally's built-in one, with their codes. */
const COLLECTD_MIX = [["counter", 0], ["gauge", 1], ["derive", 2], ["derive", 2]] as const;

/** What a warm-up did. */
export interface WarmUpResult {
  /** The lines parsed. */
  readonly lines: number;
  /** The series the throwaway sink held in its last window. */
  readonly series: number;
}

/**
 * Runs the StatsD path over `lines` made-up lines into a sink of its own, then empties the thread's StatsD
 * caches. Touches no state a real sink of the thread holds.
 *
 * @param options The real sink's options (same caps, so the same code paths).
 * @param lines How many lines to parse; 0 does nothing.
 * @returns What it parsed.
 * @throws {Error} When a sink cannot be built from `options` (as `FrameSink` would throw for the real one).
 */
export function warmUp(options: FrameSinkOptions, lines: number = WARM_UP_LINES): WarmUpResult {
  if (lines <= 0) return { lines: 0, series: 0 };
  const sink = new FrameSink({ ...options, maxEvents: 0 });
  const { bytes, starts } = madeUpDatagrams();
  const datagrams = starts.length - 1;
  // Windows of the recent past: a window's start is a double (past 2^31), and a warm-up with small whole
  // numbers would compile the path for those, to be thrown away at the first real datagram.
  let windowMs = Math.floor(Date.now() / options.intervalMs) * options.intervalMs - 3_600_000;
  let parsed = 0;
  let inWindow = 0;
  let series = 0;
  for (let d = 0, seq = 1; parsed < lines; d = d + 1 === datagrams ? 0 : d + 1, seq++) {
    sink.datagram(0, FORMAT_IDS.statsd, seq, windowMs, bytes, starts[d]!, starts[d + 1]!);
    parsed += LINES_PER_DATAGRAM;
    inWindow += LINES_PER_DATAGRAM;
    if (inWindow >= LINES_PER_WINDOW || parsed >= lines) {
      series = sink.take(windowMs).aggregate.buckets[0]?.series.length ?? 0;
      windowMs += options.intervalMs;
      inWindow = 0;
    }
  }
  forgetIdentities();
  forgetMembers();
  return { lines: parsed, series };
}

/** Datagrams over {@link WARM_UP_NAMES} names, back to back in shared memory as a `recvmmsg` batch's are. */
function madeUpDatagrams(): { readonly bytes: Uint8Array; readonly starts: readonly number[] } {
  const text: string[] = [];
  const starts: number[] = [];
  let offset = 0;
  for (let d = 0; d < WARM_UP_NAMES / LINES_PER_DATAGRAM; d++) {
    const lines: string[] = [];
    for (let j = 0; j < LINES_PER_DATAGRAM; j++) {
      const k = d * LINES_PER_DATAGRAM + j;
      const h = (Math.imul(k, 2654435761) >>> 0) % 100_000;
      switch (MIX[k % MIX.length]) {
        case "c":
          lines.push(`tally_warm_up.c.${k}:${1 + (k % 5)}|c`);
          break;
        case "g":
          lines.push(`tally_warm_up.g.${k}:${h % 1000}|g`);
          break;
        case "ms":
          lines.push(`tally_warm_up.ms.${k}:${h % 500}.${h % 10}|ms`);
          break;
        default:
          lines.push(`tally_warm_up.s.${k}:u${h % 100}|s`);
      }
    }
    const datagram = lines.join("\n");
    starts.push(offset);
    text.push(datagram);
    offset += datagram.length;
  }
  starts.push(offset);
  const encoded = new TextEncoder().encode(text.join(""));
  const bytes = new Uint8Array(new SharedArrayBuffer(encoded.length));
  bytes.set(encoded);
  return { bytes, starts };
}

/**
 * Runs the collectd path over `valueLists` made-up value lists into a sink of its own: each packet opened
 * as a socket-reading worker opens it (`_datagram_opener.ts`), then parsed. Touches no state a real sink of
 * the thread holds (the collectd format's memo belongs to the throwaway sink's format table).
 *
 * @param options The real sink's options (same caps and types.db, so the same code paths).
 * @param valueLists How many value lists to parse; 0 does nothing.
 * @returns What it parsed: value lists as `lines`.
 * @throws {Error} When a sink cannot be built from `options` (as `FrameSink` would throw for the real one).
 */
export function warmUpCollectd(
  options: FrameSinkOptions,
  valueLists: number = WARM_UP_VALUE_LISTS,
): WarmUpResult {
  if (valueLists <= 0) return { lines: 0, series: 0 };
  const sink = new FrameSink({ ...options, maxEvents: 0 });
  const opener = new DatagramOpener(sink);
  const packets = madeUpPackets();
  const count = packets.starts.length - 1;
  let windowMs = Math.floor(Date.now() / options.intervalMs) * options.intervalMs - 3_600_000;
  let parsed = 0;
  let inWindow = 0;
  let series = 0;
  for (let round = 0, seq = 1; parsed < valueLists; round++) {
    // Each round a new time and new running totals, as a collectd interval brings.
    nextRound(packets, windowMs + round, round);
    for (let d = 0; d < count && parsed < valueLists; d++, seq++) {
      opener.open(
        0,
        FORMAT_IDS.collectd,
        seq,
        windowMs,
        packets.bytes,
        packets.starts[d]!,
        packets.starts[d + 1]!,
      );
      parsed += VALUE_LISTS_PER_PACKET;
      inWindow += VALUE_LISTS_PER_PACKET;
    }
    if (inWindow >= VALUE_LISTS_PER_WINDOW || parsed >= valueLists) {
      series = sink.take(windowMs).aggregate.buckets[0]?.series.length ?? 0;
      windowMs += options.intervalMs;
      inWindow = 0;
    }
  }
  return { lines: parsed, series };
}

/** The warm-up's collectd packets, and where the numbers each round changes sit in them. */
interface MadeUpPackets {
  /** The packets, back to back. */
  readonly bytes: Uint8Array;
  /** Where each packet starts, and where the last ends. */
  readonly starts: readonly number[];
  /** Where each packet's `time_hr` (big-endian u64) sits. */
  readonly times: readonly number[];
  /** Where each value list's one value sits, and its data-source code. */
  readonly values: readonly { readonly at: number; readonly code: number; readonly k: number }[];
}

/**
 * The packets over {@link WARM_UP_IDENTIFIERS} identifiers, back to back in shared memory as a `recvmmsg`
 * batch's are; each packet writes host and plugin once and then, per value list, what changed. Encoded once:
 * {@link nextRound} rewrites their times and values in place.
 */
function madeUpPackets(): MadeUpPackets {
  const encoded: Uint8Array[] = [];
  const starts: number[] = [];
  let offset = 0;
  for (let d = 0; d < WARM_UP_IDENTIFIERS / VALUE_LISTS_PER_PACKET; d++) {
    const parts: CollectdPart[] = [
      { kind: "string", type: 0x0000, text: `tally-warm-up-${d % 4}` },
      { kind: "number", type: 0x0008, value: 0n },
      { kind: "number", type: 0x0009, value: 10n << 30n },
      { kind: "string", type: 0x0002, text: "tally_warm_up" },
      { kind: "string", type: 0x0003, text: String(d) },
    ];
    for (let j = 0; j < VALUE_LISTS_PER_PACKET; j++) {
      const k = d * VALUE_LISTS_PER_PACKET + j;
      const [type, code] = COLLECTD_MIX[k % COLLECTD_MIX.length]!;
      parts.push({ kind: "string", type: 0x0004, text: type });
      parts.push({ kind: "string", type: 0x0005, text: `v${k}` });
      parts.push({ kind: "values", values: [code === 1 ? { code, value: 0 } : { code, value: 0n }] });
    }
    const packet = encodeCollectdParts(parts);
    starts.push(offset);
    encoded.push(packet);
    offset += packet.length;
  }
  starts.push(offset);
  const bytes = new Uint8Array(new SharedArrayBuffer(offset));
  const times: number[] = [];
  const values: { at: number; code: number; k: number }[] = [];
  let at = 0;
  let k = 0;
  for (const packet of encoded) {
    bytes.set(packet, at);
    // Find the parts to rewrite: the time, and each values part's one value (after its count and code).
    for (let p = at; p < at + packet.length;) {
      const type = (bytes[p]! << 8) | bytes[p + 1]!;
      const length = (bytes[p + 2]! << 8) | bytes[p + 3]!;
      if (type === 0x0008) times.push(p + 4);
      if (type === 0x0006) values.push({ at: p + 7, code: bytes[p + 6]!, k: k++ });
      p += length;
    }
    at += packet.length;
  }
  return { bytes, starts, times, values };
}

/** Writes one round's time into every packet and one round's value into every value list. */
function nextRound(packets: MadeUpPackets, timeMs: number, round: number): void {
  const view = new DataView(packets.bytes.buffer);
  const timeHr = BigInt(timeMs) * 1_073_741_824n / 1000n;
  for (const at of packets.times) view.setBigUint64(at, timeHr);
  for (const { at, code, k } of packets.values) {
    const h = (Math.imul(k, 2654435761) >>> 0) % 100_000;
    // Gauges wander; counters and derives are running totals that grow by a different step each.
    if (code === 1) view.setFloat64(at, (h + round) / 100, true);
    else view.setBigUint64(at, BigInt(h + round * (1 + (k % 50))));
  }
}
