/**
 * An `InputContext` that records what an input emits, for input tests (Telegraf's `testutil.Accumulator`
 * idea): frames, their formats, the log lines, and the self-metrics the input counted.
 *
 * @module
 */
import type { InputContext } from "../../src/inputs/input.ts";
import { createLogger } from "../../src/internal/log.ts";
import { componentStats, SelfStats } from "../../src/internal/self_stats.ts";
import type { ComponentStats } from "../../src/internal/self_stats.ts";
import type { FormatId } from "../../src/model/frame.ts";
import type { Runtime } from "../../src/runtime/types.ts";

/** Options for {@link collectingContext}. */
export interface CollectingContextOptions<T> {
  /** The runtime the input sees. */
  readonly runtime: Runtime;
  /**
   * Turns one emitted frame into what the test keeps. The bytes are only valid during the call, so the
   * default copies them.
   */
  readonly record?: (bytes: Uint8Array, format: FormatId) => T;
}

/** What {@link collectingContext} returns. */
export interface CollectingContext<T> {
  /** The context to start the input with. */
  readonly ctx: InputContext;
  /** Every emitted frame, as `record` made it, in order (a live array). */
  readonly frames: T[];
  /** The formats the frames were emitted in. */
  readonly formats: Set<FormatId>;
  /** The component's uniform counters. */
  readonly stats: ComponentStats;
  /** The registry behind `ctx.selfStats`. */
  readonly selfStats: SelfStats;
  /** Every log line written through `ctx.log`. */
  readonly logs: string[];
  /** Aborts `ctx.signal`. */
  readonly abort: AbortController;
  /**
   * Reads one self-metric series.
   *
   * @param name The family name, e.g. `tally_input_packets_total`.
   * @param labels Labels the series must have (others may be present).
   * @returns The value of the first matching series, 0 when there is none.
   */
  selfMetric(name: string, labels?: Readonly<Record<string, string>>): number;
}

/**
 * Builds a recording `InputContext` for one component.
 *
 * @param component The input's type and id, used for its counters and log fields.
 * @param options The runtime and how frames are recorded.
 * @returns The context and what it records.
 * @example
 * ```ts
 * const { ctx, frames } = collectingContext({ type: "statsd", id: "test" }, { runtime, record: (b) => decoder.decode(b) });
 * ```
 */
export function collectingContext<T = Uint8Array>(
  component: { readonly type: string; readonly id: string },
  options: CollectingContextOptions<T>,
): CollectingContext<T> {
  const record = options.record ?? ((bytes: Uint8Array) => Uint8Array.from(bytes) as T);
  const frames: T[] = [];
  const formats = new Set<FormatId>();
  const selfStats = new SelfStats();
  const stats = componentStats(selfStats, component);
  const logs: string[] = [];
  const abort = new AbortController();
  const ctx: InputContext = {
    emit(bytes, format) {
      frames.push(record(bytes, format));
      formats.add(format);
      return true;
    },
    signal: abort.signal,
    runtime: options.runtime,
    log: createLogger({ component_type: component.type, component_id: component.id }, {
      write: (line) => logs.push(line),
    }),
    stats,
    selfStats,
  };
  function selfMetric(name: string, labels: Readonly<Record<string, string>> = {}): number {
    const family = selfStats.snapshot().find((f) => f.name === name);
    const series = family?.series.find((s) =>
      Object.entries(labels).every(([k, want]) => s.labels.some(([n, value]) => n === k && value === want))
    );
    return series?.value ?? 0;
  }
  return { ctx, frames, formats, stats, selfStats, logs, abort, selfMetric };
}
