/**
 * The messages between the pool and its workers, and what a worker is started with (plain data: they
 * cross threads by structured clone). `worker_main.ts` describes the protocol.
 *
 * @module
 */

import type { FrameSinkOptions, SinkPartial } from "./frame_sink.ts";
import type { Labels, SampleKind } from "../model/sample.ts";
import type { ReducerState } from "./aggregate/reducers.ts";
import type { SocketAttachment } from "./_socket_reader.ts";

/** A series named in a piece: the number later pieces use for it, and what it is. */
export interface SeriesDef {
  /** The number, unique within the worker's generation. */
  readonly id: number;
  /** The series key. */
  readonly key: string;
  /** The metric name. */
  readonly name: string;
  /** The labels. */
  readonly labels: Labels;
  /** The kind of its samples. */
  readonly kind: SampleKind;
}

/** One window's series in a piece: their numbers and reducer states, side by side. */
export interface PieceBucket {
  /** The bucket start in ms since the epoch. */
  readonly windowMs: number;
  /** The series' numbers. */
  readonly ids: Int32Array;
  /** The reducer states, one per number (consumed by the merge). */
  readonly states: readonly ReducerState[];
}

/** Some of a partial's series, as one message carries them (`_hand_over.ts` makes and reads them). */
export interface Piece {
  /** The namer's generation the numbers belong to. */
  readonly generation: number;
  /** The series named for the first time in this generation, before any bucket uses their numbers. */
  readonly defs: readonly SeriesDef[];
  /** The series, by window. */
  readonly buckets: readonly PieceBucket[];
}

/** What the pool passes in `workerData`. */
export interface WorkerInit {
  /** The worker's ring. */
  readonly sab: SharedArrayBuffer;
  /** The worker's index in the pool. */
  readonly index: number;
  /** How the worker aggregates, and the format options it builds its format table from. */
  readonly sink: FrameSinkOptions;
  /** The pipeline's shared sequence and window ({@link SharedStamp}), for datagrams read from sockets. */
  readonly stamp: SharedArrayBuffer;
  /** The sockets to read from the start (a restarted worker takes over its predecessor's). */
  readonly sockets: readonly SocketAttachment[];
  /** The made-up StatsD lines the worker parses before it says it is ready (`_warm_up.ts`); 0 for none. */
  readonly warmUpLines: number;
  /** The made-up collectd value lists the worker parses before it says it is ready; 0 for none. */
  readonly warmUpValueLists: number;
}

/** A control message from the pool. */
export type WorkerRequest =
  | {
    readonly kind: "flush";
    /** Matches the reply to the request. */
    readonly id: number;
    /** The newest window to hand over. */
    readonly upToWindowMs: number;
    /** Whether to merge the windows handed over into one, stamped `upToWindowMs` (flushes fell behind). */
    readonly fold: boolean;
    /** The producer's position when it closed the window. */
    readonly writeIndex: number;
  }
  | {
    readonly kind: "stop";
    /** Matches the reply to the request. */
    readonly id: number;
  }
  | {
    readonly kind: "attach";
    /** Matches the reply to the request. */
    readonly id: number;
    /** The socket to read. */
    readonly socket: SocketAttachment;
  }
  | {
    readonly kind: "detach";
    /** Matches the reply to the request. */
    readonly id: number;
    /** The socket to let go of. */
    readonly fd: number;
  }
  | { readonly kind: "crash" };

/** A message from the worker. */
export type WorkerReply =
  | { readonly kind: "ready" }
  | {
    readonly kind: "partial";
    /** The id of the request answered. */
    readonly id: number;
    /** The last (or only) piece of the series. */
    readonly piece: Piece;
    /** What the worker counted; its `aggregate.buckets` is empty (the series are in the pieces). */
    readonly partial: SinkPartial;
  }
  | {
    readonly kind: "chunk";
    /** The id of the flush or stop being answered. */
    readonly id: number;
    /** Some of the partial's series (series of one window may come in several pieces). */
    readonly piece: Piece;
  }
  | {
    readonly kind: "done";
    /** The id of the request carried out (or refused). */
    readonly id: number;
    /** Why the request could not be carried out (an `attach` of a socket this thread cannot read). */
    readonly error?: string;
  };
