/**
 * Turns standard input into the requests `tally push --stdin` sends, per format, in input order, each body
 * within the agent's default 1 MiB limit (which the agent applies to the decompressed body too):
 *
 * - `statsd` → `POST /api/v1/statsd`, `influx` → `POST /write?precision=…`: whole lines passed through
 *   unchanged (the agent parses them, counting and skipping bad lines), gzipped, up to 512 KiB each.
 * - `json` → `POST /api/v1/push`: one JSON value per line (a metric object, an array of them, or a whole
 *   `{"metrics":[…]}` body), or, when the first line is not JSON by itself, the input as one such document.
 * - `coscale` → `POST /api/v1/app/{appId}/data/`: the CoScale `data insert` grammar, as form `cdata`.
 *
 * Nothing here does I/O besides reading the input: the caller sends.
 *
 * @module
 */

import { parseCoscaleData } from "../formats/coscale_data.ts";
import type { CoscaleDataEntry } from "../formats/coscale_data.ts";
import type { AgentRequest } from "./_agent_client.ts";
import { coscaleEntrySize, coscaleForm, coscalePayload } from "./_coscale_payload.ts";
import { lineBatches } from "./_line_batches.ts";

/** The `--format` values of `tally push --stdin`. */
export const STDIN_FORMATS = ["statsd", "influx", "json", "coscale"] as const;

/** One of {@link STDIN_FORMATS}. */
export type StdinFormat = (typeof STDIN_FORMATS)[number];

/** The Influx timestamp precisions `/write` takes. */
export const INFLUX_PRECISIONS = ["ns", "us", "ms", "s"] as const;

/** One of {@link INFLUX_PRECISIONS}. */
export type InfluxPrecision = (typeof INFLUX_PRECISIONS)[number];

/** The largest text batch in bytes: half the agent's default body limit, so a lowered limit still fits. */
export const TEXT_BATCH_BYTES = 512 * 1024;
/**
 * The largest JSON body in UTF-16 code units: at most three bytes each in UTF-8, so a body stays under
 * 1 MiB whatever the characters.
 */
export const JSON_BATCH_UNITS = 256 * 1024;
/** How much input the JSON and CoScale readers decode at a time. */
const READ_BATCH_BYTES = 64 * 1024;

/** A request and the input it carries. */
export interface StdinRequest {
  /** The request (the body uncompressed; `gzip` says whether it travels compressed). */
  readonly request: AgentRequest;
  /** The first input line the body carries. */
  readonly firstLine: number;
  /** The last input line the body carries. */
  readonly lastLine: number;
  /** JSON: where each metric of the body came from (`line 7`, `line 9 metrics[2]`), for the agent's 400s. */
  readonly origins?: readonly string[];
}

/** Input the CLI refused before sending: a line that is not JSON, a malformed CoScale entry. */
export interface StdinProblem {
  /** The 1-based input line, or 0 for the input as a whole. */
  readonly line: number;
  /** What is wrong. */
  readonly message: string;
}

/** What a reader needs besides the input. */
export interface StdinRequestOptions {
  /** Influx timestamps' precision. */
  readonly precision: InfluxPrecision;
  /** The CoScale application id in the URL. */
  readonly appId: string;
  /** Told about every refused piece of input; the rest goes on. */
  readonly onProblem: (problem: StdinProblem) => void;
}

const decoder = new TextDecoder();

/**
 * Reads the input in `format` and yields the requests to send, in order.
 *
 * @param input The input bytes, in chunks of any size.
 * @param format The input format.
 * @param options The Influx precision, the CoScale app id and where refused input is reported.
 * @returns The requests.
 */
export function stdinRequests(
  input: AsyncIterable<Uint8Array>,
  format: StdinFormat,
  options: StdinRequestOptions,
): AsyncGenerator<StdinRequest, void, undefined> {
  switch (format) {
    case "statsd":
      return textRequests(input, {
        method: "POST",
        path: "/api/v1/statsd",
        contentType: "text/plain; charset=utf-8",
      });
    case "influx":
      return textRequests(input, {
        method: "POST",
        path: `/write?precision=${options.precision}`,
        contentType: "text/plain; charset=utf-8",
      });
    case "json":
      return jsonRequests(input, options);
    case "coscale":
      return coscaleRequests(input, options);
  }
}

async function* textRequests(
  input: AsyncIterable<Uint8Array>,
  base: AgentRequest,
): AsyncGenerator<StdinRequest, void, undefined> {
  for await (const batch of lineBatches(input, TEXT_BATCH_BYTES)) {
    yield {
      request: { ...base, body: batch.bytes, gzip: true },
      firstLine: batch.firstLine,
      lastLine: batch.firstLine + batch.lines - 1,
    };
  }
}

