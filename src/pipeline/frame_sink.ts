/**
 * What a worker (or the main thread with `workers = 0`) does with each frame: run its format, fold the
 * samples into an {@link Aggregator}, keep the events (bounded), and count lines and bad lines per input.
 *
 * The same class serves the pool and the inline path, so the property test that holds one against the
 * other compares the transport, not two implementations of the reduction.
 *
 * @module
 */

import { createFormatTable } from "../formats/format_table.ts";
import { parseStatsdRange } from "../formats/statsd.ts";
import { FORMAT_IDS } from "../model/frame.ts";
import type { FormatLookup, FormatOptions } from "../formats/format_table.ts";
import type { BadReason, Sample, SampleSink, TallyEvent } from "../model/sample.ts";
import { Aggregator } from "./aggregate/aggregator.ts";
import type { AggregatePartial } from "./aggregate/aggregator.ts";
import type { SeriesNumbers } from "./aggregate/_series_numbers.ts";
import type { FrameVisitor } from "./ring_buffer.ts";

/** The default bound on events kept between two flushes, per worker. */
export const DEFAULT_MAX_EVENTS = 10_000;

/** The bad-line reason counted for a frame whose format id no parser has (a bug, never user input). */
export const UNKNOWN_FORMAT_REASON = "unknown_format";

/** How a frame sink aggregates and bounds its state. */
export interface FrameSinkOptions {
  /** The flush interval in ms. */
  readonly intervalMs: number;
  /** How many observations a summary keeps exactly before the sketch. */
  readonly exactLimit: number;
  /** The most series one window holds. */
  readonly maxSeries: number;
  /** The most events kept between two flushes; more are dropped and counted. */
  readonly maxEvents: number;
  /** The entries a cumulative series keeps per window (the aggregator's `cumulativeEntries`). */
  readonly cumulativeEntries?: number;
  /** The static options of the formats that need some (collectd's types.db); none by default. */
  readonly formats?: FormatOptions;
}

/** Lines seen from one input since the last take. */
export interface LineCount {
  /** The input index. */
  readonly inputId: number;
  /** The lines seen, good and bad. */
  readonly lines: number;
}

/** Bad lines of one input and reason since the last take. */
export interface BadCount {
  /** The input index. */
  readonly inputId: number;
  /** The reason (a `BadReason`, or {@link UNKNOWN_FORMAT_REASON}). */
  readonly reason: BadReason | typeof UNKNOWN_FORMAT_REASON;
  /** How many lines. */
  readonly count: number;
}

/** What a sink hands over at a flush: plain data that survives structured clone. */
export interface SinkPartial {
  /** The aggregated windows up to the flushed one. */
  readonly aggregate: AggregatePartial;
  /** The events since the last take, in arrival order. */
  readonly events: readonly TallyEvent[];
  /** Events dropped since the last take because `maxEvents` were already kept. */
  readonly eventsDropped: number;
  /** Lines per input since the last take. */
  readonly lines: readonly LineCount[];
  /** Bad lines per input and reason since the last take. */
  readonly bad: readonly BadCount[];
  /** Frames skipped because a previous worker died handling them (see `RingBuffer.recover`). */
  readonly framesSkipped: number;
}

/**
 * The per-thread frame handler: a {@link FrameVisitor} for the ring and the {@link SampleSink} its
 * formats write to.
 *
 * @example
 * ```ts
 * const sink = new FrameSink({ intervalMs: 10_000, exactLimit: 256, maxSeries: 100_000, maxEvents: 10_000 });
 * ring.read(sink);
 * postMessage(sink.take(windowMs));
 * ```
 */
export class FrameSink implements FrameVisitor, SampleSink {
  readonly #aggregator: Aggregator;
  readonly #formatById: FormatLookup;
  readonly #maxEvents: number;
  // The frame being parsed: sample() stamps its samples with these.
  #inputId = 0;
  #seq = 0;
  #windowMs = 0;
  #events: TallyEvent[] = [];
  #eventsDropped = 0;
  // Indexed by input id; inputs are few and their ids dense.
  #lines: number[] = [];
  #bad: Array<Map<BadCount["reason"], number> | undefined> = [];
  #framesSkipped = 0;

