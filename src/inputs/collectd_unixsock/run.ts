/**
 * The collectd_unixsock input's scheduler (its client is `_unixsock_connection.ts`): every `interval` it
 * connects to collectd's unixsock plugin, sends `LISTVAL`, then `GETVAL "<identifier>"` for each value list
 * updated since the last poll (pipelined on the one connection), and emits what it read as frames in the
 * `collectd_unixsock` format (`src/formats/collectd_unixsock.ts`): one line per value list,
 * `epoch TAB identifier (TAB ds=value)+`. The workers turn them into gauges.
 *
 * Protocol (collectd `src/collectd-unixsock.pod`): a reply starts with a status line, `N Values found`
 * then N lines (`LISTVAL`: `<epoch> <identifier>`; `GETVAL`: `<ds>=<value>`), or a negative status and
 * a message (`-1 No such value`). Values are collectd's cached rates, `NaN` while undefined.
 *
 * Each poll uses a fresh connection, so a collectd restart costs at most the polls while it is down:
 * connection refused or a missing socket is counted (`errors{error_type="connect"}`), warned about at
 * most once a minute, and the next poll simply tries again. Counted here as well: errors `timeout` (a
 * poll exceeded `timeout`), `protocol` (a reply that does not parse), `connection` (collectd closed the
 * connection mid-reply), `listval`, `getval` (a negative status; that identifier is skipped this poll)
 * and `poll_overrun` (a poll still running when the next was due: the next is skipped); drops
 * `nan_value` (a data source collectd reports as NaN) and `bad_identifier` (an identifier holding a tab
 * or line break, which the frame cannot carry); and `tally_input_polls_total{result="ok"|"failed"|"skipped"}`.
 *
 * @module
 */

import { clearInterval, clearTimeout, setInterval, setTimeout } from "node:timers";
import { SelfStats } from "../../internal/self_stats.ts";
import type { SelfCell } from "../../internal/self_stats.ts";
import { FORMAT_IDS } from "../../model/frame.ts";
import type { Input, InputContext } from "../input.ts";
import type { CollectdUnixsockConfig } from "./config.ts";
import { describe, PollError, quote, readReply, UnixsockConnection } from "./_unixsock_connection.ts";

/** The frame size aimed for: what every ring holds. A poll with more lines leaves in several frames. */
const FRAME_BYTES = 65_536;
/** How often a repeated warning may be logged. */
const WARN_EVERY_MS = 60_000;
const FRAME_BREAK_REGEXP = /[\t\n\r]/;

/** How one poll ended. */
export type PollResult =
  | {
    readonly kind: "ok";
    /** The value lists written to frames. */
    readonly valueLists: number;
    /** The frames emitted. */
    readonly frames: number;
  }
  | {
    readonly kind: "failed";
    /** The `error_type` counted: `connect`, `timeout`, `protocol`, `connection` or `listval`. */
    readonly error: string;
    /** The message logged. */
    readonly message: string;
  }
  | { readonly kind: "skipped" };

interface Cells {
  readonly ok: SelfCell;
  readonly failed: SelfCell;
  readonly skipped: SelfCell;
  readonly overrun: SelfCell;
  readonly getval: SelfCell;
  readonly nan: SelfCell;
  readonly badIdentifier: SelfCell;
}

/**
 * A running collectd_unixsock input: a resource that owns its timer and the connection of a poll in flight.
 *
 * @example
 * ```ts
 * const input = new CollectdUnixsockInput({ path: "/var/run/collectd-unixsock", interval: 10_000,
 *   timeout: 2_000 }, "collectd_unixsock");
 * await input.start(ctx); // the first poll runs now, then every interval
 * await input.stop(); // the poll in flight is abandoned; nothing is emitted after this resolves
 * ```
 */
export class CollectdUnixsockInput implements Input {
  readonly #config: CollectdUnixsockConfig;
  readonly #id: string;
  #ctx: InputContext | undefined;
  #cells: Cells | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<PollResult> | undefined;
  #abort: AbortController | undefined;
  #stopped = false;
  #stopping: Promise<void> | undefined;
  #onAbort: (() => void) | undefined;
  /** The last update time seen per identifier, to fetch only what changed. */
  #seen = new Map<string, string>();
  /** Whether the last poll failed, so that a recovery is logged once. */
  #failing = false;

