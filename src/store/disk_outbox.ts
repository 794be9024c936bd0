/**
 * The disk outbox: one output's queue of request bodies in segment files under
 * `<data_dir>/outbox/<output id>/`, replayed in order after a restart, capped in bytes.
 *
 * Layout: `<seq>.seg` segment files (seq zero-padded to 20 digits, ascending = oldest first; format in
 * `_outbox_codec.ts`) and `position`, the read position (segment, offset) of the oldest record not yet
 * acknowledged, in two checksummed slots written alternately (`_outbox_position.ts`).
 *
 * Crash safety, the rules that make every state on disk valid (Vector shipped the bugs these avoid):
 *
 * - A segment with a sequence below the position's is consumed garbage: opening deletes it. Finishing a
 *   segment writes the new position *before* unlinking the old file, so a crash in between leaves garbage
 *   that the next open removes, never a position pointing at nothing useful. A position naming a segment
 *   that no longer exists moves to the oldest one that does.
 * - After a restart the writer always starts a new segment, so a torn tail of the last run is never
 *   followed by good records, and the position (which may be ahead of a segment that lost its unsynced
 *   tail to a power cut) never skips records written later.
 * - A record whose length runs past its segment's end (a torn write) or whose CRC-32 fails is skipped with
 *   the rest of its segment (its boundaries cannot be trusted) and reported; reading goes on with the next
 *   segment. Nothing on disk can make opening or reading throw in a loop.
 * - A position file with no valid slot restarts from the oldest segment (duplicates rather than loss).
 *
 * Durability: `append` writes with `write(2)` before it returns, so a process crash (kill -9, OOM) loses
 * nothing appended. The segment is then `fdatasync`ed asynchronously (off the event loop, at most one sync
 * in flight per file) after every append, and once more when it is finished; a power cut can lose or tear
 * what was appended in the moments before that sync completed, which reading detects and skips. Position
 * updates are not synced: after a power cut the position may be older than it was, which re-sends records
 * (at-least-once) and never loses them. Directory entries are not synced either: a segment created just
 * before a power cut may be missing afterwards, with the same effect as losing its unsynced records.
 *
 * Bounds: the files' total size stays under `maxBytes`; past it whole segments are evicted oldest first
 * (`segmentBytes` each, 1/16 of the cap by default) and reported. Memory holds one entry per segment and
 * the one record being sent, however long the backlog: records are read from disk one at a time.
 *
 * @module
 */

