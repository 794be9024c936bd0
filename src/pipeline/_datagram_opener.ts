/**
 * What a socket-reading worker does to a datagram before its format parses it, where the input would
 * otherwise do it on the main thread. One opening exists: `collectd_plain`, collectd's transport security
 * at level `none` without an auth file, which needs no key and so can run in any thread.
 *
 * It is `openCollectdPacket` itself, with the options the collectd input passes at that level, so both
 * paths give the same sections, refusals and bytes: a plain packet goes to the format as received; a
 * signature part is skipped and the rest read as one section, unverified; an encrypted part fails as
 * `unknown_user` (or `malformed`) and ends its scope, the parts before it still parsed. At that level a
 * datagram gives at most one section (only a verified signature or a decrypted part opens a nested one),
 * so the datagram's one sequence number serves it as the main thread's `emit` would.
 *
 * Refusals are counted by index into {@link REFUSAL_REASONS}, in the socket's shared counters, and bytes
 * are the sections' bytes (what the main thread's `emit` counts), not the datagram's.
 *
 * @module
 */

import { openCollectdPacket } from "../formats/collectd_security.ts";
import type { AuthFailure, OpenedPacketSink, OpenOptions } from "../formats/collectd_security.ts";
import type { FrameSink } from "./frame_sink.ts";

/**
 * What the workers do to each datagram of a socket handed to them before its format parses it, for an
 * input that would otherwise do it on the main thread, and where they report what they refused.
 */
export interface SocketOpening {
  /**
   * `collectd_plain`: collectd's transport security at level `none` without an auth file, as
   * `openCollectdPacket` does it (a signature part skipped, an encrypted part refused).
   */
  readonly kind: "collectd_plain";
  /**
   * Called on the main thread, at each flush and scrape, with the refusals the workers counted since the
   * last call.
   *
   * @param reason Why, as `openCollectdPacket` names it (`unknown_user`, `malformed`, …).
   * @param count How many.
   */
  readonly onRefused: (reason: string, count: number) => void;
}

/** How the workers open each datagram of a socket before its format parses it. */
export type DatagramOpening = SocketOpening["kind"];

/** The reasons an opening refuses (part of) a datagram for; a reason's index is its counter slot. */
export const REFUSAL_REASONS: readonly AuthFailure[] = [
  "unknown_user",
  "bad_signature",
  "bad_checksum",
  "required",
  "malformed",
];

const PLAIN: OpenOptions = { level: "none", users: undefined };

/**
 * Opens the datagrams of one socket and hands their sections to a sink; a resource of the worker thread
 * (one per socket, reused for every datagram, so no closure per datagram).
 */
export class DatagramOpener implements OpenedPacketSink {
  readonly #sink: FrameSink;
  #inputId = 0;
  #format = 0;
  #seq = 0;
  #windowMs = 0;
  /** The sections' bytes since the socket reader last took them (it sets them back to 0). */
  bytes = 0;
  /** The refusals since the socket reader last took them (it sets them back to 0), by index into {@link REFUSAL_REASONS}. */
  readonly refused: number[] = REFUSAL_REASONS.map(() => 0);

  /**
   * @param sink Where sections are parsed.
   */
  constructor(sink: FrameSink) {
    this.#sink = sink;
  }

  /**
   * Opens one datagram that sits at `[start, end)` of `data` and parses its sections.
   *
   * @param inputId The input index.
   * @param format The format of its sections.
   * @param seq The datagram's arrival sequence.
   * @param windowMs The window it was stamped with.
   * @param data The buffer; not retained.
   * @param start Where the datagram starts.
   * @param end Where it ends, exclusive.
   */
  open(
    inputId: number,
    format: number,
    seq: number,
    windowMs: number,
    data: Uint8Array,
    start: number,
    end: number,
  ): void {
    this.#inputId = inputId;
    this.#format = format;
    this.#seq = seq;
    this.#windowMs = windowMs;
    openCollectdPacket(data.subarray(start, end), this, PLAIN);
  }

  /**
   * Takes one section: parses it as a frame of the datagram.
   *
   * @param bytes The section; only valid during the call.
   */
  section(bytes: Uint8Array): void {
    this.bytes += bytes.length;
    this.#sink.frame(this.#inputId, this.#format, this.#seq, this.#windowMs, bytes);
  }

  /**
   * Takes one refusal: counts it (the user it named is for the main thread's log, which has none here).
   *
   * @param reason Why.
   */
  failure(reason: AuthFailure): void {
    const index = REFUSAL_REASONS.indexOf(reason);
    this.refused[index] = this.refused[index]! + 1;
  }
}