  /**
   * @param config The validated config.
   * @param id The component id (the config key), for self-metrics labels.
   */
  constructor(config: CollectdUnixsockConfig, id: string) {
    this.#config = config;
    this.#id = id;
  }

  /**
   * Starts polling: the first poll now, then one every `interval`. collectd need not be running yet.
   *
   * @param ctx The collector's side: `emit`, the logger and counters.
   * @returns Resolves at once; polls run in the background.
   * @throws {Error} When started twice.
   */
  start(ctx: InputContext): Promise<void> {
    if (this.#ctx !== undefined) {
      return Promise.reject(
        new Error(`Cannot start collectd_unixsock input "${this.#id}": it was already started`),
      );
    }
    this.#ctx = ctx;
    this.#cells = createCells(ctx, this.#id);
    this.#onAbort = () => void this.stop();
    ctx.signal.addEventListener("abort", this.#onAbort, { once: true });
    const tick = () => void this.poll();
    this.#timer = setInterval(tick, this.#config.interval);
    this.#timer.unref();
    tick();
    return Promise.resolve();
  }

  /**
   * Stops polling and abandons a poll in flight.
   *
   * @returns Resolves when no poll runs; nothing is emitted after. Calling it again returns the same promise.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  /**
   * Runs one poll now, unless one is still running (then this one is skipped and counted).
   *
   * @returns How the poll ended.
   */
  poll(): Promise<PollResult> {
    const cells = this.#cells;
    if (cells === undefined || this.#stopped) return Promise.resolve(SKIPPED);
    if (this.#running !== undefined) {
      cells.skipped.add();
      cells.overrun.add();
      this.#ctx!.log.every(
        "poll_overrun",
        WARN_EVERY_MS,
        "Skipped a collectd unixsock poll: the previous one is still running",
        {
          path: this.#config.path,
          interval_ms: this.#config.interval,
        },
      );
      return Promise.resolve(SKIPPED);
    }
    const abort = new AbortController();
    this.#abort = abort;
    this.#running = this.#pollOnce(abort).finally(() => {
      this.#running = undefined;
      this.#abort = undefined;
    });
    return this.#running;
  }

  /**
   * Resolves once no poll is in flight (at once when none is).
   *
   * @returns The result of the poll that was in flight, or `undefined`.
   */
  async settled(): Promise<PollResult | undefined> {
    return await this.#running;
  }

  async #pollOnce(abort: AbortController): Promise<PollResult> {
    const ctx = this.#ctx!;
    const cells = this.#cells!;
    const { path, timeout } = this.#config;
    const timer = setTimeout(function pollTimedOut() {
      abort.abort(new PollError("timeout", `the poll took longer than ${timeout} ms`));
    }, timeout);
    let connection: UnixsockConnection | undefined;
    try {
      connection = await UnixsockConnection.open(path, abort.signal);
      const lines = await this.#exchange(connection);
      if (this.#stopped) return SKIPPED;
      const frames = emitFrames(ctx, lines);
      cells.ok.add();
      if (this.#failing) ctx.log.info("Polling collectd unixsock again", { path });
      this.#failing = false;
      return { kind: "ok", valueLists: lines.length, frames };
    } catch (error) {
      if (this.#stopped) return SKIPPED;
      const failure = error instanceof PollError
        ? error
        : new PollError("connection", describe(error), { cause: error });
      cells.failed.add();
      ctx.stats.errors(failure.errorType).add();
      this.#failing = true;
      ctx.log.every(`poll_${failure.errorType}`, WARN_EVERY_MS, "Cannot poll collectd unixsock", {
        path,
        error_type: failure.errorType,
        error: failure.message,
      });
      return { kind: "failed", error: failure.errorType, message: failure.message };
    } finally {
      clearTimeout(timer);
      connection?.close();
    }
  }

  /** LISTVAL, then GETVAL for what changed; returns the frame lines. */
  async #exchange(connection: UnixsockConnection): Promise<string[]> {
    const cells = this.#cells!;
    const log = this.#ctx!.log;
    connection.send("LISTVAL\n");
    const listed = await readReply(connection, "LISTVAL", "listval");
    const seen = new Map<string, string>();
    const wanted: Array<readonly [epoch: string, identifier: string]> = [];
    for (const line of listed) {
      const space = line.indexOf(" ");
      if (space <= 0) throw new PollError("protocol", `LISTVAL answered the line ${JSON.stringify(line)}`);
      const epoch = line.slice(0, space);
      const identifier = line.slice(space + 1);
      if (FRAME_BREAK_REGEXP.test(identifier)) {
        cells.badIdentifier.add();
        continue;
      }
      const previous = this.#seen.get(identifier);
      if (previous !== undefined) seen.set(identifier, previous);
      if (previous !== epoch) wanted.push([epoch, identifier]);
    }
    // Pipelined: collectd answers commands in order, one reply each.
    if (wanted.length > 0) connection.send(wanted.map(([, id]) => `GETVAL ${quote(id)}\n`).join(""));
    const lines: string[] = [];
    for (const [epoch, identifier] of wanted) {
      let values: string[];
      try {
        values = await readReply(connection, "GETVAL", "getval");
      } catch (error) {
        if (!(error instanceof PollError) || error.errorType !== "getval") throw error;
        // The value list vanished between LISTVAL and GETVAL, or collectd refused it: skip it this time.
        cells.getval.add();
        log.every("getval", WARN_EVERY_MS, "collectd unixsock refused a GETVAL", {
          identifier,
          error: error.message,
        });
        continue;
      }
      seen.set(identifier, epoch);
      let line = `${epoch}\t${identifier}`;
      let kept = 0;
      for (const value of values) {
        const equals = value.indexOf("=");
        if (equals <= 0) throw new PollError("protocol", `GETVAL answered the line ${JSON.stringify(value)}`);
        const number = value.slice(equals + 1).trim();
        if (number === "NaN" || number === "nan" || number === "-nan") {
          cells.nan.add();
          continue;
        }
        line += `\t${value.slice(0, equals)}=${number}`;
        kept++;
      }
      if (kept > 0) lines.push(line);
    }
    this.#seen = seen;
    return lines;
  }

  async #stopAll(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    if (this.#ctx !== undefined && this.#onAbort !== undefined) {
      this.#ctx.signal.removeEventListener("abort", this.#onAbort);
    }
    this.#abort?.abort(new PollError("connection", "the input stopped"));
    await this.#running;
  }
}

