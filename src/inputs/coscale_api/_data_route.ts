/**
 * `POST data/`: CoScale's metric data insert (coscale.md §3.3), form field `data` (the JSON payload, as the
 * statsd backend and the CLI before April 2018 send it) or `cdata` (base64 of the gzipped payload, as the
 * CLI sends it since), or a JSON body with the same fields.
 *
 * The payload is validated whole before the answer (a 400 names every bad field, `data[1].d[0][1]`), then
 * turned into tally's native push metrics (`_payload.ts`) and accepted through the durable inbox as `json`
 * frames, exactly as `POST /api/v1/push` accepts its bodies: the 200 means the data is on disk. One frame
 * per request, cut at {@link FRAME_BYTES} when a large batch would not fit a ring.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Context, Hono } from "hono";
import { gunzipLimited } from "../../internal/http_app.ts";
import { FORMAT_IDS } from "../../model/frame.ts";
import type { AcceptResult } from "../../store/inbox.ts";
import { check, readFields } from "./_fields.ts";
import { PAYLOAD_SCHEMA, payloadMetrics } from "./_payload.ts";
import type { PayloadLookup, PushedMetric } from "./_payload.ts";
import { invalid, reply, route } from "./_api.ts";
import type { Api } from "./_api.ts";

/** The size a request's metrics are cut at into frames: well inside a ring (half of `agent.ring_size`). */
export const FRAME_BYTES = 256 * 1024;

const BASE64_REGEXP = /^[A-Za-z0-9+/\-_\s]*=*\s*$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The payload text of a request, or the answer refusing it. */
type PayloadText = { readonly kind: "ok"; readonly text: string } | {
  readonly kind: "refused";
  readonly response: Response;
};

/**
 * Adds `POST data/` to the app.
 *
 * @param app The app.
 * @param api The inbox, catalog, counters, limits and clock.
 * @param lookup What metric and subject ids stand for.
 */
export function dataRoute(app: Hono, api: Api, lookup: PayloadLookup): void {
  route(app, api, { method: "POST", path: "/data" }, async function insertData(c) {
    if (api.stopping()) return shuttingDown(c);
    const payload = await payloadText(c, api);
    if (payload.kind === "refused") return payload.response;
    let json: unknown;
    try {
      json = JSON.parse(payload.text);
    } catch (error) {
      return invalid(c, api, `Metric data is not JSON: ${(error as Error).message}`);
    }
    const checked = check(PAYLOAD_SCHEMA, json, "data");
    if (checked.kind === "invalid") return invalid(c, api, "Invalid metric data", checked.issues);
    const receivedMs = api.now();
    const result = payloadMetrics(checked.value, lookup, receivedMs);
    if (result.issues.length > 0) return invalid(c, api, "Invalid metric data", result.issues);
    const frames = pushFrames(result.metrics);
    const outcomes = await Promise.all(frames.map((frame) => acceptFrame(api, frame)));
    const refused = outcomes.find((outcome) => outcome !== "accepted");
    const kept = outcomes.filter((outcome) => outcome === "accepted").length;
    if (refused !== undefined) return refusedFrames(c, api, refused, kept, frames.length);
    // The pipeline counts the frames' metrics and bytes as this input's received events and bytes.
    let undefinedPoints = 0;
    for (const n of result.undefinedIds.values()) undefinedPoints += n;
    api.undefinedPoints.add(undefinedPoints);
    const stored = `Inserted ${result.points} data point${result.points === 1 ? "" : "s"}`;
    if (result.undefinedIds.size === 0) return reply(c, 200, stored);
    const ids = [...result.undefinedIds.keys()];
    return reply(
      c,
      200,
      `${stored}; no metric has the id ${ids.join(", ")}: ${undefinedPoints} of them are kept as ` +
        `${
          ids.map((id) => `coscale_metric_${id}`).join(", ")
        } (create the metric with POST metrics/ and send its id)`,
      { undefinedMetricIds: ids },
    );
  });
}

