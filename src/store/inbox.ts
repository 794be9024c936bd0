/**
 * Durable acceptance: what makes an HTTP 2xx mean "committed under the data directory".
 *
 * An input that can make its client wait (the HTTP input) hands each frame to {@link Inbox.acceptor}'s
 * function instead of emitting it. Frames are collected for one event-loop turn and then, in one
 * synchronous step: each is emitted into the pipeline (stamped with the open window), and all of them are
 * written to the store's `inbox` table in one transaction (group commit: one WAL append for every request
 * of the turn) together with that window. Only then do their promises resolve and the requests get their
 * 2xx. A kill -9 after that loses nothing: the rows are in the WAL, and the next start replays them.
 *
 * The flush of a window deletes its rows in the transaction that stores its points
 * (`Store.commitFlush`), so a frame is stored exactly once: as a row, or as part of its window's points.
 *
 * Under load the commit also joins consecutive small frames of one input in a line-oriented format (StatsD
 * lines, one-line JSON push bodies) into one frame and one row: fewer frames to wake the workers for, fewer
 * rows to insert.
 *
 * Backpressure: a frame waits (up to `waitMs`) for ring room instead of being dropped, so a client sees a
 * slower 2xx, then a 503, never a silent loss. A frame larger than a ring can ever hold is refused at once.
 *
 * @module
 */

import { clearImmediate, setImmediate } from "node:timers";
import type { Logger } from "../internal/log.ts";
import type { SelfCell, SelfStats } from "../internal/self_stats.ts";
import { FORMAT_IDS } from "../model/frame.ts";
import type { FormatId } from "../model/frame.ts";
import type { InboxEntry } from "./inbox_table.ts";
import type { Store } from "./store.ts";

/** What the inbox needs of the pipeline. */
export interface InboxPipeline {
  /** The window new frames are stamped with. */
  readonly windowMs: number;
  /** The largest frame the pipeline can ever take. */
  readonly maxFrameBytes: number;
  /** Whether a frame of `length` bytes would be taken now. */
  fits(length: number): boolean;
}

/** Emits one frame, optionally into a given window; `false` when the pipeline dropped it. */
export type InboxEmit = (bytes: Uint8Array, format: FormatId, windowMs?: number) => boolean;

/**
 * What became of a frame handed to an acceptor:
 * - `accepted`: committed to the inbox and in the pipeline (answer 2xx);
 * - `busy`: the rings stayed full for the whole wait (answer 503 and let the client retry);
 * - `too_large`: larger than a ring can ever hold (answer 413);
 * - `stopped`: the collector is shutting down (answer 503).
 */
export type AcceptResult = "accepted" | "busy" | "too_large" | "stopped";

/** Options of one {@link Accept} call. */
export interface AcceptOptions {
  /** How long the frame may wait for ring room before it is `busy`; the inbox's `waitMs` by default. */
  readonly waitMs?: number;
}

/** Accepts one frame durably; rejects (with a `StoreError`) when the commit failed. */
export type Accept = (bytes: Uint8Array, format: FormatId, options?: AcceptOptions) => Promise<AcceptResult>;

/** Options of {@link Inbox}. */
export interface InboxOptions {
  /** How long a frame may wait for ring room before it is `busy`; 5000 ms by default. */
  readonly waitMs?: number;
  /** The logger for replay. */
  readonly log?: Logger;
  /** The clock; `Date.now` by default. */
  readonly now?: () => number;
  /**
   * The self-metrics registry: `tally_inbox_commits_total` and `tally_inbox_frames_total` (their ratio is
   * the group commit's batch size) and `tally_inbox_replayed_frames_total`.
   */
  readonly stats?: SelfStats;
  /**
   * The formats whose consecutive frames of one input are joined with a newline into one frame (and one
   * row) at the commit: fewer frames for the workers and fewer rows for SQLite under load. StatsD and
   * `json` by default; a producer of a joinable format must hand over frames that stay valid so joined
   * (`json`: one body per line).
   */
  readonly joinable?: ReadonlySet<FormatId>;
}

interface Pending {
  readonly entry: InboxEntry;
  readonly emit: InboxEmit;
  readonly deadline: number;
  readonly resolve: (result: AcceptResult) => void;
  readonly reject: (error: unknown) => void;
}

