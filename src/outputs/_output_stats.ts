/**
 * The self-metrics of one forwarder: the uniform `tally_component_*` counters plus the `tally_output_*`
 * families, every series labelled `component_type` and `component_id`.
 *
 * | family | type | what |
 * |---|---|---|
 * | `tally_component_received_events_total` | counter | samples (or lines) taken from flushes |
 * | `tally_component_sent_events_total` | counter | samples delivered (2xx) |
 * | `tally_component_dropped_events_total{reason}` | counter | `evicted` (outbox cap), `rejected` (4xx), `encode`, `outbox_write` |
 * | `tally_component_errors_total{error_type}` | counter | `http_429`, `http_5xx`, `network`, `timeout`, `http_4xx`, `encode`, `outbox_write` |
 * | `tally_output_queued_bytes` | gauge | bytes in the outbox not yet delivered |
 * | `tally_output_queued_batches` | gauge | batches in the outbox not yet delivered |
 * | `tally_output_oldest_queued_age_seconds` | gauge | age of the oldest undelivered batch; 0 when empty |
 * | `tally_output_sent_batches_total` | counter | batches delivered |
 * | `tally_output_sent_bytes_total` | counter | request bytes delivered |
 * | `tally_output_send_seconds_total` | counter | time spent in delivered requests (÷ sent batches = mean latency) |
 * | `tally_output_last_send_duration_seconds` | gauge | the latest delivered request's latency |
 * | `tally_output_retries_total{reason}` | counter | attempts to retry: `http_429`, `http_5xx`, `network`, `timeout` |
 * | `tally_output_failed_batches_total{reason}` | counter | batches given up: `rejected` (4xx other than 429) |
 * | `tally_output_evicted_batches_total` | counter | batches evicted by the outbox cap, oldest first |
 * | `tally_output_evicted_bytes_total` | counter | their bytes |
 * | `tally_output_skipped_bytes_total{reason}` | counter | outbox bytes unreadable after a crash: `corrupt`, `truncated`, `format` |
 * | `tally_output_last_delivery_timestamp_seconds` | gauge | when the latest batch was delivered; 0 before |
 *
 * @module
 */

import { componentStats } from "../internal/self_stats.ts";
import type { ComponentStats, SelfCell, SelfStats } from "../internal/self_stats.ts";

/** The cells of one forwarder. */
export interface OutputStats {
  /** The uniform counters. */
  readonly component: ComponentStats;
  /** `tally_output_queued_bytes`. */
  readonly queuedBytes: SelfCell;
  /** `tally_output_queued_batches`. */
  readonly queuedBatches: SelfCell;
  /** `tally_output_oldest_queued_age_seconds`. */
  readonly oldestAge: SelfCell;
  /** `tally_output_sent_batches_total`. */
  readonly sentBatches: SelfCell;
  /** `tally_output_sent_bytes_total`. */
  readonly sentBytes: SelfCell;
  /** `tally_output_send_seconds_total`. */
  readonly sendSeconds: SelfCell;
  /** `tally_output_last_send_duration_seconds`. */
  readonly lastSendSeconds: SelfCell;
  /** `tally_output_retries_total{reason}`. */
  retries(reason: string): SelfCell;
  /** `tally_output_failed_batches_total{reason}`. */
  failed(reason: string): SelfCell;
  /** `tally_output_evicted_batches_total`. */
  readonly evictedBatches: SelfCell;
  /** `tally_output_evicted_bytes_total`. */
  readonly evictedBytes: SelfCell;
  /** `tally_output_skipped_bytes_total{reason}`. */
  skipped(reason: string): SelfCell;
  /** `tally_output_last_delivery_timestamp_seconds`. */
  readonly lastDelivery: SelfCell;
}

/**
 * Creates (or finds) the cells of one forwarder.
 *
 * @param stats The registry.
 * @param component The output's type and id.
 * @returns The cells.
 */
export function outputStats(
  stats: SelfStats,
  component: { readonly type: string; readonly id: string },
): OutputStats {
  const base = { component_type: component.type, component_id: component.id };
  const counter = (name: string, help: string, extra: Record<string, string> = {}) =>
    stats.cell(name, { ...base, ...extra }, { type: "counter", help });
  const gauge = (name: string, help: string) => stats.cell(name, base, { type: "gauge", help });
  return {
    component: componentStats(stats, component),
    queuedBytes: gauge("tally_output_queued_bytes", "Bytes in the output's outbox not yet delivered"),
    queuedBatches: gauge("tally_output_queued_batches", "Batches in the output's outbox not yet delivered"),
    oldestAge: gauge(
      "tally_output_oldest_queued_age_seconds",
      "Age of the oldest batch not yet delivered; 0 when the outbox is empty",
    ),
    sentBatches: counter("tally_output_sent_batches_total", "Batches delivered"),
    sentBytes: counter("tally_output_sent_bytes_total", "Request bytes delivered"),
    sendSeconds: counter("tally_output_send_seconds_total", "Seconds spent in delivered requests"),
    lastSendSeconds: gauge(
      "tally_output_last_send_duration_seconds",
      "Latency of the latest delivered request",
    ),
    retries: (reason) =>
      counter("tally_output_retries_total", "Retries of a batch, by what made them necessary", { reason }),
    failed: (reason) =>
      counter("tally_output_failed_batches_total", "Batches given up without delivery, by reason", {
        reason,
      }),
    evictedBatches: counter(
      "tally_output_evicted_batches_total",
      "Batches evicted, oldest first, to keep the outbox under its cap",
    ),
    evictedBytes: counter(
      "tally_output_evicted_bytes_total",
      "Bytes of the batches evicted by the outbox cap",
    ),
    skipped: (reason) =>
      counter("tally_output_skipped_bytes_total", "Outbox bytes that could not be read back, by reason", {
        reason,
      }),
    lastDelivery: gauge(
      "tally_output_last_delivery_timestamp_seconds",
      "When the latest batch was delivered, in seconds since the epoch; 0 before the first",
    ),
  };
}
