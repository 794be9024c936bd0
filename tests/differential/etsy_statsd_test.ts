/**
 * The Etsy differential test: Etsy statsd 0.9.0 and tally fed the same StatsD datagrams over loopback UDP,
 * one flush window each, compared metric by metric and line by line (see `_compare.ts` for the mapping
 * and tolerances). Every difference found must be one of the known differences listed in
 * `_known_differences.ts`, each with its reason, and every listed difference must still occur: a new
 * difference, or a fixed one still listed, fails the test.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { parseStatsd } from "../../src/formats/statsd.ts";
import type { BadReason } from "../../src/model/sample.ts";
import { etsyStatsdVersion, startEtsyStatsd } from "../harness/etsy_statsd.ts";
import type { EtsyFlush, RunningEtsyStatsd } from "../harness/etsy_statsd.ts";
import { waitFor } from "../harness/wait_for.ts";
import { compareBadLines, compareMetrics, type Difference, etsyKey, etsyLineKey } from "./_compare.ts";
import { etsyStreams } from "./_etsy_streams.ts";
import { type DifferenceContext, KNOWN_DIFFERENCES } from "./_known_differences.ts";
import { startTallyWindow } from "./_tally_window.ts";
import type { RunningTallyWindow, TallyWindow } from "./_tally_window.ts";

const PERCENTILES: readonly number[] = [50, 90, 95, 99];
const EXACT_LIMIT = 256;
const SEED = 20_240_611;
/**
 * Datagrams sent before waiting for both servers to have received them all: 25 datagrams of at most
 * 1400 bytes take at most ~115 KiB of a receive buffer (kernel accounting included), well under the
 * 208 KiB Linux gives a socket by default (Etsy sets none), so no datagram is ever lost on a busy machine.
 */
const PACE = 25;

describe(`Etsy statsd ${etsyStatsdVersion()} against tally, one window each`, () => {
  let etsy: RunningEtsyStatsd | undefined;
  let tally: RunningTallyWindow | undefined;
  let flush: EtsyFlush;
  let window: TallyWindow;
  let differences: Difference[];
  let etsyBad: Map<string, number>;
  let tallyBad: Map<string, readonly BadReason[]>;
  let copies: Map<string, number>;
  let context: DifferenceContext;

  before(async () => {
    const streams = etsyStreams(SEED, EXACT_LIMIT);
    etsy = await startEtsyStatsd({ percentiles: PERCENTILES });
    tally = await startTallyWindow({ percentiles: PERCENTILES, exactLimit: EXACT_LIMIT });
    const socket = createSocket("udp4");
    try {
      for (let i = 0; i < streams.datagrams.length; i++) {
        const bytes = new TextEncoder().encode(streams.datagrams[i]!);
        await send(socket, bytes, etsy.port);
        await send(socket, bytes, tally.port);
        if ((i + 1) % PACE === 0 || i + 1 === streams.datagrams.length) await delivered(i + 1);
      }
    } finally {
      socket.close();
    }
    flush = await etsy.flush();
    etsyBad = etsy.badLines();
    window = await tally.flush();

    // What tally's parser counts bad for one copy of each distinct line sent.
    copies = new Map();
    for (const datagram of streams.datagrams) {
      for (const line of datagram.split("\n")) copies.set(line, (copies.get(line) ?? 0) + 1);
    }
    tallyBad = new Map();
    const linesByKey = new Map<string, string[]>();
    const file = (key: string, line: string): void => {
      const lines = linesByKey.get(key);
      if (lines === undefined) linesByKey.set(key, [line]);
      else if (!lines.includes(line)) lines.push(line);
    };
    for (const line of copies.keys()) {
      const reasons: BadReason[] = [];
      parseStatsd(new TextEncoder().encode(line), {
        sample: (sample) => file(etsyKey(sample.name, sample.labels), line),
        event() {},
        bad: (reason) => reasons.push(reason),
      });
      tallyBad.set(line, reasons);
      file(etsyLineKey(line), line);
    }
    context = { flush, exactLimit: EXACT_LIMIT, linesByKey };
    differences = [
      ...compareMetrics(flush, window.metrics, { percentiles: PERCENTILES, exactLimit: EXACT_LIMIT }),
      ...compareBadLines(etsyBad, tallyBad, copies),
    ];

    async function delivered(count: number): Promise<void> {
      await waitFor(async function bothReceivedAll() {
        const e = await etsy!.received();
        return e.packets >= count && tally!.received().packets >= count;
      }, { timeoutMs: 20_000, intervalMs: 10, what: `both servers to receive ${count} datagrams` });
    }
  });

  after(async () => {
    await etsy?.stop();
    await tally?.stop();
  });

  it("tally dropped nothing: no sample dropped and no series rejected", () => {
    // A name used as several kinds once lost samples here (`kind_conflict`); each kind is now its own series.
    assert.deepEqual([...window.dropped].filter(([, n]) => n !== 0), []);
    assert.equal(window.rejected, 0);
  });

  it("tally's pipeline counted bad exactly what its parser rejects, line by line", () => {
    const expected = new Map<string, number>();
    for (const [line, reasons] of tallyBad) {
      for (const reason of reasons) expected.set(reason, (expected.get(reason) ?? 0) + copies.get(line)!);
    }
    assert.deepEqual(Object.fromEntries(window.bad), Object.fromEntries(expected));
  });

  it("Etsy's log accounts for every bad line it counted", () => {
    const logged = [...etsyBad.values()].reduce((a, b) => a + b, 0);
    assert.equal(logged, flush.counters["statsd.bad_lines_seen"] ?? 0);
  });

  it("every difference is a known one", () => {
    const unknown = differences.filter((d) => !KNOWN_DIFFERENCES.some((k) => k.matches(d, context)));
    assert.equal(
      unknown.length,
      0,
      `${unknown.length} difference(s) no known difference explains:\n` +
        unknown.slice(0, 40).map((d) => JSON.stringify(d)).join("\n"),
    );
  });

  it("every known difference still occurs", () => {
    const stale = KNOWN_DIFFERENCES.filter((k) => !differences.some((d) => k.matches(d, context)))
      .map((k) => k.id);
    assert.deepEqual(stale, [], "known differences the streams no longer show");
  });
});

function send(socket: Socket, bytes: Uint8Array, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.send(bytes, port, "127.0.0.1", (error) => (error ? reject(error) : resolve()));
  });
}
