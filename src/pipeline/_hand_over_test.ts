import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CHUNK_SERIES, handOver, SeriesDictionary, SeriesNamer } from "./_hand_over.ts";
import { Aggregator, type PartialBucket, type PartialSeries } from "./aggregate/aggregator.ts";
import type { SinkPartial } from "./frame_sink.ts";
import type { Piece, WorkerReply } from "./worker_messages.ts";

function series(n: number, prefix: string): PartialSeries[] {
  return Array.from({ length: n }, (_, i) => ({
    key: `${prefix}${i}`,
    name: `${prefix}${i}`,
    labels: [["host", `h${i % 3}`]],
    kind: "counter",
    state: { kind: "counter", sum: i },
  }));
}

function partialOf(buckets: PartialBucket[]): SinkPartial {
  return {
    aggregate: { buckets, rejected: 1, invalid: 3 },
    events: [],
    eventsDropped: 4,
    lines: [{ inputId: 0, lines: 9 }],
    bad: [],
    framesSkipped: 0,
  };
}

/** Every series of some buckets as `window/key/kind/name/labels/sum`, in order. */
function flat(buckets: readonly PartialBucket[]): string[] {
  return buckets.flatMap((b) =>
    b.series.map((s) =>
      `${b.windowMs}/${s.key}/${s.kind}/${s.name}/${JSON.stringify(s.labels)}/${JSON.stringify(s.state)}`
    )
  );
}

/** Hands `partial` over and returns the messages posted and the order of posts and reads. */
function handOverAll(namer: SeriesNamer, partial: SinkPartial): { messages: WorkerReply[]; log: string[] } {
  const messages: WorkerReply[] = [];
  const log: string[] = [];
  handOver(7, partial, {
    namer,
    post(message) {
      // What crosses the thread is a copy, as postMessage makes it.
      messages.push(structuredClone(message));
      log.push(message.kind);
    },
    between: () => log.push("read"),
  });
  return { messages, log };
}

function pieces(messages: readonly WorkerReply[]): Piece[] {
  return messages.flatMap((m) => m.kind === "chunk" || m.kind === "partial" ? [m.piece] : []);
}

function read(dictionary: SeriesDictionary, messages: readonly WorkerReply[]): PartialBucket[] {
  return pieces(messages).flatMap((piece) => dictionary.buckets(piece));
}

