import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FORMAT_IDS } from "../model/frame.ts";
import { forgetIdentities } from "../formats/_statsd_identity.ts";
import { counterFinish } from "./aggregate/counter_reducer.ts";
import { FrameSink, UNKNOWN_FORMAT_REASON } from "./frame_sink.ts";

const T0 = 1_700_000_000_000;

function sink(maxEvents = 10): FrameSink {
  return new FrameSink({ intervalMs: 10_000, exactLimit: 16, maxSeries: 100, maxEvents });
}

function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

describe("FrameSink", () => {
  it("frame() aggregates samples under the frame's window and take() hands them over once", () => {
    const s = sink();
    s.frame(0, FORMAT_IDS.statsd, 1, T0, text("a:1|c\na:2|c"));
    s.frame(0, FORMAT_IDS.statsd, 2, T0 + 10_000, text("a:5|c"));
    const first = s.take(T0);
    assert.deepEqual(first.aggregate.buckets.map((b) => b.windowMs), [T0]);
    const state = first.aggregate.buckets[0]!.series[0]!.state;
    assert.equal(state.kind === "counter" ? counterFinish(state) : NaN, 3);
    assert.equal(s.seriesCount, 1);
    assert.deepEqual(s.take(T0 + 10_000).aggregate.buckets.map((b) => b.windowMs), [T0 + 10_000]);
  });

  it("datagram() parses a range of a larger buffer as frame() parses the same bytes alone, any format", () => {
    const statsd = "a:1|c\na:2|c\nb:u1|s\nnot a line";
    const influx = "m,host=a v=1i 1700000000000000000";
    for (
      const [format, payload] of [[FORMAT_IDS.statsd, statsd], [FORMAT_IDS.influx_line, influx]] as const
    ) {
      const bytes = text(`junk before${payload}junk after`);
      const start = "junk before".length;
      const end = start + text(payload).length;
      const byRange = sink();
      byRange.datagram(2, format, 7, T0, bytes, start, end);
      const alone = sink();
      alone.frame(2, format, 7, T0, text(payload));
      assert.deepEqual(byRange.take(T0), alone.take(T0), `format ${format}`);
    }
  });

  it("datagram() keeps windows exact while the parser's identities hold their states, across the cache emptied", () => {
    const s = sink();
    // One buffer for every call, as a socket reader's batch memory is.
    const bytes = text("a:1|c\nb:2|c\na:4|c");
    s.datagram(0, FORMAT_IDS.statsd, 1, T0, bytes, 0, bytes.length);
    s.datagram(0, FORMAT_IDS.statsd, 2, T0 + 10_000, bytes, 0, bytes.length);
    forgetIdentities(); // new identity objects for the same series, the old ones' places still set
    s.datagram(0, FORMAT_IDS.statsd, 3, T0 + 10_000, bytes, 0, 5);
    s.datagram(0, FORMAT_IDS.statsd, 4, T0, bytes, 6, 11);
    const sums = s.take(T0 + 10_000).aggregate.buckets.map((b) =>
      b.series.map((x) =>
        `${b.windowMs - T0} ${x.key} ${x.state.kind === "counter" ? counterFinish(x.state) : NaN}`
      )
    );
    assert.deepEqual(sums, [["0 a 5", "0 b 4"], ["10000 a 6", "10000 b 2"]]);
  });

  it("take() reports lines and bad lines per input and reason, then resets them", () => {
    const s = sink();
    s.frame(0, FORMAT_IDS.statsd, 1, T0, text("a:1|c\ngarbage"));
    s.frame(3, FORMAT_IDS.statsd, 2, T0, text("b:1|zz\nc:1|zz\nd:1|c"));
    s.frame(3, 99, 3, T0, text("e:1|c"));
    const partial = s.take(T0);
    assert.deepEqual(partial.lines, [{ inputId: 0, lines: 2 }, { inputId: 3, lines: 3 }]);
    assert.deepEqual(partial.bad, [
      { inputId: 0, reason: "no_value", count: 1 },
      { inputId: 3, reason: "unknown_type", count: 2 },
      { inputId: 3, reason: UNKNOWN_FORMAT_REASON, count: 1 },
    ]);
    const next = s.take(T0);
    assert.deepEqual([next.lines, next.bad], [[], []]);
  });

  it("event() keeps at most maxEvents per take and counts the rest", () => {
    const s = sink(2);
    s.frame(0, FORMAT_IDS.statsd, 1, T0, text("_e{1,1}:a|x\n_e{1,1}:b|x\n_e{1,1}:c|x"));
    const partial = s.take(T0);
    assert.deepEqual(partial.events.map((e) => e.title), ["a", "b"]);
    assert.equal(partial.eventsDropped, 1);
    assert.equal(s.take(T0).eventsDropped, 0);
  });

  it("skipped() is reported once in the next partial", () => {
    const s = sink();
    s.skipped(1);
    assert.equal(s.take(T0).framesSkipped, 1);
    assert.equal(s.take(T0).framesSkipped, 0);
  });
});
