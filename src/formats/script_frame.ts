/**
 * The frame a script run becomes: one JSON header line describing the run, then the script's raw stdout.
 *
 * The `scripts` input builds frames with {@link encodeScriptFrame}; the script formats (`coscale_script`,
 * `nagios`, and `prom_text`/`influx_line` when a frame starts with a header) read them back with
 * {@link readScriptFrameHeader}, so every format stays a pure function of the frame bytes.
 *
 * ```text
 * {"script":"net","runMs":1700000000000,"exitCode":0,"definitions":{…}}\n
 * M1 "1:eth0" 1234\n
 * M2 5\n
 * ```
 *
 * The header always starts with the bytes `{"script":` ({@link SCRIPT_FRAME_PREFIX}): no valid
 * Prometheus text or Influx line can, so the general formats detect an optional header by that prefix
 * alone. `JSON.stringify` escapes every control character, so the header never spans two lines.
 *
 * @module
 */

import * as v from "valibot";
import type { BadReason, Label, SampleSink } from "../model/sample.ts";
import { COSCALE_DEFINITIONS_SCHEMA } from "./coscale_definitions.ts";
import type { CoscaleDefinitions } from "./coscale_definitions.ts";

/** Influx line-protocol timestamp precisions (`/write?precision=`; `n`/`u` are the v1 spellings). */
export type InfluxPrecision = "ns" | "us" | "ms" | "s" | "m" | "h";

/** What one script frame says about the run that produced its body. */
export interface ScriptFrameHeader {
  /**
   * The script's identity: the value of the `script` label on every sample and event of the frame.
   * Empty means "add no `script` label" (for non-script producers reusing the framing, e.g. HTTP).
   */
  readonly script: string;
  /**
   * When the run started, in ms since the epoch: the time of samples that carry none, and what CoScale
   * event times `0` (now) and `-N` (N seconds ago) are resolved against. 0 means "arrival time".
   */
  readonly runMs: number;
  /**
   * The exit code of the data run; absent when the process was killed (timeout, signal). Nagios turns it
   * into the service state; the other formats ignore it (lines printed before a failing exit still count).
   */
  readonly exitCode?: number;
  /** The run was killed at its time limit (the body is whatever it printed until then). */
  readonly timedOut?: boolean;
  /** The normalised `-c` definitions; required by the `coscale_script` format, ignored by the others. */
  readonly definitions?: CoscaleDefinitions;
  /**
   * Extra labels configured for this script, added to every sample and event of the frame. They and
   * `script` override labels of the same name the script printed: the operator's identity wins.
   */
  readonly labels?: Readonly<Record<string, string>>;
  /** The timestamp precision of Influx line output; `ns` when absent (the line protocol default). */
  readonly precision?: InfluxPrecision;
}

/** A frame split into its header and its body (the script's stdout). */
export interface ScriptFrame {
  /** The validated header. */
  readonly header: ScriptFrameHeader;
  /** The script's stdout: a view into the frame bytes, not a copy. */
  readonly body: Uint8Array;
}

/** The bytes every script frame starts with (`{"script":`). */
export const SCRIPT_FRAME_PREFIX: Uint8Array = new TextEncoder().encode('{"script":');

/** The header's shape: checked in the worker because a frame is only bytes. */
const SCRIPT_FRAME_HEADER_SCHEMA = v.object({
  script: v.string(),
  runMs: v.pipe(v.number(), v.finite()),
  exitCode: v.exactOptional(v.pipe(v.number(), v.integer())),
  timedOut: v.exactOptional(v.boolean()),
  definitions: v.exactOptional(COSCALE_DEFINITIONS_SCHEMA),
  labels: v.exactOptional(v.record(v.string(), v.string())),
  precision: v.exactOptional(v.picklist(["ns", "us", "ms", "s", "m", "h"])),
});

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
const LF = 0x0a;

/**
 * Builds a script frame: the header as one JSON line (its `script` key first), then stdout unchanged.
 *
 * @param header What the run was; `definitions` should come from {@link parseCoscaleDefinitions}.
 * @param stdout The script's (capped) standard output.
 * @returns The frame bytes.
 * @example
 * ```ts
 * const bytes = encodeScriptFrame({ script: "net", runMs: Date.now(), exitCode: 0, definitions }, stdout);
 * ```
 */
export function encodeScriptFrame(header: ScriptFrameHeader, stdout: Uint8Array): Uint8Array {
  // Spread after `script` so the prefix is fixed whatever key order the caller's object has.
  const { script, ...rest } = header;
  const line = encoder.encode(JSON.stringify({ script, ...rest }) + "\n");
  const frame = new Uint8Array(line.length + stdout.length);
  frame.set(line, 0);
  frame.set(stdout, line.length);
  return frame;
}

