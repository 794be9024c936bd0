/**
 * The config keys every forwarder shares (receiver, timeouts, retries, outbox, readiness), as valibot
 * entries that each output spreads into its own schema, so that `remote_write`, `otlp` and `influx` read
 * alike and `_forwarder.ts` can take any of their configs.
 *
 * @module
 */

import * as v from "valibot";
import { duration, httpUrl, size } from "../config/fields.ts";

const KIB = 1024;
const MIB = 1024 * KIB;

/** The default cap on each output's outbox: 512 MiB. */
export const DEFAULT_OUTBOX_MAX_SIZE = "512MiB";

/**
 * The entries every forwarder's schema starts with. `url` has no default; each output sets its own
 * default for nothing else here.
 */
export const FORWARD_ENTRIES = {
  url: v.pipe(
    httpUrl(),
    v.description("The receiver's URL (http:// or https://)."),
  ),
  headers: v.optional(
    v.pipe(
      v.record(v.string(), v.string("a header value"), "a table of header names and values"),
      v.description(
        'Extra request headers, e.g. { Authorization = "Bearer …", "X-Scope-OrgID" = "edge" }.',
      ),
    ),
    {},
  ),
  timeout: v.optional(
    v.pipe(
      duration({ min: 100, max: 600_000 }),
      v.description("The bound on one request, from connecting to the end of the response."),
    ),
    "30s",
  ),
  min_backoff: v.optional(
    v.pipe(
      duration({ min: 10, max: 600_000 }),
      v.description("The first wait before a retry; it doubles per retry, with jitter, up to max_backoff."),
    ),
    "500ms",
  ),
  max_backoff: v.optional(
    v.pipe(
      duration({ min: 10, max: 3_600_000 }),
      v.description("The longest wait between retries (a receiver's Retry-After is honoured up to 10m)."),
    ),
    "30s",
  ),
  outbox: v.optional(
    v.pipe(
      v.picklist(["disk", "memory"], '"disk" or "memory"'),
      v.description(
        'Where undelivered batches wait: "disk" (<data_dir>/outbox/<id>, kept across restarts and crashes) ' +
          'or "memory" (lost on restart).',
      ),
    ),
    "disk",
  ),
  outbox_max_size: v.optional(
    v.pipe(
      size({ min: 64 * KIB, max: 1024 * 1024 * MIB }),
      v.description(
        "The cap on the outbox; past it the oldest batches are evicted and counted " +
          "(tally_output_evicted_batches_total). Size it as bytes sent per hour × hours of outage to survive.",
      ),
    ),
    DEFAULT_OUTBOX_MAX_SIZE,
  ),
  stall_after: v.optional(
    v.pipe(
      duration({ min: 0 }),
      v.description(
        '/readyz reports the output once it has held undelivered data this long without a delivery; "0s" never.',
      ),
    ),
    "5m",
  ),
};

/** The validated shared part of a forwarder's config. */
export type ForwardConfig = v.InferOutput<v.ObjectSchema<typeof FORWARD_ENTRIES, undefined>>;

/**
 * The example values of the shared keys (their defaults, `headers` empty), which every forwarder's `example`
 * spreads after its own `url`, so that `tally config example <type>` shows them all alike.
 */
export const FORWARD_EXAMPLE = {
  headers: {},
  timeout: "30s",
  min_backoff: "500ms",
  max_backoff: "30s",
  outbox: "disk",
  outbox_max_size: DEFAULT_OUTBOX_MAX_SIZE,
  stall_after: "5m",
} as const;
