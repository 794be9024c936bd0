/**
 * One disk-outbox segment file as the outbox tracks it, and the file operations on segments: naming,
 * reconciling the files with the read position and scanning their record headers at open, positional
 * reads and whole writes.
 *
 * @module
 */

import { closeSync, fstatSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import {
  decodeRecordHeader,
  decodeSegmentPrefix,
  MAX_RECORD_BODY_BYTES,
  RECORD_HEADER_BYTES,
  segmentHeaderPrefixBytes,
} from "./_outbox_codec.ts";

/** A segment file name: the sequence zero-padded to 20 digits, so names sort as the sequence does. */
export const SEGMENT_NAME_REGEXP = /^(\d{20})\.seg$/;

/** One segment file. */
export interface Segment {
  /** The sequence number (ascending = older first). */
  readonly seq: number;
  /** The file name. */
  readonly name: string;
  /** The file path. */
  readonly path: string;
  /** The file's size in bytes. */
  size: number;
  /** Where the first record starts (after the header); 0 until the header was checked. */
  dataStart: number;
  /** Whether the header was checked in this process. */
  checked: boolean;
  /** Records in the file (as far as they could be scanned). */
  records: number;
  /** Events in those records. */
  events: number;
  /** Records before the read position (only the read segment has any). */
  consumedRecords: number;
  /** Events in those records. */
  consumedEvents: number;
}

/**
 * The file name of segment `seq`.
 *
 * @param seq The sequence number.
 * @returns E.g. `00000000000000000042.seg`.
 */
export function segmentName(seq: number): string {
  return `${String(seq).padStart(20, "0")}.seg`;
}

/**
 * A segment with nothing known about its content yet.
 *
 * @param where Its sequence, name and path.
 * @returns The segment, size 0, unchecked, no records.
 */
export function emptySegment(where: { seq: number; name: string; path: string }): Segment {
  return {
    ...where,
    size: 0,
    dataStart: 0,
    checked: false,
    records: 0,
    events: 0,
    consumedRecords: 0,
    consumedEvents: 0,
  };
}

/**
 * Counts a segment's records by hopping over their headers (bodies are neither read nor checked); a bad
 * tail, a bad magic or an unreadable file just ends the count: reading the segment later skips what is
 * bad and reports why.
 *
 * @param where Its sequence, name and path.
 * @param readOffset The read position in this segment; records before it count as consumed.
 * @returns The segment with its size and counts.
 */
export function scanSegment(where: { seq: number; name: string; path: string }, readOffset: number): Segment {
  const segment = emptySegment(where);
  let fd: number;
  try {
    fd = openSync(where.path, "r");
  } catch {
    return segment;
  }
  try {
    segment.size = fstatSync(fd).size;
    const prefix = readAt(fd, 0, segmentHeaderPrefixBytes());
    const formatLength = decodeSegmentPrefix(prefix);
    if (formatLength === undefined) return segment;
    let offset = prefix.length + formatLength;
    while (offset + RECORD_HEADER_BYTES <= segment.size) {
      const { length, events } = decodeRecordHeader(readAt(fd, offset, RECORD_HEADER_BYTES));
      const next = offset + RECORD_HEADER_BYTES + length;
      if (length > MAX_RECORD_BODY_BYTES || next > segment.size) break;
      segment.records++;
      segment.events += events;
      if (offset < readOffset) {
        segment.consumedRecords++;
        segment.consumedEvents += events;
      }
      offset = next;
    }
  } catch {
    // An unreadable file counts what was read so far.
  } finally {
    closeSync(fd);
  }
  return segment;
}

/** What {@link openSegments} found in an outbox directory. */
export interface OpenedSegments {
  /** The segments still to read, ascending by sequence. */
  readonly segments: Segment[];
  /** The read position, moved to the oldest segment present when the saved one names none. */
  readonly read: { seq: number; offset: number };
  /** The sequence the next new segment takes. */
  readonly nextSeq: number;
}

/**
 * Reconciles an outbox directory's segment files with its saved read position: deletes the segments
 * before the position (consumed before a crash that came between advancing the position and the unlink),
 * scans the record headers of the rest, and moves a position that names a segment no longer present to
 * the oldest one that is.
 *
 * @param dir The outbox directory.
 * @param names The file names in it; names that are not segments, or whose number JavaScript cannot hold
 *   exactly (not written by tally), are left alone.
 * @param saved The position read from the position file, or `undefined` when it had none (start at the
 *   oldest segment).
 * @returns The segments, the read position and the next sequence.
 */
export function openSegments(
  dir: string,
  names: readonly string[],
  saved: { readonly seq: number; readonly offset: number } | undefined,
): OpenedSegments {
  const seqs = names
    .map((name) => Number(SEGMENT_NAME_REGEXP.exec(name)?.[1]))
    .filter((seq) => Number.isSafeInteger(seq))
    .sort((a, b) => a - b);
  let read = saved !== undefined
    ? { seq: saved.seq, offset: saved.offset }
    : { seq: seqs[0] ?? 0, offset: 0 };
  const nextSeq = Math.max((seqs.at(-1) ?? -1) + 1, read.seq);
  const segments: Segment[] = [];
  for (const seq of seqs) {
    const name = segmentName(seq);
    const path = join(dir, name);
    if (seq < read.seq) {
      rmSync(path, { force: true });
      continue;
    }
    segments.push(scanSegment({ seq, name, path }, seq === read.seq ? read.offset : 0));
  }
  const first = segments[0];
  if (first !== undefined && first.seq !== read.seq) read = { seq: first.seq, offset: 0 };
  return { segments, read, nextSeq };
}

/**
 * Reads up to `length` bytes at `offset`; fewer at the end of the file.
 *
 * @param fd The file descriptor.
 * @param offset Where to read.
 * @param length How many bytes.
 * @returns The bytes read.
 * @throws {Error} On an I/O error.
 */
export function readAt(fd: number, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, out, got, length - got, offset + got);
    if (n <= 0) break;
    got += n;
  }
  return got === length ? out : out.subarray(0, got);
}

/**
 * Writes every byte (`writeSync` may write fewer than asked).
 *
 * @param fd The file descriptor.
 * @param bytes The bytes.
 * @throws {Error} On an I/O error (disk full); part of the bytes may have been written.
 */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}

/**
 * Closes a descriptor, ignoring one already closed.
 *
 * @param fd The file descriptor.
 */
export function closeFd(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already closed: nothing left to release.
  }
}
