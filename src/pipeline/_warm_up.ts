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
 * (`warm_up` of a statsd input): the inputs bind only after it, so a collector restarted in place under
 * load keeps its port closed that much longer.
 *
 * @module
 */

import { FORMAT_IDS } from "../model/frame.ts";
import { forgetIdentities } from "../formats/_statsd_identity.ts";
import { forgetMembers } from "../formats/_statsd_members.ts";
import { FrameSink, type FrameSinkOptions } from "./frame_sink.ts";

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
