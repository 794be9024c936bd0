/**
 * The memory outbox: the same capped FIFO as the disk outbox, held in memory, for outputs configured with
 * `outbox = "memory"` (a read-only disk, or data not worth keeping across a restart). What it holds is
 * lost when the process stops; the cap and the oldest-first eviction are the same.
 *
 * @module
 */

import { RECORD_HEADER_BYTES, recordBytes } from "./_outbox_codec.ts";
import type { Outbox, OutboxEntry, OutboxInput, OutboxListener } from "./outbox.ts";

/** Options of {@link MemoryOutbox}. */
export interface MemoryOutboxOptions {
  /** The cap on the records' total size in bytes (counted as on disk: body plus a 20-byte header). */
  readonly maxBytes: number;
  /** Told about evictions. */
  readonly listener?: OutboxListener;
}

/**
 * A capped in-memory FIFO of records.
 *
 * @example
 * ```ts
 * const outbox = new MemoryOutbox({ maxBytes: 64 << 20 });
 * outbox.append([{ body, events: 10 }], Date.now());
 * const entry = outbox.peek();
 * ```
 */
export class MemoryOutbox implements Outbox {
  readonly #maxBytes: number;
  readonly #listener: OutboxListener | undefined;
  /** The records; `#first` is the index of the oldest one still queued. */
  #entries: OutboxEntry[] = [];
  #first = 0;
  #bytes = 0;
  #seq = 0;

  /**
   * Creates an empty outbox.
   *
   * @param options The cap and listener.
   */
  constructor(options: MemoryOutboxOptions) {
    this.#maxBytes = options.maxBytes;
    this.#listener = options.listener;
  }

  /** The bytes of records not yet acknowledged. */
  get queuedBytes(): number {
    return this.#bytes;
  }

  /** The number of records not yet acknowledged. */
  get queuedRecords(): number {
    return this.#entries.length - this.#first;
  }

  /** The append time of the oldest record, or `undefined` when empty. */
  get oldestTimeMs(): number | undefined {
    return this.#entries[this.#first]?.timeMs;
  }

  /**
   * Appends records, then evicts the oldest ones past the cap.
   *
   * @param inputs The records.
   * @param timeMs The append time.
   */
  append(inputs: readonly OutboxInput[], timeMs: number): void {
    for (const input of inputs) {
      const bytes = recordBytes(input);
      if (bytes > this.#maxBytes) {
        // Refused at append: no entry of it was ever handed out.
        this.#listener?.evicted(1, input.events, bytes, () => false);
        continue;
      }
      const seq = this.#seq++;
      this.#entries.push({
        body: input.body,
        events: input.events,
        timeMs,
        segment: seq,
        offset: 0,
        next: 1,
      });
      this.#bytes += bytes;
    }
    let records = 0;
    let events = 0;
    let bytes = 0;
    const from = this.#first;
    while (this.#bytes > this.#maxBytes && this.#first < this.#entries.length) {
      const entry = this.#entries[this.#first++]!;
      const size = RECORD_HEADER_BYTES + entry.body.length;
      this.#bytes -= size;
      records++;
      events += entry.events;
      bytes += size;
    }
    if (records > 0) {
      // Entries are numbered in order (`segment`): the evicted ones are the range just passed over.
      const oldest = this.#entries[from]!.segment;
      const newest = this.#entries[this.#first - 1]!.segment;
      const holds = (entry: OutboxEntry): boolean => entry.segment >= oldest && entry.segment <= newest;
      this.#listener?.evicted(records, events, bytes, holds);
    }
    this.#compact();
  }

  /**
   * The oldest record.
   *
   * @returns The record, or `undefined` when empty.
   */
  peek(): OutboxEntry | undefined {
    return this.#entries[this.#first];
  }

  /**
   * Drops the oldest record if it is `entry` (an entry evicted meanwhile is ignored).
   *
   * @param entry The record from {@link peek}.
   */
  ack(entry: OutboxEntry): void {
    if (this.#entries[this.#first] !== entry) return;
    this.#first++;
    this.#bytes -= RECORD_HEADER_BYTES + entry.body.length;
    this.#compact();
  }

  /**
   * Drops every record.
   *
   * @returns Resolves at once.
   */
  close(): Promise<void> {
    this.#entries = [];
    this.#first = 0;
    this.#bytes = 0;
    return Promise.resolve();
  }

  /** Drops the consumed prefix of the array once it is the larger part. */
  #compact(): void {
    if (this.#first > 1024 && this.#first * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#first);
      this.#first = 0;
    }
  }
}