/** How long to wait before looking for ring room again. */
const RETRY_MS = 2;
/** The largest frame the commit makes by joining small ones. */
const JOIN_MAX_BYTES = 64 * 1024;
const LF = 0x0a;
/**
 * The formats whose frames mean the same joined with a newline between them: StatsD lines, and push
 * bodies that are one line each (the http input hands the `json` format one-line bodies only).
 */
const JOINABLE: ReadonlySet<FormatId> = new Set([FORMAT_IDS.statsd, FORMAT_IDS.json]);
/** The replay reads this many rows at a time. */
const REPLAY_PAGE = 64;

/**
 * The group-commit inbox in front of the pipeline: a resource that owns the frames waiting for their
 * commit.
 *
 * @example
 * ```ts
 * const inbox = new Inbox(store, pipeline);
 * await pipeline.start(() => inbox.replay((input) => emits.get(input)));
 * const accept = inbox.acceptor("http", pipeline.register({ type: "http", id: "http" }));
 * if ((await accept(body, FORMAT_IDS.influx_line)) === "accepted") return c.body(null, 204);
 * ```
 */
export class Inbox {
  readonly #store: Store;
  readonly #pipeline: InboxPipeline;
  readonly #waitMs: number;
  readonly #log: Logger | undefined;
  readonly #now: () => number;
  #pending: Pending[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #immediate: ReturnType<typeof setImmediate> | undefined;
  #closed = false;
  readonly #commits: SelfCell | undefined;
  readonly #frames: SelfCell | undefined;
  readonly #replayed: SelfCell | undefined;
  readonly #joinable: ReadonlySet<FormatId>;