/** Reads `data` or `cdata` from the body, decoded and unzipped, within the data limit. */
async function payloadText(c: Context, api: Api): Promise<PayloadText> {
  const refuse = (response: Response): PayloadText => ({ kind: "refused", response });
  const body = await readFields(c);
  if (body.kind === "invalid") return refuse(invalid(c, api, body.msg));
  const { data, cdata } = body.fields;
  if (data !== undefined && cdata !== undefined) {
    return refuse(invalid(c, api, "Send the metric data as data or as cdata, not both"));
  }
  const max = api.maxDataBytes;
  const tooLarge = () => {
    api.stats.errors("too_large").add();
    return refuse(
      reply(c, 413, `Metric data is larger than the limit of ${max} bytes (max_data); send smaller batches`),
    );
  };
  if (cdata !== undefined) {
    if (typeof cdata !== "string" || !BASE64_REGEXP.test(cdata)) {
      return refuse(invalid(c, api, "Invalid cdata: expected base64 of gzipped JSON"));
    }
    // A client that left "+" unescaped in the form sent a space, which base64 never holds.
    const zipped = Buffer.from(cdata.replaceAll(" ", "+"), "base64");
    const inflated = await gunzipLimited(new Response(zipped).body!, max);
    if (inflated.kind === "too_large") return tooLarge();
    if (inflated.kind === "invalid") {
      return refuse(invalid(c, api, `Invalid cdata: not gzip (${inflated.reason})`));
    }
    try {
      return { kind: "ok", text: decoder.decode(inflated.bytes) };
    } catch {
      return refuse(invalid(c, api, "Invalid cdata: the unzipped data is not UTF-8"));
    }
  }
  if (data === undefined) {
    return refuse(invalid(c, api, "Send the metric data in the form field data or cdata"));
  }
  // A JSON body may carry the payload itself rather than its text.
  const text = typeof data === "string" ? data : JSON.stringify(data);
  return encoder.encode(text).length > max ? tooLarge() : { kind: "ok", text };
}

/**
 * The native push bodies of the metrics, one line each, cut so that each stays near {@link FRAME_BYTES}.
 *
 * @param metrics The metrics.
 * @returns The frames; none for no metrics.
 */
export function pushFrames(metrics: readonly PushedMetric[]): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let parts: string[] = [];
  let size = 0;
  const cut = () => {
    frames.push(encoder.encode(`{"metrics":[${parts.join(",")}]}`));
    parts = [];
    size = 0;
  };
  for (const metric of metrics) {
    const text = JSON.stringify(metric);
    if (size > 0 && size + text.length > FRAME_BYTES) cut();
    parts.push(text);
    size += text.length + 1;
  }
  if (parts.length > 0) cut();
  return frames;
}

async function acceptFrame(api: Api, frame: Uint8Array): Promise<AcceptResult | "failed"> {
  try {
    return await api.accept(frame, FORMAT_IDS.json);
  } catch {
    return "failed";
  }
}

function refusedFrames(
  c: Context,
  api: Api,
  outcome: AcceptResult | "failed",
  kept: number,
  all: number,
): Response {
  const partly = kept === 0
    ? "nothing was kept"
    : `${kept} of its ${all} parts were kept (a retry sends them again)`;
  switch (outcome) {
    case "failed":
      api.stats.errors("store").add();
      return reply(c, 500, `Cannot keep the metric data: the store's commit failed; ${partly}`);
    case "too_large":
      api.stats.errors("too_large").add();
      return reply(
        c,
        413,
        `Metric data does not fit in the pipeline's rings; raise agent.ring_size; ${partly}`,
      );
    case "busy":
      api.stats.errors("busy").add();
      c.header("Retry-After", "1");
      return reply(c, 503, `The pipeline stayed full for the whole ack_wait; retry later; ${partly}`);
    default:
      return shuttingDown(c);
  }
}

function shuttingDown(c: Context): Response {
  c.header("Retry-After", "5");
  return reply(c, 503, "tally is shutting down");
}
