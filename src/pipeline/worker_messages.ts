/**
 * The messages between the pool and its workers, and what a worker is started with (plain data: they
 * cross threads by structured clone). `worker_main.ts` describes the protocol.
 *
 * @module
 */

import type { FrameSinkOptions, SinkPartial } from "./frame_sink.ts";
import type { Piece } from "./_hand_over.ts";
import type { SocketAttachment } from "./_socket_reader.ts";

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
}

/** A control message from the pool. */
export type WorkerRequest =
  | {
    readonly kind: "flush";
    /** Matches the reply to the request. */
    readonly id: number;
    /** The newest window to hand over. */
    readonly upToWindowMs: number;
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
    /** The id of the request carried out. */
    readonly id: number;
  };