const SKIPPED: PollResult = { kind: "skipped" };

/** Emits the lines as frames of whole lines, each at most {@link FRAME_BYTES} unless one line is longer. */
function emitFrames(ctx: InputContext, lines: readonly string[]): number {
  const encoder = new TextEncoder();
  let frames = 0;
  let chunk: string[] = [];
  let size = 0;
  const flush = () => {
    if (chunk.length === 0) return;
    ctx.emit(encoder.encode(chunk.join("")), FORMAT_IDS.collectd_unixsock);
    frames++;
    chunk = [];
    size = 0;
  };
  for (const line of lines) {
    const text = `${line}\n`;
    const bytes = encoder.encode(text).length;
    if (size + bytes > FRAME_BYTES) flush();
    chunk.push(text);
    size += bytes;
  }
  flush();
  return frames;
}

function createCells(ctx: InputContext, id: string): Cells {
  const registry = ctx.selfStats ?? new SelfStats();
  const polls = (result: string) =>
    registry.cell("tally_input_polls_total", {
      component_type: "collectd_unixsock",
      component_id: id,
      result,
    }, {
      type: "counter",
      help: "Polls made by a polling input, by result",
    });
  return {
    ok: polls("ok"),
    failed: polls("failed"),
    skipped: polls("skipped"),
    overrun: ctx.stats.errors("poll_overrun"),
    getval: ctx.stats.errors("getval"),
    nan: ctx.stats.dropped("nan_value"),
    badIdentifier: ctx.stats.dropped("bad_identifier"),
  };
}
