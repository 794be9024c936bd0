/**
 * What the pipeline says about itself: its self-metrics (series held and rejected, flush duration, ring
 * fill, folded windows, dropped events and samples, skipped frames, worker restarts) and the log lines
 * that explain the two limits a user meets (the series cap, a flush slower than the interval), each with
 * the config key to change.
 *
 * @module
 */

import type { Logger } from "../internal/log.ts";
import type { SelfCell, SelfStats } from "../internal/self_stats.ts";
import type { SeriesTable } from "./aggregate/series_table.ts";
import type { Intake } from "./_intake.ts";
import type { Pool } from "./pool.ts";

/** How often the "series cap reached" and "flush behind" warnings may repeat. */
const LIMIT_WARN_EVERY_MS = 60_000;

/** The pipeline's counters and gauges that its flushes update. */
export interface PipelineCells {
  /** `tally_flush_duration_seconds`. */
  readonly flushDuration: SelfCell;
  /** `tally_flush_windows_folded_total`. */
  readonly foldedWindows: SelfCell;
  /** `tally_events_dropped_total`. */
  readonly eventsDropped: SelfCell;
  /** `tally_worker_restarts_total`. */
  readonly restarts: SelfCell;
  /** `tally_samples_dropped_total{reason="invalid_value"}`. */
  readonly invalidValues: SelfCell;
  /** `tally_frames_skipped_total`. */
  readonly framesSkipped: SelfCell;
}

/**
 * Registers the pipeline's counters and gauges.
 *
 * @param stats The registry.
 * @returns The cells a flush updates.
 */
export function pipelineCells(stats: SelfStats): PipelineCells {
  return {
    flushDuration: stats.cell("tally_flush_duration_seconds", {}, {
      type: "gauge",
      help: "How long the last flush took to collect and merge the workers' partials",
    }),
    foldedWindows: stats.cell("tally_flush_windows_folded_total", {}, {
      type: "counter",
      help: "Windows merged into a later one's flush because flushes fell behind the interval",
    }),
    eventsDropped: stats.cell("tally_events_dropped_total", {}, {
      type: "counter",
      help: "Events dropped because a window already held the most events kept",
    }),
    restarts: stats.cell("tally_worker_restarts_total", {}, {
      type: "counter",
      help: "Pipeline workers restarted after they died",
    }),
    invalidValues: stats.cell("tally_samples_dropped_total", { reason: "invalid_value" }, {
      type: "counter",
      help: "Samples dropped by the aggregation, by reason",
    }),
    framesSkipped: stats.cell("tally_frames_skipped_total", {}, {
      type: "counter",
      help: "Frames skipped because a worker died while parsing them",
    }),
  };
}

/**
 * Registers the gauges read when the self-metrics are collected: live and rejected series, each worker's
 * ring fill; and credits the datagrams the workers read from sockets first.
 *
 * @param stats The registry.
 * @param table The series table.
 * @param intake The intake (it credits socket reads).
 * @param pool The workers, or `undefined` when parsing inline.
 */
export function watchPipeline(
  stats: SelfStats,
  table: SeriesTable,
  intake: Intake,
  pool: Pool | undefined,
): void {
  const live = stats.cell("tally_series_live", {}, { type: "gauge", help: "Series currently held" });
  const rejected = stats.cell("tally_series_rejected_total", {}, {
    type: "counter",
    help: "Samples or series rejected by the series cap",
  });
  const fills: SelfCell[] = [];
  for (let i = 0; i < (pool?.size ?? 0); i++) {
    fills.push(stats.cell("tally_ring_fill_ratio", { worker: String(i) }, {
      type: "gauge",
      help: "The fraction of a worker's ring holding unread frames",
    }));
  }
  stats.onCollect(function collectPipeline(): void {
    intake.creditSockets();
    live.set(table.size);
    rejected.set(table.rejected);
    for (let i = 0; i < fills.length; i++) fills[i]!.set(pool!.fill(i));
  });
}

/**
 * Says so when the series cap rejected series: a brand-new metric that never appears must be explained
 * where people look, the log.
 *
 * @param log The logger.
 * @param table The series table.
 * @param maxSeries The cap.
 */
export function warnSeriesCap(log: Logger, table: SeriesTable, maxSeries: number): void {
  log.every("series_cap", LIMIT_WARN_EVERY_MS, "Series cap reached; new series are rejected", {
    max_series: maxSeries,
    config_key: "aggregation.max_series",
    live: table.size,
    rejected_total: table.rejected,
    hint: "raise aggregation.max_series, or drop the label that multiplies series (an id, a timestamp)",
  });
}

/**
 * Says so when a flush (collecting, merging, storing, handing to the outputs) took longer than the
 * interval: the windows closing meanwhile wait for the next flush (folded, past the series cap, into
 * points that span several intervals). Telegraf warns the same way when a collection outlasts its interval.
 *
 * @param log The logger.
 * @param tookMs How long the flush took.
 * @param intervalMs The flush interval.
 * @param metrics How many metrics it carried.
 */
export function warnIfBehind(log: Logger, tookMs: number, intervalMs: number, metrics: number): void {
  if (!(tookMs > intervalMs)) return;
  log.every(
    "flush_behind",
    LIMIT_WARN_EVERY_MS,
    "Flush took longer than the flush interval; later windows wait for the next flush, folded past the series cap",
    {
      took_s: Math.round(tookMs) / 1000,
      flush_interval_s: intervalMs / 1000,
      config_key: "agent.flush_interval",
      metrics,
      hint:
        "raise agent.flush_interval, or lower the number of series (aggregation.max_series, or drop a label that multiplies them)",
    },
  );
}
