/**
 * The pipeline `tally run` wires between the inputs and the store: frames in, one merged set of metrics
 * per flush window out.
 *
 * Inputs get an emit function from {@link Pipeline.register}; each frame is stamped with an arrival
 * sequence and the open window, then copied into a worker's ring (or, with `workers = 0`, parsed right
 * away on the main thread). A timer aligned to wall-clock multiples of the interval closes a window:
 * it first moves the stamp for new frames to the next window, then asks every worker for its windows up
 * to the closed one (with the ring's write position, so the worker reads every frame stamped before),
 * merges the partials in the {@link SeriesTable}, expires idle series and hands the result to `onFlush`.
 *
 * An input may instead hand a UDP socket to the workers ({@link Pipeline.attachSocket}): they read its
 * datagrams themselves and stamp them from a {@link SharedStamp}, the arrival sequence and open window this
 * class keeps in shared memory whenever there are workers, so that both paths share one order.
 *
 * Self-metrics: per input the uniform component counters (lines received, bytes received, frames
 * dropped with reason `ring_full`, `frame_too_large` or `stopped`, errors `bad_line`, and `socket` for
 * failed reads of a socket the workers read) and `tally_bad_lines_total{reason}`
 * (per source when an input registers its sources apart, with their labels, e.g. `script`); for the
 * pipeline `tally_series_live`, `tally_series_rejected_total`, `tally_flush_duration_seconds`,
 * `tally_ring_fill_ratio{worker}`, `tally_events_dropped_total`, `tally_worker_restarts_total`,
 * `tally_samples_dropped_total{reason}`, `tally_frames_skipped_total` and
 * `tally_flush_windows_folded_total`.
 *
 * Flushes never overlap. When one takes longer than the interval, the windows that close meanwhile join
 * the one flush waiting behind it. When storing them apart would take more rows than the series cap, it
 * folds them into one point per series spanning them all (totals, last gauge values, distinct members and
 * distributions are kept; only the time resolution is lost, and each point's `intervalMs` says how long it
 * spans). So a collector that cannot keep up holds a bounded number of windows and stores a bounded
 * number of rows per flush, instead of falling further behind.
 *
 * @module
 */

import type { FormatOptions } from "../formats/format_table.ts";
import type { SocketOpening } from "./_datagram_opener.ts";
import type { Logger } from "../internal/log.ts";
import type { SelfStats } from "../internal/self_stats.ts";
import type { FormatId } from "../model/frame.ts";
import type { Metric } from "../model/metric.ts";
import type { TallyEvent } from "../model/sample.ts";
import { seriesIdentity, SeriesTable } from "./aggregate/series_table.ts";
import type { SeriesConsumer } from "./_hand_over.ts";
import { DEFAULT_MAX_EVENTS, FrameSink } from "./frame_sink.ts";
import type { SinkPartial } from "./frame_sink.ts";
import { Pool } from "./pool.ts";
import { WARM_UP_LINES, WARM_UP_VALUE_LISTS } from "./_warm_up.ts";
import type { Balance, WhenFull } from "./pool.ts";
import { SharedStamp } from "./_socket_reader.ts";
import { Intake } from "./_intake.ts";
import {
  type PipelineCells,
  pipelineCells,
  warnIfBehind,
  warnSeriesCap,
  watchPipeline,
} from "./_pipeline_self.ts";
import type { DetachSocket, EmitFrame, FrameStamp, PipelineComponent } from "./_intake.ts";

export type { DetachSocket, EmitFrame, PipelineComponent } from "./_intake.ts";
export type { SocketOpening } from "./_datagram_opener.ts";

