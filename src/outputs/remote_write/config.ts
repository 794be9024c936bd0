/**
 * The config of the `remote_write` output: the shared forwarder keys plus external labels and batch
 * limits.
 *
 * The config loader adds `type = "remote_write"` and makes the table strict, so these are the only keys.
 *
 * @module
 */

import * as v from "valibot";
import { size } from "../../config/fields.ts";
import { FORWARD_ENTRIES, FORWARD_EXAMPLE } from "../_forward_config.ts";

const KIB = 1024;
const MIB = 1024 * KIB;
const LABEL_NAME_REGEXP = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const SAMPLES_EXPECTED = "an integer from 1 to 1000000";

/** The valibot schema of an `[outputs.<id>]` table with `type = "remote_write"` (without `type`). */
export const schema = v.pipe(
  v.strictObject({
    ...FORWARD_ENTRIES,
    external_labels: v.optional(
      v.pipe(
        v.record(
          v.pipe(
            v.string(),
            v.regex(LABEL_NAME_REGEXP, 'a Prometheus label name like "datacenter"'),
            v.check((name) => !name.startsWith("__"), 'a label name not starting with "__" (reserved)'),
          ),
          v.string("a label value"),
          "a table of label names and values",
        ),
        v.description(
          'Labels added to every series sent, e.g. { site = "edge-7" }; a series\' own label of the same ' +
            "name wins, as in Prometheus.",
        ),
      ),
      {},
    ),
    max_batch_samples: v.optional(
      v.pipe(
        v.number(SAMPLES_EXPECTED),
        v.integer(SAMPLES_EXPECTED),
        v.minValue(1, SAMPLES_EXPECTED),
        v.maxValue(1_000_000, SAMPLES_EXPECTED),
        v.description("The most samples in one request; a flush with more is split."),
      ),
      10_000,
    ),
    max_batch_size: v.optional(
      v.pipe(
        size({ min: 4 * KIB, max: 64 * MIB }),
        v.description(
          "The most bytes of protobuf in one request before compression; a flush with more is split.",
        ),
      ),
      "4MiB",
    ),
  }, "a table"),
  v.description(
    "A remote_write output: Prometheus remote-write 1.0 (protobuf + snappy) to Prometheus, VictoriaMetrics, " +
      "Mimir, Thanos or Cortex, through a durable outbox (see src/outputs/remote_write/README.md).",
  ),
);

/** The validated config of a `remote_write` output. */
export type RemoteWriteConfig = v.InferOutput<typeof schema>;

/**
 * A complete example: VictoriaMetrics on loopback with a site label. It is what
 * `tally config example remote_write` prints and what the README's config block shows.
 */
export const example: v.InferInput<typeof schema> = {
  url: "http://127.0.0.1:8428/api/v1/write",
  ...FORWARD_EXAMPLE,
  external_labels: { site: "edge-7" },
  max_batch_samples: 10_000,
  max_batch_size: "4MiB",
};
