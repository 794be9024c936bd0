/**
 * An `OutputContext` that records what an output logs and counts, for output tests: a fresh state
 * directory, a clock the test moves, the log lines, and a reader for the self-metrics.
 *
 * @module
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/internal/log.ts";
import { componentStats, SelfStats } from "../../src/internal/self_stats.ts";
import type { OutputContext } from "../../src/outputs/output.ts";

/** What {@link outputContext} returns. */
export interface RecordingOutputContext {
  /** The context to start the output with. */
  readonly ctx: OutputContext;
  /** Every log line written through `ctx.log`. */
  readonly logs: string[];
  /** The registry behind `ctx.selfStats`. */
  readonly selfStats: SelfStats;
  /** The clock `ctx.now` reads, in ms since the epoch; tests move it with {@link RecordingOutputContext.advance}. */
  readonly clock: { ms: number };
  /**
   * Moves the clock forward.
   *
   * @param ms How far.
   */
  advance(ms: number): void;
  /**
   * Reads one self-metric series (after running the collectors, as a scrape does).
   *
   * @param name The family name, e.g. `tally_output_sent_batches_total`.
   * @param labels Labels the series must have besides the component's.
   * @returns The value, 0 when there is no such series.
   */
  selfMetric(name: string, labels?: Readonly<Record<string, string>>): number;
}

/** Options for {@link outputContext}. */
export interface OutputContextOptions {
  /** The state directory; a fresh temporary one by default (the caller removes it). */
  readonly stateDir?: string;
  /** The clock's start in ms since the epoch; now by default. */
  readonly startMs?: number;
}

/**
 * Builds a recording context for one output.
 *
 * @param component The output's type and id.
 * @param options The state directory and the clock's start.
 * @returns The context and what it records.
 * @example
 * ```ts
 * const { ctx, selfMetric } = outputContext({ type: "remote_write", id: "vm" });
 * await output.start(ctx);
 * ```
 */
export function outputContext(
  component: { readonly type: string; readonly id: string },
  options: OutputContextOptions = {},
): RecordingOutputContext {
  const selfStats = new SelfStats();
  const logs: string[] = [];
  const clock = { ms: options.startMs ?? Date.now() };
  const ctx: OutputContext = {
    stateDir: options.stateDir ?? mkdtempSync(join(tmpdir(), `tally-${component.type}-`)),
    log: createLogger({ component_type: component.type, component_id: component.id }, {
      write: (line) => logs.push(line),
      level: "debug",
    }),
    stats: componentStats(selfStats, component),
    selfStats,
    userAgent: "tally/test",
    now: () => clock.ms,
  };
  function selfMetric(name: string, labels: Readonly<Record<string, string>> = {}): number {
    const want = { component_type: component.type, component_id: component.id, ...labels };
    const family = selfStats.snapshot().find((f) => f.name === name);
    const series = family?.series.find((s) =>
      Object.entries(want).every(([k, value]) => s.labels.some(([n, v]) => n === k && v === value))
    );
    return series?.value ?? 0;
  }
  return {
    ctx,
    logs,
    selfStats,
    clock,
    advance(ms) {
      clock.ms += ms;
    },
    selfMetric,
  };
}