describe("handOver()", () => {
  it("handOver() sends a large partial in pieces of at most CHUNK_SERIES series and reads between pieces", () => {
    const partial = partialOf([
      { windowMs: 10_000, series: series(CHUNK_SERIES + 234, "a") },
      { windowMs: 20_000, series: series(CHUNK_SERIES * 2, "b") },
      { windowMs: 30_000, series: [] },
    ]);
    const { messages, log } = handOverAll(new SeriesNamer(100_000), partial);
    // 1734 series: three full pieces, then the partial with the rest; the worker reads after each piece.
    assert.deepEqual(log, ["chunk", "read", "chunk", "read", "chunk", "read", "partial"]);
    for (const piece of pieces(messages)) {
      assert.ok(piece.buckets.reduce((n, b) => n + b.ids.length, 0) <= CHUNK_SERIES);
    }
    const last = messages.at(-1)!;
    assert.ok(last.kind === "partial" && last.id === 7);
    assert.deepEqual(flat(read(new SeriesDictionary(), messages)), flat(partial.aggregate.buckets));
    assert.deepEqual(last.partial.aggregate, { buckets: [], rejected: 1, invalid: 3 });
    assert.deepEqual(last.partial.lines, partial.lines);
    assert.equal(last.partial.eventsDropped, 4);
  });

  it("handOver() sends a small partial as one message and reads nothing in between", () => {
    const partial = partialOf([{ windowMs: 10_000, series: series(3, "a") }]);
    const { log } = handOverAll(new SeriesNamer(100), partial);
    assert.deepEqual(log, ["partial"]);
  });

  it("names a series once, then sends only its number, and the dictionary still knows it", () => {
    const namer = new SeriesNamer(100);
    const dictionary = new SeriesDictionary();
    const first = handOverAll(namer, partialOf([{ windowMs: 10_000, series: series(3, "a") }]));
    assert.deepEqual(pieces(first.messages)[0]!.defs.map((d) => d.key), ["a0", "a1", "a2"]);
    read(dictionary, first.messages);

    const again = partialOf([{ windowMs: 20_000, series: [...series(3, "a").reverse(), ...series(1, "b")] }]);
    const second = handOverAll(namer, again);
    const piece = pieces(second.messages)[0]!;
    // Only the new series is named; the known ones go by the numbers given the first time.
    assert.deepEqual(piece.defs.map((d) => d.key), ["b0"]);
    assert.deepEqual([...piece.buckets[0]!.ids], [2, 1, 0, 3]);
    assert.deepEqual(flat(read(dictionary, second.messages)), flat(again.aggregate.buckets));
  });

  it("gives each kind of one key its own number", () => {
    const namer = new SeriesNamer(100);
    const timer: PartialSeries = {
      key: "a0",
      name: "a0",
      labels: [],
      kind: "timer",
      state: { kind: "counter", sum: 9 },
    };
    const partial = partialOf([{ windowMs: 10_000, series: [...series(1, "a"), timer] }]);
    const { messages } = handOverAll(namer, partial);
    const piece = pieces(messages)[0]!;
    assert.deepEqual(piece.defs.map((d) => `${d.id}:${d.key}:${d.kind}`), ["0:a0:counter", "1:a0:timer"]);
    assert.deepEqual(flat(read(new SeriesDictionary(), messages)), flat(partial.aggregate.buckets));
    // Both kinds are known the next time.
    assert.deepEqual(pieces(handOverAll(namer, partial).messages)[0]!.defs, []);
  });

  it("starts a new generation past its limit, names everything again, and the dictionary follows", () => {
    const namer = new SeriesNamer(4);
    const dictionary = new SeriesDictionary();
    const first = partialOf([{ windowMs: 10_000, series: series(3, "a") }]);
    read(dictionary, handOverAll(namer, first).messages);
    const more = partialOf([{ windowMs: 20_000, series: series(2, "b") }]);
    read(dictionary, handOverAll(namer, more).messages);
    assert.equal(namer.generation, 1);

    // Five numbers given, past the limit of four: the next hand-over starts over.
    const next = partialOf([{ windowMs: 30_000, series: [...series(1, "b"), ...series(1, "c")] }]);
    const { messages } = handOverAll(namer, next);
    assert.equal(namer.generation, 2);
    const piece = pieces(messages)[0]!;
    assert.equal(piece.generation, 2);
    assert.deepEqual(piece.defs.map((d) => `${d.id}:${d.key}`), ["0:b0", "1:c0"]);
    assert.deepEqual(flat(read(dictionary, messages)), flat(next.aggregate.buckets));
  });

  it("names series by the aggregator's numbers when given them, and again once the aggregator renews them", () => {
    const agg = new Aggregator({ intervalMs: 10_000, exactLimit: 256, maxSeries: 2 });
    const namer = new SeriesNamer(100, agg.numbers);
    const dictionary = new SeriesDictionary();
    const add = (key: string, windowMs: number): void =>
      agg.add(
        {
          name: key,
          labels: [],
          key,
          kind: "counter",
          value: 1,
          member: "",
          rate: 1,
          gaugeDelta: false,
          timeMs: 0,
        },
        1,
        windowMs,
      );
    const handOverTaken = (upTo: number): { piece: Piece; buckets: PartialBucket[] } => {
      const { messages } = handOverAll(namer, partialOf([...agg.take(upTo).buckets]));
      return { piece: pieces(messages)[0]!, buckets: read(dictionary, messages) };
    };
    add("x", 10_000);
    add("y", 10_000);
    add("y", 20_000);
    const first = handOverTaken(10_000);
    assert.deepEqual(
      first.piece.defs.map((d) => `${d.id}:${d.key}`),
      ["0:x", "1:y"],
      "the aggregator's numbers",
    );
    assert.deepEqual(first.buckets[0]!.series.map((s) => s.key), ["x", "y"]);
    add("z", 20_000);
    // Three numbers given, not past twice the cap of 2: y is sent by number, z named.
    const second = handOverTaken(20_000);
    assert.equal(second.piece.generation, 1);
    assert.deepEqual(second.piece.defs.map((d) => `${d.id}:${d.key}`), ["2:z"]);
    assert.deepEqual([...second.piece.buckets[0]!.ids], [1, 2]);
    add("w", 30_000);
    add("v", 30_000);
    add("w", 40_000);
    // Five numbers past four: the take starts them over with window 40 000's w, and the namer names again.
    const third = handOverTaken(30_000);
    assert.equal(agg.numbers.generation, 2);
    assert.equal(third.piece.generation, 2);
    assert.deepEqual(third.piece.defs.map((d) => `${d.id}:${d.key}`), ["0:w", "1:v"]);
    assert.deepEqual(third.buckets[0]!.series.map((s) => s.key), ["w", "v"]);
    const fourth = handOverTaken(40_000);
    assert.deepEqual(fourth.piece.defs, []);
    assert.deepEqual(fourth.buckets[0]!.series.map((s) => s.key), ["w"]);
  });

  it("a dictionary refuses a number it was never told, naming it", () => {
    const namer = new SeriesNamer(100);
    handOverAll(namer, partialOf([{ windowMs: 10_000, series: series(2, "a") }]));
    const { messages } = handOverAll(namer, partialOf([{ windowMs: 20_000, series: series(2, "a") }]));
    assert.throws(() => read(new SeriesDictionary(), messages), /series number 0 was never named/);
  });
});
