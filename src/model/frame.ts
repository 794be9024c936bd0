/**
 * The unit that crosses from an input to the workers: raw bytes plus where they came from.
 *
 * Inputs only move bytes; the worker that takes the frame runs the format named by `format`.
 *
 * @module
 */

/** Wire formats a worker knows how to parse; the number is what travels in the ring. */
export const FORMAT_IDS = {
  statsd: 1,
  collectd: 2,
  collectd_unixsock: 3,
  coscale_script: 4,
  nagios: 5,
  prom_text: 6,
  influx_line: 7,
  json: 8,
} as const;

/** The name of a wire format. */
export type FormatName = keyof typeof FORMAT_IDS;

/** The numeric id of a wire format. */
export type FormatId = (typeof FORMAT_IDS)[FormatName];

/** One unit of input bytes. */
export interface Frame {
  /** The index of the input that received the bytes (for per-input self-metrics). */
  readonly inputId: number;
  /** The format the bytes are in. */
  readonly format: FormatId;
  /** The arrival order across all inputs; gauges resolve "last write" by it. */
  readonly seq: number;
  /** The start of the flush window the bytes arrived in, in ms since the epoch. */
  readonly windowMs: number;
  /** The bytes. */
  readonly bytes: Uint8Array;
}