import { closeSync, mkdirSync, openSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../internal/log.ts";
import {
  decodeFormat,
  decodeRecordHeader,
  decodeSegmentPrefix,
  encodeRecords,
  encodeSegmentHeader,
  MAX_RECORD_BODY_BYTES,
  RECORD_HEADER_BYTES,
  recordBytes,
  recordIntact,
  segmentHeaderPrefixBytes,
} from "./_outbox_codec.ts";
import {
  closeFd,
  emptySegment,
  openSegments,
  readAt,
  type Segment,
  segmentName,
  writeAll,
} from "./_outbox_segment.ts";
import { PositionFile } from "./_outbox_position.ts";
import { OutboxSyncs, type SyncedFd, syncedFd } from "./_outbox_syncs.ts";
import type { Outbox, OutboxEntry, OutboxInput, OutboxListener, SkipReason } from "./outbox.ts";

/** The default cap on an outbox's files: 512 MiB. */
export const DEFAULT_OUTBOX_MAX_BYTES = 512 * 1024 * 1024;

/** The smallest segment size chosen by default. */
const MIN_SEGMENT_BYTES = 4 * 1024;
/** The largest segment size chosen by default. */
const MAX_SEGMENT_BYTES = 32 * 1024 * 1024;
/** The default segment size is this share of the cap, so eviction frees 1/16 of it at a time. */
const SEGMENTS_PER_CAP = 16;

const POSITION_FILE = "position";

/** Options of {@link DiskOutbox.open}. */
export interface DiskOutboxOptions {
  /** The outbox directory (created when missing). */
  readonly dir: string;
  /** The encoding of the bodies, stored in each segment; segments of another format are skipped. */
  readonly format: string;
  /** The cap on the segment files' total size, in bytes. */
  readonly maxBytes: number;
  /** The size at which a segment is finished; `maxBytes / 16` (4 KiB to 32 MiB) by default. */
  readonly segmentBytes?: number;
  /** Told about evictions and skipped bytes. */
  readonly listener?: OutboxListener;
  /** Where an unreadable position file is reported. */
  readonly log?: Logger;
}

/** The read position: the segment and the byte offset of the oldest unacknowledged record. */
interface _Position {
  seq: number;
  offset: number;
}

/**
 * A capped FIFO of records in segment files. A resource: {@link DiskOutbox.open} opens it, `close()` closes
 * it. Not safe for two processes at once (one outbox directory per output of one tally).
 *
 * @example
 * ```ts
 * const outbox = DiskOutbox.open({ dir: "data/outbox/vm", format: "remote_write/1.0;snappy", maxBytes: 512 << 20 });
 * outbox.append([{ body, events: 1000 }], Date.now());
 * const entry = outbox.peek();
 * if (entry !== undefined && await send(entry.body)) outbox.ack(entry);
 * ```
 */
export class DiskOutbox implements Outbox {
  readonly #dir: string;
  readonly #format: string;
  readonly #header: Uint8Array;
  readonly #maxBytes: number;
  readonly #segmentBytes: number;
  readonly #listener: OutboxListener | undefined;
  readonly #log: Logger | undefined;
  /** The segments, ascending by sequence. */
  readonly #segments: Segment[] = [];
  readonly #syncs = new OutboxSyncs();
  readonly #position: PositionFile;
  #read: _Position = { seq: 0, offset: 0 };
  #nextSeq = 0;
  #writer: { segment: Segment; fd: SyncedFd } | undefined;
  #reader: { seq: number; fd: number } | undefined;
  #head: OutboxEntry | undefined;
  #totalBytes = 0;
  #closed = false;

  /**
   * Opens (or creates) an outbox directory: deletes consumed segments, reconciles the position with the
   * files present and scans the segments' record headers (not their bodies) to count what is queued.
   * {@link DiskOutbox.open} says the same.
   *
   * @param options The directory, format, cap and listener.
   * @throws {Error} When the directory cannot be created or listed (a permission problem, not its content).
   */
  constructor(options: DiskOutboxOptions) {
    this.#dir = options.dir;
    this.#format = options.format;
    this.#header = encodeSegmentHeader(options.format);
    this.#maxBytes = options.maxBytes;
    this.#segmentBytes = options.segmentBytes ??
      Math.min(
        MAX_SEGMENT_BYTES,
        Math.max(MIN_SEGMENT_BYTES, Math.floor(options.maxBytes / SEGMENTS_PER_CAP)),
      );
    this.#listener = options.listener;
    this.#log = options.log;
    let names: string[];
    try {
      mkdirSync(options.dir, { recursive: true });
      names = readdirSync(options.dir);
      this.#position = new PositionFile(join(options.dir, POSITION_FILE));
    } catch (error) {
      throw new Error(`Cannot open outbox "${options.dir}": ${(error as Error).message}`, { cause: error });
    }
    if (this.#position.damaged) {
      options.log?.warn("Outbox position file is unreadable; replaying from the oldest segment", {
        path: join(options.dir, POSITION_FILE),
      });
    }
    const found = openSegments(options.dir, names, this.#position.position);
    this.#segments.push(...found.segments);
    for (const segment of found.segments) this.#totalBytes += segment.size;
    this.#read = found.read;
    this.#nextSeq = found.nextSeq;
  }

  /**
   * Opens (or creates) an outbox directory; see the constructor.
   *
   * @param options The directory, format, cap and listener.
   * @returns The outbox.
   * @throws {Error} When the directory cannot be created or listed.
   */
  static open(options: DiskOutboxOptions): DiskOutbox {
    return new DiskOutbox(options);
  }

  /** The bytes of records not yet acknowledged (segment headers included). */
  get queuedBytes(): number {
    const first = this.#segments[0];
    if (first === undefined) return 0;
    return this.#totalBytes - (first.seq === this.#read.seq ? this.#read.offset : 0);
  }

  /** The number of records not yet acknowledged. */
  get queuedRecords(): number {
    let n = 0;
    for (const segment of this.#segments) n += segment.records - segment.consumedRecords;
    return n;
  }

  /** The append time of the oldest record not yet acknowledged, or `undefined` when empty. */
  get oldestTimeMs(): number | undefined {
    if (this.#head !== undefined) return this.#head.timeMs;
    for (const segment of this.#segments) {
      if (segment.records - segment.consumedRecords <= 0) continue;
      const start = Math.max(segment.dataStart, segment.seq === this.#read.seq ? this.#read.offset : 0);
      const bytes = this.#pread(segment, start, RECORD_HEADER_BYTES);
      if (bytes === undefined || bytes.length < RECORD_HEADER_BYTES) continue;
      return decodeRecordHeader(bytes).timeMs;
    }
    return undefined;
  }

  /**
   * Appends records: one `write(2)` per segment touched, then an asynchronous `fdatasync`. Records larger
   * than the cap (or than a record may be) are reported as evicted at once. A failed write finishes the
   * segment (its torn tail is skipped on reading) and throws.
   *
   * @param inputs The records.
   * @param timeMs The append time stamped on them.
   * @throws {Error} When writing fails (disk full, I/O error); records before the failed write are kept.
   */
  append(inputs: readonly OutboxInput[], timeMs: number): void {
    this.#assertOpen();
    let group: OutboxInput[] = [];
    let groupBytes = 0;
    try {
      for (const input of inputs) {
        const bytes = recordBytes(input);
        if (input.body.length > MAX_RECORD_BODY_BYTES || bytes + this.#header.length > this.#maxBytes) {
          // Refused at append: no entry of it was ever handed out.
          this.#listener?.evicted(1, input.events, bytes, () => false);
          continue;
        }
        const segment = (this.#writer ?? this.#startSegment()).segment;
        const used = segment.size + groupBytes;
        if (used > segment.dataStart && used + bytes > this.#segmentBytes) {
          this.#writeGroup(group, groupBytes, timeMs);
          group = [];
          groupBytes = 0;
          this.#finishWriter();
          this.#startSegment();
        }
        group.push(input);
        groupBytes += bytes;
      }
      this.#writeGroup(group, groupBytes, timeMs);
    } catch (error) {
      this.#finishWriter();
      throw error;
    } finally {
      if (this.#writer !== undefined) this.#syncs.sync(this.#writer.fd);
      this.#enforceCap();
    }
  }

  /**
   * The oldest unacknowledged record, read from disk (the same object until it is acknowledged). Unreadable
   * records are skipped with the rest of their segment and reported.
   *
   * @returns The record, or `undefined` when the outbox is empty.
   */
  peek(): OutboxEntry | undefined {
    this.#assertOpen();
    if (this.#head !== undefined) return this.#head;
    for (;;) {
      const segment = this.#segments[0];
      if (segment === undefined) return undefined;
      if (segment.seq !== this.#read.seq) this.#read = { seq: segment.seq, offset: 0 };
      const writing = this.#writer?.segment === segment;
      if (!segment.checked) {
        const problem = writing ? undefined : this.#checkHeader(segment);
        if (problem !== undefined) {
          this.#skip(segment, problem, segment.size);
          continue;
        }
        segment.checked = true;
      }
      if (this.#read.offset < segment.dataStart) this.#read.offset = segment.dataStart;
      const offset = this.#read.offset;
      const end = segment.size;
      if (offset >= end) {
        if (writing) return undefined;
        this.#advance(segment);
        continue;
      }
      const header = this.#pread(segment, offset, RECORD_HEADER_BYTES);
      if (header === undefined || header.length < RECORD_HEADER_BYTES) {
        this.#skip(segment, "truncated", end - offset);
        continue;
      }
      const { length, crc, timeMs, events } = decodeRecordHeader(header);
      if (length > MAX_RECORD_BODY_BYTES) {
        this.#skip(segment, "corrupt", end - offset);
        continue;
      }
      const next = offset + RECORD_HEADER_BYTES + length;
      if (next > end) {
        this.#skip(segment, "truncated", end - offset);
        continue;
      }
      const body = this.#pread(segment, offset + RECORD_HEADER_BYTES, length);
      if (body === undefined || body.length < length || !recordIntact(header, body, crc)) {
        this.#skip(segment, "corrupt", end - offset);
        continue;
      }
      this.#head = { body, events, timeMs, segment: segment.seq, offset, next };
      return this.#head;
    }
  }

  /**
   * Acknowledges a record returned by {@link peek}: moves the position past it (renamed into place) and
   * deletes its segment once that is fully consumed and finished. A record evicted in the meantime is
   * ignored.
   *
   * @param entry The record.
   */
  ack(entry: OutboxEntry): void {
    this.#assertOpen();
    if (this.#head === entry) this.#head = undefined;
    const read = this.#read;
    if (entry.segment !== read.seq || entry.next <= read.offset) return;
    const segment = this.#segments[0];
    if (segment === undefined || segment.seq !== entry.segment) return;
    read.offset = entry.next;
    segment.consumedRecords++;
    segment.consumedEvents += entry.events;
    if (this.#writer?.segment !== segment && read.offset >= segment.size) this.#advance(segment);
    else this.#position.write(read);
  }

  /**
   * Finishes the writer (sync and close), closes the reader and waits for pending syncs. Idempotent.
   *
   * @returns Resolves when every file is closed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#finishWriter();
    this.#closeReader();
    this.#position.close();
    this.#closed = true;
    await this.#syncs.settled();
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error(`Cannot use outbox "${this.#dir}": it is closed`);
  }

  /** Checks a segment's header; returns why it cannot be read, or `undefined` (and sets `dataStart`). */
  #checkHeader(segment: Segment): SkipReason | undefined {
    const prefix = this.#pread(segment, 0, segmentHeaderPrefixBytes());
    const formatLength = prefix === undefined ? undefined : decodeSegmentPrefix(prefix);
    if (prefix === undefined || formatLength === undefined) {
      return prefix !== undefined && prefix.length < segmentHeaderPrefixBytes() ? "truncated" : "corrupt";
    }
    const format = this.#pread(segment, prefix.length, formatLength);
    if (format === undefined || format.length < formatLength) return "truncated";
    if (decodeFormat(format) !== this.#format) {
      this.#log?.warn("Skipping an outbox segment written in another format", {
        segment: segment.name,
        format: decodeFormat(format),
        expected: this.#format,
      });
      return "format";
    }
    segment.dataStart = prefix.length + formatLength;
    return undefined;
  }

  /** Reads `length` bytes at `offset` of a segment through the cached reader fd; `undefined` on error. */
  #pread(segment: Segment, offset: number, length: number): Uint8Array | undefined {
    try {
      if (this.#reader?.seq !== segment.seq) {
        this.#closeReader();
        this.#reader = { seq: segment.seq, fd: openSync(segment.path, "r") };
      }
      return readAt(this.#reader.fd, offset, length);
    } catch {
      return undefined;
    }
  }

  /** Reports the rest of the read segment as skipped and moves past it. */
  #skip(segment: Segment, reason: SkipReason, bytes: number): void {
    this.#listener?.skipped(reason, Math.max(0, bytes), segment.name);
    if (this.#writer?.segment === segment) this.#finishWriter();
    this.#advance(segment);
  }

  /** Moves the position to the segment after `segment` (renamed into place first), then deletes it. */
  #advance(segment: Segment): void {
    this.#segments.shift();
    this.#totalBytes -= segment.size;
    if (this.#head?.segment === segment.seq) this.#head = undefined;
    const next = this.#segments[0]?.seq ?? Math.max(this.#nextSeq, segment.seq + 1);
    this.#read = { seq: next, offset: 0 };
    this.#position.write(this.#read);
    if (this.#reader?.seq === segment.seq) this.#closeReader();
    rmSync(segment.path, { force: true });
  }

  #startSegment(): { segment: Segment; fd: SyncedFd } {
    const seq = this.#nextSeq++;
    const name = segmentName(seq);
    const path = join(this.#dir, name);
    const fd = openSync(path, "a");
    try {
      writeAll(fd, this.#header);
    } catch (error) {
      closeSync(fd);
      rmSync(path, { force: true });
      throw error;
    }
    const segment: Segment = {
      ...emptySegment({ seq, name, path }),
      size: this.#header.length,
      dataStart: this.#header.length,
      checked: true,
    };
    this.#segments.push(segment);
    this.#totalBytes += segment.size;
    this.#writer = { segment, fd: syncedFd(fd) };
    return this.#writer;
  }

  #writeGroup(group: readonly OutboxInput[], bytes: number, timeMs: number): void {
    const writer = this.#writer;
    if (group.length === 0 || writer === undefined) return;
    const buffer = new Uint8Array(bytes);
    encodeRecords(buffer, 0, group, timeMs);
    writeAll(writer.fd.fd, buffer);
    writer.segment.size += bytes;
    this.#totalBytes += bytes;
    writer.segment.records += group.length;
    for (const input of group) writer.segment.events += input.events;
  }

  /** Finishes the writer's segment: one last sync, then close; the next append starts a new segment. */
  #finishWriter(): void {
    const writer = this.#writer;
    if (writer === undefined) return;
    this.#writer = undefined;
    this.#syncs.retire(writer.fd);
  }

  #closeReader(): void {
    if (this.#reader === undefined) return;
    closeFd(this.#reader.fd);
    this.#reader = undefined;
  }

  /** Evicts whole segments, oldest first, until the files fit the cap. */
  #enforceCap(): void {
    while (this.#totalBytes > this.#maxBytes) {
      const oldest = this.#segments[0];
      if (oldest === undefined) return;
      if (this.#writer?.segment === oldest) this.#finishWriter();
      const consumedBytes = oldest.seq === this.#read.seq ? Math.max(this.#read.offset, oldest.dataStart) : 0;
      const records = oldest.records - oldest.consumedRecords;
      const events = oldest.events - oldest.consumedEvents;
      const bytes = oldest.size - (consumedBytes > 0 ? consumedBytes : oldest.dataStart);
      // The record at the head goes too, even while it is being sent: oldest first, whatever the sender
      // holds (it notices that `peek` returns another record, and moves on).
      if (this.#head?.segment === oldest.seq) this.#head = undefined;
      const seq = oldest.seq;
      if (records > 0) {
        this.#listener?.evicted(
          records,
          Math.max(0, events),
          Math.max(0, bytes),
          (entry) => entry.segment === seq,
        );
      }
      this.#segments.shift();
      this.#totalBytes -= oldest.size;
      if (oldest.seq >= this.#read.seq) {
        this.#read = { seq: this.#segments[0]?.seq ?? Math.max(this.#nextSeq, oldest.seq + 1), offset: 0 };
        this.#position.write(this.#read);
      }
      if (this.#reader?.seq === oldest.seq) this.#closeReader();
      rmSync(oldest.path, { force: true });
    }
  }
}