/** How the pipeline aggregates and how big its queues are. */
export interface PipelineOptions {
  /** The number of worker threads; 0 parses and aggregates inline on the main thread. */
  readonly workers: number;
  /** The size of each worker's ring in bytes. */
  readonly ringBytes: number;
  /** What to do with a frame when every ring is full; `"drop"` (count it) by default and for now only. */
  readonly whenFull?: WhenFull;
  /** How frames are spread over the workers' rings; `"least_filled"` by default. */
  readonly balance?: Balance;
  /** The flush interval in ms; windows start at wall-clock multiples of it. */
  readonly intervalMs: number;
  /** How series are aggregated and bounded. */
  readonly aggregation: {
    /** The percentiles (0-100) reported for timers, histograms and distributions. */
    readonly percentiles: readonly number[];
    /** How many observations a summary keeps exactly before the sketch. */
    readonly exactLimit: number;
    /** The cap on live series. */
    readonly maxSeries: number;
    /** How long a series may be idle before it expires, in ms. */
    readonly idleMs: number;
  };
  /** The most events a worker keeps per window; more are dropped and counted. */
  readonly maxEvents?: number;
  /**
   * The static options of the formats that need some (collectd's types.db), passed to every worker
   * (and to restarted ones) and to the inline path; none by default.
   */
  readonly formats?: FormatOptions;
  /**
   * Whether each worker runs the StatsD path over made-up lines before the pipeline starts (`_warm_up.ts`:
   * a collector started under full StatsD load lost datagrams while the JIT compiled); not by default, and
   * never with `workers = 0`.
   */
  readonly warmUp?: boolean;
  /** The same for the collectd path (`warmUpCollectd`), for a config with a collectd input; not by default. */
  readonly warmUpCollectd?: boolean;
  /** The self-metrics registry. */
  readonly stats: SelfStats;
  /** The pipeline's logger. */
  readonly log: Logger;
  /** The clock in ms since the epoch (window stamps, series expiry); `Date.now` by default. */
  readonly now?: () => number;
  /** Receives each flush's result; the next flush waits for the returned promise. */
  readonly onFlush: (result: FlushResult) => void | Promise<void>;
}

/** What one flush produced. */
export interface FlushResult {
  /** The start of the window closed, in ms since the epoch. */
  readonly windowMs: number;
  /** One metric per series per window merged (late windows from client timestamps included). */
  readonly metrics: readonly Metric[];
  /** The events received during the window, in per-worker arrival order. */
  readonly events: readonly TallyEvent[];
  /** How long collecting and merging took, in ms. */
  readonly durationMs: number;
  /**
   * The last flush (`stop()`): it took every frame ever emitted, whatever window it was stamped with (a
   * frame replayed into a window the clock has not reached yet included), not only those up to `windowMs`.
   */
  readonly final: boolean;
}

/** How often a "flush failed" warning may repeat. */
const FLUSH_WARN_EVERY_MS = 10_000;

/** The windows one flush takes: from `fromMs` (its own) up to `upToMs` (later ones joined while it waited). */
interface _Flush {
  readonly fromMs: number;
  upToMs: number;
}
/**
 * The frame pipeline: a resource with `start()` / `stop()`.
 *
 * @example
 * ```ts
 * const pipeline = new Pipeline({ workers: 1, ringBytes: 4 << 20, intervalMs: 10_000,
 *   aggregation: { percentiles: [50, 90, 95, 99], exactLimit: 256, maxSeries: 100_000, idleMs: 300_000 },
 *   stats, log, onFlush: (result) => store.append(result.metrics) });
 * await pipeline.start();
 * const emit = pipeline.register({ type: "statsd", id: "statsd" });
 * emit(datagram, FORMAT_IDS.statsd);
 * await pipeline.stop();
 * ```
 */
