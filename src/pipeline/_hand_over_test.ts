import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CHUNK_SERIES, handOver, joinPieces } from "./_hand_over.ts";
import type { PartialBucket, PartialSeries } from "./aggregate/aggregator.ts";
import type { SinkPartial } from "./frame_sink.ts";
import type { WorkerReply } from "./worker_messages.ts";

function series(n: number, prefix: string): PartialSeries[] {
  return Array.from({ length: n }, (_, i) => ({
    key: `${prefix}${i}`,
    name: `${prefix}${i}`,
    labels: [],
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

/** Every series of a partial as `window/key`, in order. */
function flat(partial: SinkPartial): string[] {
  return partial.aggregate.buckets.flatMap((b) => b.series.map((s) => `${b.windowMs}/${s.key}`));
}

describe("handOver()", () => {
  it("handOver() sends a large partial in pieces of at most CHUNK_SERIES series and reads between pieces", () => {
    const partial = partialOf([
      { windowMs: 10_000, series: series(CHUNK_SERIES + 234, "a") },
      { windowMs: 20_000, series: series(CHUNK_SERIES * 2, "b") },
      { windowMs: 30_000, series: [] },
    ]);
    const log: string[] = [];
    const messages: WorkerReply[] = [];
    handOver(7, partial, {
      post(message) {
        messages.push(message);
        log.push(message.kind);
      },
      between: () => log.push("read"),
    });
    // 1734 series: three full pieces, then the partial with the rest; the worker reads after each piece.
    assert.deepEqual(log, ["chunk", "read", "chunk", "read", "chunk", "read", "partial"]);
    const chunks: PartialBucket[] = [];
    for (const message of messages) {
      if (message.kind === "chunk") {
        assert.equal(message.id, 7);
        assert.ok(message.buckets.reduce((n, b) => n + b.series.length, 0) <= CHUNK_SERIES);
        chunks.push(...message.buckets);
      }
    }
    const last = messages.at(-1)!;
    assert.ok(last.kind === "partial" && last.id === 7);
    const joined = joinPieces(chunks, last.partial);
    assert.deepEqual(flat(joined), flat(partial));
    assert.deepEqual({ ...joined.aggregate, buckets: [] }, { ...partial.aggregate, buckets: [] });
    assert.deepEqual(joined.lines, partial.lines);
    assert.equal(joined.eventsDropped, 4);
  });

  it("handOver() sends a small partial as one message and reads nothing in between", () => {
    const partial = partialOf([{ windowMs: 10_000, series: series(3, "a") }]);
    const log: string[] = [];
    handOver(1, partial, { post: (m) => log.push(m.kind), between: () => log.push("read") });
    assert.deepEqual(log, ["partial"]);
  });
});
