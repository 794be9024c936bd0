/**
 * tally's side of a differential run: the real statsd input on a loopback UDP port, the real pipeline (two
 * worker threads, rings, merge, series table) and one flush window. The pipeline's clock is pinned, so the
 * window never closes on its own and every datagram lands in it whatever the wall clock does; `flush()`
 * stops the input and the pipeline, whose final flush is the one window read.
 *
 * @module
 */
import * as v from "valibot";
import { statsd } from "../../src/inputs/statsd/mod.ts";
import type { StatsdInput } from "../../src/inputs/statsd/listen.ts";
import { createLogger } from "../../src/internal/log.ts";
import { componentStats, SelfStats } from "../../src/internal/self_stats.ts";
import type { Metric } from "../../src/model/metric.ts";
import { Pipeline } from "../../src/pipeline/pipeline.ts";
import { detectRuntime } from "../../src/runtime/detect.ts";

/** What tally counted about its input so far. */
export interface TallyReceived {
  /** Datagrams received. */
  readonly packets: number;
  /** Non-empty lines parsed. */
  readonly lines: number;
}

/** What tally's one window produced. */
export interface TallyWindow {
  /** One metric per series. */
  readonly metrics: readonly Metric[];
  /** Bad lines (or bad parts of lines) by reason. */
  readonly bad: ReadonlyMap<string, number>;
  /** Samples the aggregation dropped, by reason (`tally_samples_dropped_total`). */
  readonly dropped: ReadonlyMap<string, number>;
  /** Series or samples refused by the series cap. */
  readonly rejected: number;
}

/** A running tally pipeline with a statsd input. */
export interface RunningTallyWindow {
  /** The UDP port the statsd input listens on, 127.0.0.1. */
  readonly port: number;
  /** Reads what the input and the workers counted so far. */
  received(): TallyReceived;
  /** Stops the input and the pipeline, and returns the window the final flush closed. */
  flush(): Promise<TallyWindow>;
  /** Stops everything if still running; safe to call twice. */
  stop(): Promise<void>;
}

/** The pinned clock: any instant works, the window is `[WINDOW_MS, WINDOW_MS + interval)`. */
const WINDOW_MS = 1_700_000_000_000;
const INTERVAL_MS = 10_000;

/**
 * Starts the statsd input and the pipeline.
 *
 * @param options The percentiles and how many observations a summary keeps exactly.
 * @returns The running pipeline.
 */
export async function startTallyWindow(
  options: { readonly percentiles: readonly number[]; readonly exactLimit: number },
): Promise<RunningTallyWindow> {
  const stats = new SelfStats();
  const log = createLogger({}, { write: () => {} });
  let last: Metric[] = [];
  const pipeline = new Pipeline({
    workers: 2,
    ringBytes: 4 << 20,
    intervalMs: INTERVAL_MS,
    aggregation: {
      percentiles: options.percentiles,
      exactLimit: options.exactLimit,
      maxSeries: 100_000,
      idleMs: 300_000,
    },
    stats,
    log,
    now: () => WINDOW_MS,
    onFlush(result) {
      if (result.metrics.length > 0) last = [...result.metrics];
    },
  });
  await pipeline.start();
  const component = { type: "statsd", id: "statsd" };
  const input = statsd.create(
    v.parse(statsd.schema, { listen: ["udp:127.0.0.1:0"] }),
    component.id,
  ) as StatsdInput;
  const abort = new AbortController();
  await input.start({
    emit: pipeline.register(component),
    signal: abort.signal,
    runtime: detectRuntime(),
    log,
    stats: componentStats(stats, component),
    selfStats: stats,
  });
  const address = input.addresses()[0] ?? "";
  const port = Number(address.slice(address.lastIndexOf(":") + 1));
  let stopped: Promise<void> | undefined;
  const stopAll = (): Promise<void> => {
    stopped ??= (async () => {
      abort.abort();
      await input.stop();
      await pipeline.stop();
    })();
    return stopped;
  };

  function family(name: string, by: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const f of stats.snapshot()) {
      if (f.name !== name) continue;
      for (const series of f.series) {
        const key = series.labels.find(([n]) => n === by)?.[1] ?? "";
        out.set(key, (out.get(key) ?? 0) + series.value);
      }
    }
    return out;
  }

  return {
    port,
    received(): TallyReceived {
      return {
        packets: [...family("tally_input_packets_total", "transport").values()].reduce((a, b) => a + b, 0),
        lines: [...family("tally_component_received_events_total", "component_id").values()]
          .reduce((a, b) => a + b, 0),
      };
    },
    async flush(): Promise<TallyWindow> {
      await stopAll();
      return {
        metrics: last,
        bad: family("tally_bad_lines_total", "reason"),
        dropped: family("tally_samples_dropped_total", "reason"),
        rejected: pipeline.table.rejected,
      };
    },
    stop: stopAll,
  };
}