export class Pipeline {
  readonly #options: PipelineOptions;
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #table: SeriesTable;
  /**
   * Takes the workers' series as their pieces arrive. One worker hands over each series of a window once,
   * windows ascending, so its series are finished at once and no piece outlives its message (at 100 000
   * series, holding every state until the last piece came doubled the main thread's memory at each
   * flush). Several workers may each hold part of a series: theirs are merged, and finished with the
   * flush. (A worker restarted during a hand-over may answer with more of a series already finished: that
   * becomes a second point of the window, which totals and rates add up correctly.)
   */
  readonly #takeSeries: SeriesConsumer = (windowMs, series, state) => {
    const span = this.#span;
    // A folded flush's series all come stamped with its newest window; they stand for the whole span.
    const startMs = span?.startMs ?? windowMs;
    const intervalMs = span?.intervalMs ?? this.#intervalMs;
    if (this.#pool?.size === 1) {
      const metric = this.#table.finishSeries(startMs, series, state, intervalMs);
      if (metric !== undefined) this.#finished.push(metric);
    } else {
      this.#table.mergeSeries(startMs, series, state, intervalMs);
    }
  };
  /** The metrics {@link Pipeline.#takeSeries} finished during the flush being collected. */
  #finished: Metric[] = [];
  readonly #pool: Pool | undefined;
  readonly #inline: FrameSink | undefined;
  readonly #intake: Intake;
  readonly #cells: PipelineCells;
  // What emit stamps frames with, shared with the intake's emit closures (plain fields, read per frame).
  readonly #stamp: FrameStamp;
  // With workers, the sequence and window are shared with them: they stamp datagrams read from sockets.
  readonly #shared: SharedStamp | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  /** The timer's flush queued behind a running one, which later windows join instead of queueing more. */
  #waiting: _Flush | undefined;
  /** What the flush being collected stands for, when it folded several windows into one. */
  #span: { readonly startMs: number; readonly intervalMs: number } | undefined;
  #started = false;
  #stopping: Promise<void> | undefined;

  /**
   * Creates the pipeline and its rings; no thread or timer starts before {@link Pipeline.start}.
   *
   * @param options Workers, ring size, interval, aggregation bounds, format options, self-metrics, logger
   *   and sink.
   * @throws {RangeError} When `workers` is negative or not an integer, or the interval is not positive.
   * @throws {Error} With `workers = 0`, when a format cannot be built from its options (with workers,
   *   the same failure makes {@link Pipeline.start} reject).
   */
  constructor(options: PipelineOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 0) {
      throw new RangeError(`Cannot create pipeline: workers must be 0 or more, got "${options.workers}"`);
    }
    if (!(options.intervalMs > 0)) {
      throw new RangeError(
        `Cannot create pipeline: flush interval must be positive, got "${options.intervalMs}"`,
      );
    }
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#intervalMs = options.intervalMs;
    const agg = options.aggregation;
    this.#table = new SeriesTable({
      intervalMs: options.intervalMs,
      percentiles: agg.percentiles,
      maxSeries: agg.maxSeries,
      idleMs: agg.idleMs,
      exactLimit: agg.exactLimit,
      now: this.#now,
    });
    const sink = {
      intervalMs: options.intervalMs,
      exactLimit: agg.exactLimit,
      maxSeries: agg.maxSeries,
      maxEvents: options.maxEvents ?? DEFAULT_MAX_EVENTS,
      formats: options.formats ?? {},
      // One thread sees every frame: a cumulative series can be one run, exact and flat in the rate.
      ...(options.workers <= 1 ? { cumulativeEntries: 1 } : {}),
    };
    const stats = options.stats;
    this.#cells = pipelineCells(stats);
    if (options.workers === 0) {
      this.#inline = new FrameSink(sink);
    } else {
      const restarts = this.#cells.restarts;
      const log = options.log;
      const stamp = SharedStamp.allocate();
      this.#shared = new SharedStamp(stamp);
      this.#pool = new Pool({
        stamp,
        workers: options.workers,
        ringBytes: options.ringBytes,
        whenFull: options.whenFull ?? "drop",
        balance: options.balance ?? "least_filled",
        sink,
        ...(options.warmUp === true ? { warmUpLines: WARM_UP_LINES } : {}),
        ...(options.warmUpCollectd === true ? { warmUpValueLists: WARM_UP_VALUE_LISTS } : {}),
        onRestart(index, error) {
          restarts.add();
          log.error("Pipeline worker died; restarting it", { worker: index, error: String(error) });
        },
      });
    }
    this.#stamp = { seq: 0, windowMs: this.#align(this.#now()), closed: false };
    if (this.#shared !== undefined) this.#shared.windowMs = this.#stamp.windowMs;
    this.#intake = new Intake({
      stats,
      log: options.log,
      stamp: this.#stamp,
      ...(this.#pool !== undefined ? { pool: { pool: this.#pool, shared: this.#shared! } } : {}),
      ...(this.#inline !== undefined ? { inline: this.#inline } : {}),
    });

    watchPipeline(stats, this.#table, this.#intake, this.#pool);
  }

  /**
   * The window new frames are stamped with (ms since the epoch). It only moves in the flush timer's
   * callback (or {@link Pipeline.flush}), so code that reads it and then emits in the same synchronous
   * turn knows which flush will carry the frame: the inbox records it beside each acknowledged frame.
   */
  get windowMs(): number {
    return this.#stamp.windowMs;
  }

  /** The largest frame emit can take (half a worker's ring); unbounded when parsing inline. */
  get maxFrameBytes(): number {
    return this.#pool?.maxFrameBytes ?? Number.POSITIVE_INFINITY;
  }

  /**
   * Whether a frame of `length` bytes emitted now would be taken rather than dropped as `ring_full`: a
   * producer that can wait (an HTTP request, the inbox replay) checks before it emits instead of counting
   * drops. Always true when parsing inline; false once stopped.
   *
   * @param length The frame's length in bytes.
   * @returns True when it fits.
   */
  fits(length: number): boolean {
    if (this.#stamp.closed) return false;
    return this.#pool === undefined ? true : this.#pool.fits(length);
  }

  /** The live series: the latest metric of each is what `/metrics` shows. */
  get table(): SeriesTable {
    return this.#table;
  }

  /**
   * Starts the workers, runs `beforeFirstFlush`, then arms the flush timer; resolves when that is done.
   *
   * `beforeFirstFlush` may emit frames (the inbox replay does) while no flush can run yet, so a flush
   * never lets go of inbox rows whose frames were still to be replayed.
   *
   * @param beforeFirstFlush Work to finish with the workers running but before any flush.
   * @throws {Error} When a worker cannot start, or `beforeFirstFlush` rejects.
   */
  async start(beforeFirstFlush?: () => Promise<void>): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.#pool?.start();
    this.#setWindow(this.#align(this.#now()));
    await beforeFirstFlush?.();
    this.#arm();
  }

  /**
   * Registers an input, or one source of an input, and returns its emit function (see
   * {@link Intake.register}).
   *
   * @param component The input's type and id, and the labels of a source inside it.
   * @returns The emit function: it stamps, copies and counts; `false` when the frame was dropped.
   * @throws {RangeError} When more than 65 536 inputs and sources register.
   */
  register(component: PipelineComponent): EmitFrame {
    return this.#intake.register(component);
  }

  /**
   * Hands a UDP socket of an input to the workers, which read it themselves from then on (see
   * {@link Intake.attachSocket}).
   *
   * @param emit The emit function {@link Pipeline.register} returned for the input.
   * @param fd The socket's descriptor (opened through the runtime's FFI).
   * @param format The format of its datagrams.
   * @param onPackets Counts the datagrams read.
   * @param opening What the workers do to each datagram before `format` parses it; nothing when absent.
   * @returns How to take it back, or `undefined` when there are no workers or the worker cannot read it
   *   (the caller reads it itself).
   * @throws {Error} When `emit` is not one this pipeline returned.
   */
  attachSocket(
    emit: EmitFrame,
    fd: number,
    format: FormatId,
    onPackets: (count: number) => void,
    opening?: SocketOpening,
  ): Promise<DetachSocket | undefined> {
    return this.#intake.attachSocket(emit, fd, format, onPackets, opening);
  }

  /**
   * Closes the open window now and flushes it (for tests and shutdown). New frames are stamped with
   * the window of the current time; when that is still the window just closed, they appear in a later
   * flush under the same window start.
   *
   * @returns The flush result, after `onFlush` finished with it.
   */
  flush(): Promise<FlushResult> {
    const closing = { fromMs: this.#stamp.windowMs, upToMs: this.#stamp.windowMs };
    this.#setWindow(this.#align(this.#now()));
    // Later windows must not join a flush queued before this one.
    this.#waiting = undefined;
    return this.#enqueue(() => this.#collect(closing), closing);
  }

  /**
   * Stops the timer, drains the rings, flushes the open window a last time, and stops the workers.
   * Idempotent; frames emitted afterwards are dropped and counted with reason `stopped`.
   *
   * @returns A promise that resolves when the last `onFlush` finished.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopNow();
    return this.#stopping;
  }

  async #stopNow(): Promise<void> {
    this.#stamp.closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const closing = { fromMs: this.#stamp.windowMs, upToMs: this.#stamp.windowMs };
    this.#waiting = undefined;
    await this.#enqueue(
      async () => {
        if (this.#pool !== undefined) return await this.#pool.stop(this.#takeSeries);
        return [this.#inline!.take(Number.POSITIVE_INFINITY)];
      },
      closing,
      true,
    );
  }

  /** Moves the window new frames (and datagrams the workers read) are stamped with. */
  #setWindow(windowMs: number): void {
    this.#stamp.windowMs = windowMs;
    if (this.#shared !== undefined) this.#shared.windowMs = windowMs;
  }

  #align(ms: number): number {
    return Math.floor(ms / this.#intervalMs) * this.#intervalMs;
  }

  #arm(): void {
    if (this.#stamp.closed) return;
    const delay = this.#stamp.windowMs + this.#intervalMs - this.#now();
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, delay));
  }

  #tick(): void {
    this.#timer = undefined;
    if (this.#stamp.closed) return;
    const next = this.#align(this.#now());
    // A timer may fire a little early: then the window is still open.
    if (next > this.#stamp.windowMs) {
      const closing = this.#stamp.windowMs;
      this.#setWindow(next);
      const waiting = this.#waiting;
      if (waiting !== undefined) {
        // The last flush is still running and this window's would queue behind one that has not started:
        // join that one instead. Queueing a flush per window would let flushes that each take longer than
        // the interval fall further behind without bound, the workers holding window after window.
        waiting.upToMs = closing;
      } else {
        const flush: _Flush = { fromMs: closing, upToMs: closing };
        this.#waiting = flush;
        this.#enqueue(() => this.#collect(flush), flush).catch((error: unknown) => {
          this.#options.log.every("flush", FLUSH_WARN_EVERY_MS, "Flush failed", { error: String(error) });
        });
      }
    }
    this.#arm();
  }

  /**
   * Asks the workers (or the inline sink) for every window up to the flush's newest. A flush that several
   * windows joined, and that would then store more rows than the series cap (windows × live series >
   * `maxSeries`), folds them into one point per series spanning them all (`#span`): otherwise a flush
   * slower than the interval would have more to store each time and never catch up. Below that, each
   * window keeps its own points, so a late flush on a busy box changes no data (collectd's values keep
   * the times they were sent with).
   */
  async #collect(flush: _Flush): Promise<SinkPartial[]> {
    const windows = (flush.upToMs - flush.fromMs) / this.#intervalMs + 1;
    const fold = windows > 1 && windows * Math.max(1, this.#table.size) > this.#options.aggregation.maxSeries;
    this.#span = fold
      ? { startMs: flush.fromMs, intervalMs: flush.upToMs + this.#intervalMs - flush.fromMs }
      : undefined;
    if (fold) this.#cells.foldedWindows.add(windows - 1);
    try {
      if (this.#pool !== undefined) {
        // Before start() no worker would answer; after stop() the last flush already took everything.
        if (!this.#started || this.#stamp.closed) return [];
        return await this.#pool.flush(flush.upToMs, this.#takeSeries, fold);
      }
      const partial = this.#inline!.take(flush.upToMs, fold);
      if (!fold) return [partial];
      for (const bucket of partial.aggregate.buckets) {
        for (const s of bucket.series) this.#takeSeries(bucket.windowMs, seriesIdentity(s), s.state);
      }
      return [{ ...partial, aggregate: { ...partial.aggregate, buckets: [] } }];
    } finally {
      this.#span = undefined;
    }
  }

  /** Runs one flush after the previous one: flushes never overlap and finish in window order. */
  #enqueue(collect: () => Promise<SinkPartial[]>, flush: _Flush, final = false): Promise<FlushResult> {
    const run = async (): Promise<FlushResult> => {
      // From now on, later windows queue a flush of their own.
      if (this.#waiting === flush) this.#waiting = undefined;
      const started = performance.now();
      const startedAt = this.#now();
      // Before collecting: series finished as they arrive count their rejections then.
      const before = { rejected: this.#table.rejected, invalid: this.#table.invalid };
      const partials = await collect();
      const result = this.#merge(partials, flush.upToMs, started, final, before);
      try {
        await this.#options.onFlush(result);
      } catch (error) {
        this.#options.log.every("on_flush", FLUSH_WARN_EVERY_MS, "Flush consumer failed", {
          error: String(error),
        });
      }
      warnIfBehind(this.#options.log, this.#now() - startedAt, this.#intervalMs, result.metrics.length);
      return result;
    };
    const flushed = this.#chain.then(run);
    // The chain waits for the flush, not for its result: `flushed.catch` would resolve with the result and
    // keep it (at 100 000 series, 100 000 metrics) alive until the next flush, past the collection after it.
    this.#chain = flushed.then(_nothing, _nothing);
    return flushed;
  }

  #merge(
    partials: readonly SinkPartial[],
    windowMs: number,
    started: number,
    final: boolean,
    before: { readonly rejected: number; readonly invalid: number },
  ): FlushResult {
    this.#intake.creditSockets();
    const table = this.#table;
    const merged = table.merge(partials.map((p) => p.aggregate));
    const finished = this.#finished;
    this.#finished = [];
    let metrics = finished;
    if (finished.length === 0) metrics = merged;
    else for (const metric of merged) finished.push(metric);
    if (table.rejected > before.rejected) {
      warnSeriesCap(this.#options.log, table, this.#options.aggregation.maxSeries);
    }
    this.#cells.invalidValues.add(table.invalid - before.invalid);
    table.expire(this.#now());
    const events: TallyEvent[] = [];
    for (const partial of partials) {
      for (const event of partial.events) events.push(event);
      this.#cells.eventsDropped.add(partial.eventsDropped);
      this.#cells.framesSkipped.add(partial.framesSkipped);
      this.#intake.credit(partial);
    }
    const durationMs = performance.now() - started;
    this.#cells.flushDuration.set(durationMs / 1000);
    return { windowMs, metrics, events, durationMs, final };
  }
}

/** Ignores a flush's outcome, so the flush chain keeps no result alive. */
function _nothing(): void {}
