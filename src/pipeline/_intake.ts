/**
 * How frames get into the pipeline: the inputs (and their sources) that register, the emit function each
 * gets, which stamps every frame with an arrival sequence and the open window and copies it into a
 * worker's ring (or parses it inline), the UDP sockets handed to the workers, and the per-input counters
 * that a flush's partials and those sockets add to.
 *
 * @module
 */

import type { Logger } from "../internal/log.ts";
import { componentStats } from "../internal/self_stats.ts";
import type { ComponentStats, SelfCell, SelfStats } from "../internal/self_stats.ts";
import type { FormatId } from "../model/frame.ts";
import type { FrameSink, SinkPartial } from "./frame_sink.ts";
import type { Pool } from "./pool.ts";
import type { SocketOpening } from "./_datagram_opener.ts";
import { REFUSAL_REASONS } from "./_datagram_opener.ts";
import { type SharedStamp, SocketCounters } from "./_socket_reader.ts";

/**
 * Copies one frame of an input into the pipeline; `false` when it was dropped (and counted). `windowMs`
 * stamps the frame with a window other than the open one: a frame kept in the inbox and replayed after a
 * restart goes back into the window it was acknowledged in, so its samples keep their time.
 */
export type EmitFrame = (bytes: Uint8Array, format: FormatId, windowMs?: number) => boolean;

/** Makes the workers let go of a socket handed to them; the socket may be closed once it resolves. */
export type DetachSocket = () => Promise<void>;

/** What registers with the pipeline: an input, or one source of an input (a script of a `scripts` input). */
export interface PipelineComponent {
  /** The input's type (plugin name): the `component_type` label. */
  readonly type: string;
  /** The input's id (config key): the `component_id` label. */
  readonly id: string;
  /**
   * The labels naming one source inside the input (`{ script: "lvs_check" }`), added to its self-metrics
   * so that its lines, bad lines, bytes and drops are counted apart from the input's other sources.
   */
  readonly labels?: Readonly<Record<string, string>>;
}

interface _AttachedSocket {
  readonly input: _Input;
  readonly counters: SocketCounters;
  readonly onPackets: (count: number) => void;
  readonly opening: SocketOpening | undefined;
  packets: number;
  bytes: number;
  errors: number;
  /** The refusals credited so far, by index into `REFUSAL_REASONS`. */
  readonly refused: number[];
}

/** How often a "frames dropped" warning may repeat per input. */
const DROP_WARN_EVERY_MS = 10_000;
/** The highest input id a frame header can carry (u16). */
const MAX_INPUTS = 65536;

interface _Input {
  readonly component: PipelineComponent;
  readonly stats: ComponentStats;
  readonly ringFull: SelfCell;
  readonly badLines: SelfCell;
  readonly socketErrors: SelfCell;
  readonly warnKey: string;
}

/** What stamps frames: the arrival sequence and open window, and whether the pipeline stopped. */
export interface FrameStamp {
  /** The last sequence given (without workers; with them the {@link SharedStamp} gives it). */
  seq: number;
  /** The window new frames are stamped with. */
  windowMs: number;
  /** Set once the pipeline stops: frames are then dropped as `stopped`. */
  closed: boolean;
}

/** Where the intake sends frames and counts. */
export interface IntakeOptions {
  /** The self-metrics registry. */
  readonly stats: SelfStats;
  /** The pipeline's logger. */
  readonly log: Logger;
  /** The stamp, shared with the pipeline (which moves the window and closes it). */
  readonly stamp: FrameStamp;
  /** With workers: their pool, and the stamp kept in shared memory for datagrams they read. */
  readonly pool?: { readonly pool: Pool; readonly shared: SharedStamp };
  /** Without workers: the sink that parses inline. */
  readonly inline?: FrameSink;
}

/**
 * The pipeline's inputs: registers them, makes their emit functions, hands their sockets to the workers
 * and keeps their counters. A part of {@link Pipeline}, which owns one.
 */