  /**
   * Creates an empty sink.
   *
   * @param options The aggregation and event bounds, and the format options.
   * @throws {RangeError} When the interval is not positive (from the aggregator).
   * @throws {Error} When a format cannot be built from its options (from `createFormatTable`).
   */
  constructor(options: FrameSinkOptions) {
    this.#formatById = createFormatTable(options.formats ?? {});
    this.#aggregator = new Aggregator({
      intervalMs: options.intervalMs,
      exactLimit: options.exactLimit,
      maxSeries: options.maxSeries,
      ...(options.cumulativeEntries !== undefined ? { cumulativeEntries: options.cumulativeEntries } : {}),
    });
    this.#maxEvents = options.maxEvents;
  }

  /**
   * Parses one frame into the aggregator.
   *
   * @param inputId The input index.
   * @param format The format id.
   * @param seq The frame's arrival sequence.
   * @param windowMs The window the frame was stamped with.
   * @param bytes The frame's bytes; not retained.
   */
  frame(inputId: number, format: number, seq: number, windowMs: number, bytes: Uint8Array): void {
    this.#inputId = inputId;
    this.#seq = seq;
    this.#windowMs = windowMs;
    const parse = this.#formatById(format);
    if (parse === undefined) {
      this.bad(UNKNOWN_FORMAT_REASON);
      return;
    }
    this.#lines[inputId] = (this.#lines[inputId] ?? 0) + parse(bytes, this);
  }

  /**
   * Parses one datagram that sits at `[start, end)` of a larger buffer (a socket reader's batch), as
   * {@link FrameSink.frame} does a whole frame. StatsD, the format read that way at the highest rates,
   * parses the range in place; any other format gets a view of it.
   *
   * @param inputId The input index.
   * @param format The format id.
   * @param seq The datagram's arrival sequence.
   * @param windowMs The window it was stamped with.
   * @param bytes The buffer; not retained.
   * @param start Where the datagram starts.
   * @param end Where it ends, exclusive.
   */
  datagram(
    inputId: number,
    format: number,
    seq: number,
    windowMs: number,
    bytes: Uint8Array,
    start: number,
    end: number,
  ): void {
    if (format !== FORMAT_IDS.statsd) {
      this.frame(inputId, format, seq, windowMs, bytes.subarray(start, end));
      return;
    }
    this.#inputId = inputId;
    this.#seq = seq;
    this.#windowMs = windowMs;
    this.#lines[inputId] = (this.#lines[inputId] ?? 0) + parseStatsdRange(bytes, this, start, end);
  }

  /**
   * Receives one sample of the current frame.
   *
   * @param sample The sample.
   */
  sample(sample: Sample): void {
    this.#aggregator.add(sample, this.#seq, this.#windowMs);
  }

  /**
   * Keeps one event, or counts it as dropped past `maxEvents`.
   *
   * @param event The event.
   */
  event(event: TallyEvent): void {
    if (this.#events.length < this.#maxEvents) this.#events.push(event);
    else this.#eventsDropped++;
  }

  /**
   * Counts one bad line of the current frame's input.
   *
   * @param reason Why the line was rejected.
   */
  bad(reason: BadReason | typeof UNKNOWN_FORMAT_REASON): void {
    let byReason = this.#bad[this.#inputId];
    if (byReason === undefined) {
      byReason = new Map();
      this.#bad[this.#inputId] = byReason;
    }
    byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  }

  /**
   * Counts frames skipped by `RingBuffer.recover`.
   *
   * @param n How many.
   */
  skipped(n: number): void {
    this.#framesSkipped += n;
  }

  /** The series numbers of the sink's aggregator (`Aggregator.numbers`), for the worker's namer. */
  get numbers(): SeriesNumbers {
    return this.#aggregator.numbers;
  }

  /**
   * Hands over the windows up to `upToWindowMs` and every counter and event since the last take, then
   * resets the counters.
   *
   * @param upToWindowMs The newest window to take.
   * @param fold Whether to merge those windows into one stamped `upToWindowMs` (see `Aggregator.take`).
   * @returns The partial.
   */
  take(upToWindowMs: number, fold = false): SinkPartial {
    const lines: LineCount[] = [];
    this.#lines.forEach((n, inputId) => {
      if (n > 0) lines.push({ inputId, lines: n });
    });
    const bad: BadCount[] = [];
    this.#bad.forEach((byReason, inputId) => {
      for (const [reason, count] of byReason ?? []) {
        bad.push({ inputId, reason, count });
      }
    });
    const partial: SinkPartial = {
      aggregate: this.#aggregator.take(upToWindowMs, fold),
      events: this.#events,
      eventsDropped: this.#eventsDropped,
      lines,
      bad,
      framesSkipped: this.#framesSkipped,
    };
    this.#events = [];
    this.#eventsDropped = 0;
    this.#lines = [];
    this.#bad = [];
    this.#framesSkipped = 0;
    return partial;
  }

  /** The series states held across the windows not yet taken. */
  get seriesCount(): number {
    return this.#aggregator.seriesCount;
  }
}