  /**
   * @param store The store whose `inbox` table keeps the frames.
   * @param pipeline The pipeline the frames go into.
   * @param options The wait bound, the logger, the clock and the self-metrics.
   */
  constructor(store: Store, pipeline: InboxPipeline, options: InboxOptions = {}) {
    this.#store = store;
    this.#pipeline = pipeline;
    this.#waitMs = options.waitMs ?? 5000;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
    this.#joinable = options.joinable ?? JOINABLE;
    const counter = { type: "counter" } as const;
    this.#commits = options.stats?.cell("tally_inbox_commits_total", {}, {
      ...counter,
      help: "Transactions that made accepted frames durable (one per group commit)",
    });
    this.#frames = options.stats?.cell("tally_inbox_frames_total", {}, {
      ...counter,
      help: "Frames made durable in the inbox before their 2xx",
    });
    this.#replayed = options.stats?.cell("tally_inbox_replayed_frames_total", {}, {
      ...counter,
      help: "Frames replayed from the inbox at start, accepted before a crash or stop",
    });
  }

  /**
   * Makes the accept function of one input.
   *
   * @param input The input's component id, kept with each row (a replayed frame goes back to it).
   * @param emit The input's emit function from the pipeline.
   * @returns The accept function.
   */
  acceptor(input: string, emit: InboxEmit): Accept {
    return (bytes, format, options) => {
      if (this.#closed) return Promise.resolve("stopped");
      if (bytes.length > this.#pipeline.maxFrameBytes) return Promise.resolve("too_large");
      return new Promise<AcceptResult>((resolve, reject) => {
        this.#pending.push({
          entry: { input, format, bytes },
          emit,
          deadline: this.#now() + (options?.waitMs ?? this.#waitMs),
          resolve,
          reject,
        });
        this.#schedule();
      });
    };
  }

  /**
   * Emits every frame left in the inbox by an earlier run, oldest first, each into the window it was
   * accepted in, waiting for ring room as needed. Call it before the pipeline's first flush (see
   * `Pipeline.start`): the rows stay in the inbox until a flush stores their windows.
   *
   * @param emitFor The emit function for an input's component id.
   * @returns How many frames were replayed.
   * @throws {StoreError} When the inbox cannot be read.
   */
  async replay(emitFor: (input: string) => InboxEmit): Promise<number> {
    let replayed = 0;
    let afterId = 0;
    const tooLarge: number[] = [];
    for (;;) {
      const rows = this.#store.inboxRows(afterId, REPLAY_PAGE);
      if (rows.length === 0) break;
      for (const row of rows) {
        afterId = row.id;
        if (row.bytes.length > this.#pipeline.maxFrameBytes) {
          tooLarge.push(row.id);
          continue;
        }
        while (!this.#pipeline.fits(row.bytes.length)) {
          if (this.#closed) return replayed;
          await sleep(RETRY_MS);
        }
        if (emitFor(row.input)(row.bytes, row.format, row.windowMs)) replayed++;
      }
    }
    if (tooLarge.length > 0) {
      // A smaller agent.ring_size than when they were accepted: they can never be parsed now.
      this.#log?.error("Dropping inbox frames larger than a ring can hold", {
        frames: tooLarge.length,
        max_bytes: this.#pipeline.maxFrameBytes,
      });
      this.#store.dropInbox(tooLarge);
    }
    this.#replayed?.add(replayed);
    if (replayed > 0) this.#log?.info("Replayed frames accepted before the last stop", { frames: replayed });
    return replayed;
  }

  /** Refuses new frames, and answers the ones still waiting for ring room with `stopped`. */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
    // Whatever is pending has not been committed: nothing of it is kept or emitted.
    const pending = this.#pending;
    this.#pending = [];
    for (const p of pending) p.resolve("stopped");
  }

  #schedule(): void {
    if (this.#immediate !== undefined || this.#timer !== undefined) return;
    // After the current turn's I/O callbacks, so every request read in this turn shares the commit.
    this.#immediate = setImmediate(() => {
      this.#immediate = undefined;
      this.#commit();
    });
  }

  /**
   * Emits and commits the pending frames that fit, in arrival order; the rest wait for room. Consecutive
   * frames of one input in a joinable format travel as one frame and one row (see `joinable`).
   */
  #commit(): void {
    const pending = this.#pending;
    const pipeline = this.#pipeline;
    const windowMs = pipeline.windowMs;
    const batch: Pending[] = [];
    const entries: InboxEntry[] = [];
    let i = 0;
    while (i < pending.length) {
      const first = pending[i]!;
      let end = i + 1;
      let size = first.entry.bytes.length;
      if (this.#joinable.has(first.entry.format)) {
        while (end < pending.length) {
          const next = pending[end]!.entry;
          if (next.input !== first.entry.input || next.format !== first.entry.format) break;
          if (size + 1 + next.bytes.length > JOIN_MAX_BYTES) break;
          size += 1 + next.bytes.length;
          end++;
        }
      }
      // Arrival order: a frame that does not fit holds back the ones after it.
      if (!pipeline.fits(size)) break;
      const entry = end - i === 1 ? first.entry : joined(pending, i, end, size);
      if (first.emit(entry.bytes, entry.format)) {
        entries.push(entry);
        for (let k = i; k < end; k++) batch.push(pending[k]!);
      } else {
        for (let k = i; k < end; k++) pending[k]!.resolve("stopped");
      }
      i = end;
    }
    const now = this.#now();
    const waiting: Pending[] = [];
    for (; i < pending.length; i++) {
      const p = pending[i]!;
      if (p.deadline <= now) p.resolve("busy");
      else waiting.push(p);
    }
    this.#pending = waiting;
    if (batch.length > 0) {
      // The frames are in the pipeline already; the rows make them survive a crash before their flush.
      // Same synchronous turn as the emits, so `windowMs` is the window they were stamped with.
      try {
        this.#store.keepInbox(entries, windowMs);
        this.#commits?.add();
        this.#frames?.add(batch.length);
        for (const p of batch) p.resolve("accepted");
      } catch (error) {
        for (const p of batch) p.reject(error);
      }
    }
    if (waiting.length > 0 && !this.#closed) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#commit();
      }, RETRY_MS);
    }
  }
}

/** One entry holding the bytes of `pending[from..to)`, newline-separated. */
function joined(pending: readonly Pending[], from: number, to: number, size: number): InboxEntry {
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (let k = from; k < to; k++) {
    if (k > from) bytes[offset++] = LF;
    const part = pending[k]!.entry.bytes;
    bytes.set(part, offset);
    offset += part.length;
  }
  const first = pending[from]!.entry;
  return { input: first.input, format: first.format, bytes };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