/**
 * Whether the bytes start with a script frame header (see {@link SCRIPT_FRAME_PREFIX}).
 *
 * @param bytes The frame bytes.
 * @returns True when the first line is meant to be a header (it may still be invalid).
 */
export function hasScriptFrameHeader(bytes: Uint8Array): boolean {
  const prefix = SCRIPT_FRAME_PREFIX;
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (bytes[i] !== prefix[i]) return false;
  }
  return true;
}

/**
 * Splits a frame into its validated header and its body.
 *
 * Never throws: a missing newline, invalid JSON or a header of the wrong shape give `undefined`, which the
 * formats count as one bad line.
 *
 * @param bytes The frame bytes.
 * @returns The header and the body, or `undefined` when the first line is not a valid header.
 */
export function readScriptFrameHeader(bytes: Uint8Array): ScriptFrame | undefined {
  const newline = bytes.indexOf(LF);
  const end = newline < 0 ? bytes.length : newline;
  if (!hasScriptFrameHeader(bytes)) return undefined;
  let json: unknown;
  try {
    // Once per frame, not per line: a frame is one script run.
    json = JSON.parse(decoder.decode(bytes.subarray(0, end)));
  } catch {
    return undefined;
  }
  const parsed = v.safeParse(SCRIPT_FRAME_HEADER_SCHEMA, json);
  if (!parsed.success) return undefined;
  return { header: parsed.output, body: bytes.subarray(newline < 0 ? bytes.length : newline + 1) };
}

/**
 * The labels a header adds to everything in its frame: `script` (when not empty) and the configured ones.
 *
 * @param header The frame header.
 * @returns The labels, unsorted; empty when there are none.
 */
export function scriptFrameLabels(header: ScriptFrameHeader): Label[] {
  const labels: Label[] = [];
  if (header.labels !== undefined) {
    for (const name of Object.keys(header.labels)) labels.push([name, header.labels[name]!]);
  }
  if (header.script !== "") labels.push(["script", header.script]);
  return labels;
}

/** One rejected line, described for people (`tally script check`); the sink only gets its reason. */
export interface LineProblem {
  /** The 1-based line number within the script's stdout (the frame header is not counted). */
  readonly line: number;
  /** The counted reason, as passed to `sink.bad`. */
  readonly reason: BadReason;
  /** What is wrong, sentence case, e.g. `Metric id 3 is not defined (defined: 0, 1, 2)`. */
  readonly message: string;
}

/** Options every script format accepts after `(bytes, sink)`; the worker passes none. */
export interface ScriptParseOptions {
  /** Called once per rejected line, right after `sink.bad`, with its line number and a message. */
  readonly onBad?: (problem: LineProblem) => void;
}

/** A frame opened for parsing: its body and what its header adds to everything in it. */
export interface OpenedFrame {
  /** The header, or `undefined` for header-less bytes (when the format allows them). */
  readonly header: ScriptFrameHeader | undefined;
  /** The bytes to parse: the script's stdout, or all the bytes when there is no header. */
  readonly body: Uint8Array;
  /** The labels the header adds ({@link scriptFrameLabels}); empty without a header. */
  readonly labels: readonly Label[];
  /** The default sample time: the run start, or 0 (arrival time) without a header. */
  readonly timeMs: number;
}

/**
 * Opens a frame for a format: reads its header when there is one, and counts one `bad_frame` bad
 * line (reported to `onBad` as line 0) when a required header is missing or a present one is invalid.
 *
 * @param bytes The frame bytes.
 * @param sink Where the bad line is counted.
 * @param options `onBad`, told about the bad line.
 * @param required Whether the format needs a header (CoScale, Nagios) or also reads bare bytes
 *   (Prometheus text, Influx line protocol).
 * @returns The opened frame, or `undefined` after counting the bad line.
 */
export function openScriptFrame(
  bytes: Uint8Array,
  sink: SampleSink,
  options: ScriptParseOptions | undefined,
  required: boolean,
): OpenedFrame | undefined {
  if (!required && !hasScriptFrameHeader(bytes)) {
    return { header: undefined, body: bytes, labels: [], timeMs: 0 };
  }
  const frame = readScriptFrameHeader(bytes);
  if (frame === undefined) {
    sink.bad("bad_frame");
    options?.onBad?.({ line: 0, reason: "bad_frame", message: "Frame header is not valid" });
    return undefined;
  }
  return {
    header: frame.header,
    body: frame.body,
    labels: scriptFrameLabels(frame.header),
    timeMs: frame.header.runMs,
  };
}