export class Intake {
  readonly #stats: SelfStats;
  readonly #log: Logger;
  readonly #stamp: FrameStamp;
  readonly #pool: Pool | undefined;
  readonly #shared: SharedStamp | undefined;
  readonly #inline: FrameSink | undefined;
  readonly #inputs: _Input[] = [];
  readonly #inputIds = new Map<EmitFrame, number>();
  /** The sockets the workers read, with what of their counts was credited already. */
  readonly #sockets = new Map<number, _AttachedSocket>();

  /**
   * Creates the intake.
   *
   * @param options The stats, logger, stamp, and the pool or the inline sink.
   */
  constructor(options: IntakeOptions) {
    this.#stats = options.stats;
    this.#log = options.log;
    this.#stamp = options.stamp;
    this.#pool = options.pool?.pool;
    this.#shared = options.pool?.shared;
    this.#inline = options.inline;
  }

  /**
   * Registers an input, or one source of an input, and returns its emit function. Lines, bad lines,
   * bytes and drops are counted per registration, labelled with its type, id and `labels`.
   *
   * @param component The input's type and id, and the labels of a source inside it (its self-metric
   *   labels).
   * @returns The emit function: it stamps, copies and counts; `false` when the frame was dropped.
   * @throws {RangeError} When more than 65 536 inputs and sources register.
   */
  register(component: PipelineComponent): EmitFrame {
    const inputId = this.#inputs.length;
    if (inputId >= MAX_INPUTS) {
      throw new RangeError(`Cannot register input "${component.id}": already ${MAX_INPUTS} inputs`);
    }
    const stats = componentStats(this.#stats, component);
    const input: _Input = {
      component,
      stats,
      ringFull: stats.dropped("ring_full"),
      badLines: stats.errors("bad_line"),
      socketErrors: stats.errors("socket"),
      // Per input, not per source: 500 scripts of one input share one rate-limited warning.
      warnKey: `ring_full:${component.type}:${component.id}`,
    };
    this.#inputs.push(input);
    const stopped = stats.dropped("stopped");
    const tooLarge = stats.dropped("frame_too_large");
    const log = this.#log;
    const fields = {
      ...component.labels,
      component_type: component.type,
      component_id: component.id,
      when_full: "drop",
    };
    const receivedBytes = stats.receivedBytes;
    const pool = this.#pool;
    const inline = this.#inline;
    const stamp = this.#stamp;
    const shared = this.#shared;
    const emit = function emit(bytes: Uint8Array, format: FormatId, windowMs?: number): boolean {
      receivedBytes.add(bytes.length);
      if (stamp.closed) {
        stopped.add();
        return false;
      }
      const seq = shared === undefined ? ++stamp.seq : shared.take(1);
      const window = windowMs ?? stamp.windowMs;
      if (inline !== undefined) {
        inline.frame(inputId, format, seq, window, bytes);
        return true;
      }
      if (pool!.write(inputId, format, seq, window, bytes)) return true;
      if (bytes.length > pool!.maxFrameBytes) {
        tooLarge.add();
        log.every(input.warnKey, DROP_WARN_EVERY_MS, "Frame larger than half a ring; dropping it", {
          ...fields,
          bytes: bytes.length,
          max_bytes: pool!.maxFrameBytes,
        });
        return false;
      }
      input.ringFull.add();
      log.every(input.warnKey, DROP_WARN_EVERY_MS, "Pipeline rings full; dropping frames", fields);
      return false;
    };
    this.#inputIds.set(emit, inputId);
    return emit;
  }

  /**
   * Hands a UDP socket of an input to the workers, which read it themselves from then on: its datagrams
   * become frames of `format` without the main thread or the ring in between. Their count is credited to
   * `onPackets` (and their bytes to the input's received bytes) at each flush.
   *
   * @param emit The emit function {@link Intake.register} returned for the input.
   * @param fd The socket's descriptor (opened through the runtime's FFI).
   * @param format The format of its datagrams.
   * @param onPackets Counts the datagrams read, e.g. the input's `tally_input_packets_total`.
   * @param opening What the workers do to each datagram before `format` parses it (then its bytes are
   *   those of what it hands on), and who counts its refusals; nothing when absent.
   * @returns How to take it back, or `undefined` when there are no workers or the worker cannot read it
   *   (a warning says so): then the caller reads it itself.
   * @throws {Error} When `emit` is not one this pipeline returned.
   */
  async attachSocket(
    emit: EmitFrame,
    fd: number,
    format: FormatId,
    onPackets: (count: number) => void,
    opening?: SocketOpening,
  ): Promise<DetachSocket | undefined> {
    const inputId = this.#inputIds.get(emit);
    if (inputId === undefined) {
      throw new Error(`Cannot attach socket ${fd}: the emit function is not this pipeline's`);
    }
    const pool = this.#pool;
    if (pool === undefined || this.#stamp.closed) return undefined;
    const input = this.#inputs[inputId]!;
    const counters = SocketCounters.allocate();
    this.#sockets.set(fd, {
      input,
      counters: new SocketCounters(counters),
      onPackets,
      opening,
      packets: 0,
      bytes: 0,
      errors: 0,
      refused: REFUSAL_REASONS.map(() => 0),
    });
    try {
      await pool.attach({
        fd,
        inputId,
        format,
        counters,
        ...(opening === undefined ? {} : { open: opening.kind }),
      });
    } catch (error) {
      // Read on the main thread then: slower, but a socket nobody reads would lose everything, uncounted.
      this.#sockets.delete(fd);
      this.#log.warn("A worker cannot read the socket; the main thread reads it", {
        component_type: input.component.type,
        component_id: input.component.id,
        error: (error as Error).message,
      });
      return undefined;
    }
    return async () => {
      await pool.detach(fd);
      this.creditSockets();
      this.#sockets.delete(fd);
    };
  }

  /**
   * Adds what the workers counted on their sockets since the last call to the inputs' counters, and hands
   * their refusals to the inputs' `onRefused`.
   */
  creditSockets(): void {
    for (const socket of this.#sockets.values()) {
      const { counters, input } = socket;
      const packets = counters.packets;
      const bytes = counters.bytes;
      const errors = counters.errors;
      if (packets > socket.packets) socket.onPackets(packets - socket.packets);
      if (bytes > socket.bytes) input.stats.receivedBytes.add(bytes - socket.bytes);
      if (errors > socket.errors) input.socketErrors.add(errors - socket.errors);
      socket.packets = packets;
      socket.bytes = bytes;
      socket.errors = errors;
      if (socket.opening === undefined) continue;
      for (let r = 0; r < REFUSAL_REASONS.length; r++) {
        const refused = counters.refused(r);
        if (refused > socket.refused[r]!) {
          socket.opening.onRefused(REFUSAL_REASONS[r]!, refused - socket.refused[r]!);
        }
        socket.refused[r] = refused;
      }
    }
  }

  /**
   * Adds what a worker (or the inline sink) counted per input since its last partial: lines received,
   * and bad lines by reason (`tally_bad_lines_total{reason}` beside each input's `bad_line` errors).
   *
   * @param partial The partial of a flush.
   */
  credit(partial: SinkPartial): void {
    for (const { inputId, lines } of partial.lines) this.#inputs[inputId]?.stats.received.add(lines);
    for (const { inputId, reason, count } of partial.bad) {
      const input = this.#inputs[inputId];
      if (input === undefined) continue;
      input.badLines.add(count);
      this.#stats.cell(
        "tally_bad_lines_total",
        {
          ...input.component.labels,
          component_type: input.component.type,
          component_id: input.component.id,
          reason,
        },
        { type: "counter", help: "Lines rejected by the parser, by reason" },
      ).add(count);
    }
  }
}