async function* jsonRequests(
  input: AsyncIterable<Uint8Array>,
  options: StdinRequestOptions,
): AsyncGenerator<StdinRequest, void, undefined> {
  // The metrics of the next `{"metrics":[…]}` body, serialised, and where each came from.
  let metrics: string[] = [];
  let origins: string[] = [];
  let units = 0;
  let firstLine = 0;
  let lastLine = 0;
  function add(metric: unknown, origin: string, line: number): boolean {
    const text = JSON.stringify(metric) ?? "null";
    if (metrics.length === 0) firstLine = line;
    metrics.push(text);
    origins.push(origin);
    units += text.length + 1;
    lastLine = line;
    return units >= JSON_BATCH_UNITS - 64;
  }
  function take(): StdinRequest {
    const request: StdinRequest = {
      request: {
        method: "POST",
        path: "/api/v1/push",
        contentType: "application/json",
        body: `{"metrics":[${metrics.join(",")}]}`,
        gzip: true,
      },
      firstLine,
      lastLine,
      origins,
    };
    metrics = [];
    origins = [];
    units = 0;
    return request;
  }

  let mode: "lines" | "document" | undefined;
  const document: Uint8Array[] = [];
  for await (const batch of lineBatches(input, READ_BATCH_BYTES)) {
    if (mode === "document") {
      document.push(batch.bytes);
      continue;
    }
    const lines = decoder.decode(batch.bytes).split("\n");
    for (let i = 0; i < lines.length; i++) {
      const text = lines[i]!.trim();
      if (text === "") continue;
      const line = batch.firstLine + i;
      const value = parseJson(text);
      if (mode === undefined) {
        if (value === undefined) {
          // Not JSON on its own line: the input is one document; everything before this line was blank.
          mode = "document";
          document.push(batch.bytes);
          break;
        }
        mode = "lines";
      }
      if (value === undefined) {
        options.onProblem({ line, message: `Line ${line} is not JSON: ${clip(text)}` });
        continue;
      }
      for (const [metric, where] of metricsOf(value.json)) {
        if (add(metric, `line ${line}${where}`, line)) yield take();
      }
    }
  }
  if (mode === "document") {
    const text = decoder.decode(concat(document));
    const value = parseJson(text);
    if (value === undefined) {
      options.onProblem({
        line: 0,
        message: "Standard input is neither one JSON value per line nor one JSON document",
      });
      return;
    }
    const last = text.split("\n").length;
    for (const [metric, where] of metricsOf(value.json)) {
      if (add(metric, where === "" ? "the document" : where.trim(), last)) yield take();
    }
  }
  if (metrics.length > 0) yield take();
}

/** The metrics in a JSON value: an array's elements, a push body's `metrics`, or the value itself. */
function* metricsOf(value: unknown): Generator<[unknown, string]> {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) yield [value[i], ` [${i}]`];
  } else if (
    typeof value === "object" && value !== null && Array.isArray((value as { metrics?: unknown }).metrics)
  ) {
    const metrics = (value as { metrics: unknown[] }).metrics;
    for (let i = 0; i < metrics.length; i++) yield [metrics[i], ` metrics[${i}]`];
  } else {
    yield [value, ""];
  }
}

async function* coscaleRequests(
  input: AsyncIterable<Uint8Array>,
  options: StdinRequestOptions,
): AsyncGenerator<StdinRequest, void, undefined> {
  const path = `/api/v1/app/${encodeURIComponent(options.appId)}/data/`;
  let pending: CoscaleDataEntry[] = [];
  let units = 0;
  function take(): StdinRequest {
    const payload = coscalePayload(pending);
    const request: StdinRequest = {
      request: {
        method: "POST",
        path,
        contentType: "application/x-www-form-urlencoded",
        body: coscaleForm(payload),
        shownBody: `cdata=base64(gzip(${payload}))`,
      },
      firstLine: pending[0]!.line,
      lastLine: pending[pending.length - 1]!.line,
    };
    pending = [];
    units = 0;
    return request;
  }
  for await (const batch of lineBatches(input, READ_BATCH_BYTES)) {
    const { entries, errors } = parseCoscaleData(decoder.decode(batch.bytes), batch.firstLine);
    for (const error of errors) {
      options.onProblem({
        line: error.line,
        message: `Line ${error.line}, entry "${clip(error.entry)}": ${error.message}`,
      });
    }
    for (const entry of entries) {
      pending.push(entry);
      units += coscaleEntrySize(entry);
      if (units >= JSON_BATCH_UNITS) yield take();
    }
  }
  if (pending.length > 0) yield take();
}

function parseJson(text: string): { readonly json: unknown } | undefined {
  try {
    return { json: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function clip(text: string): string {
  return text.length <= 80 ? text : `${text.slice(0, 77)}...`;
}
