/**
 * The outbox contract: a bounded FIFO of request bodies that one output appends at each flush and its
 * sender drains in order. `DiskOutbox` keeps it in segment files under the data directory (the default);
 * `MemoryOutbox` keeps it in memory (lost on restart) for outputs configured with `outbox = "memory"`.
 *
 * Delivery is at-least-once: a record stays at the head until it is acknowledged, so a crash between a
 * send and its acknowledgement sends it again. Both kinds cap their size and evict the oldest records
 * first, counting what they evicted.
 *
 * @module
 */

import type { OutboxInput } from "./_outbox_codec.ts";

/** The bytes a record takes in an outbox, as its cap counts them: a header plus the body. */
export { recordBytes } from "./_outbox_codec.ts";

export type { OutboxInput } from "./_outbox_codec.ts";

/** The record at the head of an outbox, as {@link Outbox.peek} returns it. */
export interface OutboxEntry {
  /** The request body. */
  readonly body: Uint8Array;
  /** How many events the body carries. */
  readonly events: number;
  /** When the record was appended, in ms since the epoch. */
  readonly timeMs: number;
  /** Where the record lies, for {@link Outbox.ack}; opaque to callers. */
  readonly segment: number;
  /** The offset of the record in its segment; opaque to callers. */
  readonly offset: number;
  /** The offset just past the record; opaque to callers. */
  readonly next: number;
}

/** Why records were skipped without being sent. */
export type SkipReason = "corrupt" | "truncated" | "format";

/** What an outbox reports as it evicts or skips, for the output's self-metrics and log. */
export interface OutboxListener {
  /**
   * Records were evicted to keep the outbox under its cap (oldest first).
   *
   * @param records How many records.
   * @param events How many events they carried.
   * @param bytes How many bytes they took.
   * @param holds Whether an entry {@link Outbox.peek} gave out is among them (the one a sender has on the
   *   wire, whose count the sender may settle by how its request ends).
   */
  evicted(records: number, events: number, bytes: number, holds: (entry: OutboxEntry) => boolean): void;
  /**
   * Bytes were skipped on reading: a record whose checksum failed (`corrupt`), a segment that ends inside a
   * record (`truncated`, a torn write), or a segment written in another format (`format`).
   *
   * @param reason Why.
   * @param bytes How many bytes of the segment were skipped.
   * @param segment The segment's file name.
   */
  skipped(reason: SkipReason, bytes: number, segment: string): void;
}

/** A bounded FIFO of request bodies. */
export interface Outbox {
  /**
   * Appends records in order, synchronously: when it returns, a disk outbox has written them (they survive a
   * process crash). Evicts the oldest records when the cap is exceeded.
   *
   * @param inputs The records.
   * @param timeMs The append time stamped on them.
   */
  append(inputs: readonly OutboxInput[], timeMs: number): void;
  /**
   * The oldest record not yet acknowledged, or `undefined` when the outbox is empty; the same object until
   * it is acknowledged or evicted, so a sender holding a record can tell it was evicted meanwhile
   * (`peek()` then returns another one). Records that cannot be read back are skipped (and reported).
   */
  peek(): OutboxEntry | undefined;
  /**
   * Acknowledges a record returned by {@link peek}: it will not be returned again (unless the process dies
   * before the acknowledgement is recorded).
   */
  ack(entry: OutboxEntry): void;
  /** The bytes of records not yet acknowledged. */
  readonly queuedBytes: number;
  /** The number of records not yet acknowledged. */
  readonly queuedRecords: number;
  /** The append time of the oldest record not yet acknowledged, or `undefined` when empty. */
  readonly oldestTimeMs: number | undefined;
  /** Closes files; resolves when pending syncs finished. Idempotent. */
  close(): Promise<void>;
}
