import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeValueLists } from "../inputs/collectd/_test_packets.ts";
import { sealCollectdPacket } from "../inputs/collectd/seal.ts";
import { FORMAT_IDS } from "../model/frame.ts";
import { gaugeFinish } from "./aggregate/gauge_reducer.ts";
import { FrameSink } from "./frame_sink.ts";
import { DatagramOpener, REFUSAL_REASONS } from "./_datagram_opener.ts";

const T0 = 1_700_000_000_000;
const SINK = {
  intervalMs: 10_000,
  exactLimit: 64,
  maxSeries: 1000,
  maxEvents: 100,
  formats: { collectd: { typesDb: "tally_g value:GAUGE:U:U\n" } },
};

function gauge(host: string, value: number): Uint8Array {
  return encodeValueLists([{
    host,
    plugin: "p",
    type: "tally_g",
    time: T0 / 1000,
    values: [{ type: "gauge", value }],
  }]);
}

/** Datagrams back to back in one buffer, as a `recvmmsg` batch holds them. */
function batch(datagrams: readonly Uint8Array[]): { bytes: Uint8Array; starts: number[] } {
  const starts = [0];
  for (const d of datagrams) starts.push(starts[starts.length - 1]! + d.length);
  const bytes = new Uint8Array(new SharedArrayBuffer(starts[starts.length - 1]!));
  datagrams.forEach((d, i) => bytes.set(d, starts[i]!));
  return { bytes, starts };
}

describe("DatagramOpener", () => {
  it("opens datagrams inside a batch as collectd does at level none: plain and signed parsed, encrypted refused", () => {
    const plain = gauge("plain", 1);
    const signedPayload = gauge("signed", 2);
    const datagrams = [
      plain,
      sealCollectdPacket(signedPayload, { mode: "sign", user: "u", password: "p" }),
      sealCollectdPacket(gauge("encrypted", 3), { mode: "encrypt", user: "u", password: "p" }),
    ];
    const { bytes, starts } = batch(datagrams);
    const sink = new FrameSink(SINK);
    const opener = new DatagramOpener(sink);
    for (let i = 0; i < datagrams.length; i++) {
      opener.open(0, FORMAT_IDS.collectd, i + 1, T0, bytes, starts[i]!, starts[i + 1]!);
    }
    // Bytes are the sections handed on: the plain packet and the signed one without its signature part.
    assert.equal(opener.bytes, plain.length + signedPayload.length);
    const refused = Object.fromEntries(REFUSAL_REASONS.map((reason, i) => [reason, opener.refused[i]]));
    assert.deepEqual(refused, {
      unknown_user: 1,
      bad_signature: 0,
      bad_checksum: 0,
      required: 0,
      malformed: 0,
    });
    const partial = sink.take(T0);
    const gauges = partial.aggregate.buckets[0]!.series.map((s) => [
      s.key.split("\u0001").pop(),
      s.state.kind === "gauge" ? gaugeFinish(s.state, 0) : NaN,
    ]);
    assert.deepEqual(gauges.sort(), [["plain", 1], ["signed", 2]]);
    assert.deepEqual(partial.lines, [{ inputId: 0, lines: 2 }]);
  });
});
