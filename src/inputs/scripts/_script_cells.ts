/**
 * The self-metrics of each script the `scripts` input runs: runs, durations, time-outs, exits, skips.
 *
 * @module
 */

import type { SelfCell, SelfStats } from "../../internal/self_stats.ts";

/** The self-metric cells of one script. */
export interface ScriptCells {
  readonly runs: SelfCell;
  readonly configRuns: SelfCell;
  readonly duration: SelfCell;
  readonly configDuration: SelfCell;
  readonly timeouts: SelfCell;
  readonly configTimeouts: SelfCell;
  readonly configErrors: SelfCell;
  readonly truncations: SelfCell;
  readonly strays: SelfCell;
  readonly skipped: (reason: "overlap" | "concurrency" | "no_definitions") => SelfCell;
  readonly exits: (mode: "config" | "data", code: string) => SelfCell;
}

/**
 * Registers the self-metric cells of one script.
 *
 * @param stats The collector's self-metrics.
 * @param componentId The input's id (`component_id`).
 * @param script The script's id (`script`).
 * @returns The script's cells.
 */
export function scriptCells(stats: SelfStats, componentId: string, script: string): ScriptCells {
  const base = { component_id: componentId, script };
  const counter = { type: "counter" } as const;
  const gauge = { type: "gauge" } as const;
  const runs = "Script runs started, by mode (config: -c, data: -d or the command as written)";
  const duration = "How long the script's last run took, by mode";
  const timeouts = "Script runs killed at their time limit, by mode";
  return {
    runs: stats.cell("tally_script_runs_total", { ...base, mode: "data" }, { ...counter, help: runs }),
    configRuns: stats.cell("tally_script_runs_total", { ...base, mode: "config" }, {
      ...counter,
      help: runs,
    }),
    duration: stats.cell("tally_script_duration_seconds", { ...base, mode: "data" }, {
      ...gauge,
      help: duration,
    }),
    configDuration: stats.cell("tally_script_duration_seconds", { ...base, mode: "config" }, {
      ...gauge,
      help: duration,
    }),
    timeouts: stats.cell("tally_script_timeouts_total", { ...base, mode: "data" }, {
      ...counter,
      help: timeouts,
    }),
    configTimeouts: stats.cell("tally_script_timeouts_total", { ...base, mode: "config" }, {
      ...counter,
      help: timeouts,
    }),
    configErrors: stats.cell("tally_script_config_errors_total", base, {
      ...counter,
      help: "Config-mode (-c) runs whose definitions could not be used (failed run or invalid JSON)",
    }),
    truncations: stats.cell("tally_script_stdout_truncations_total", base, {
      ...counter,
      help: "Script runs whose stdout passed max_stdout (the script was killed, the output cut)",
    }),
    strays: stats.cell("tally_script_stray_processes_killed_total", base, {
      ...counter,
      help: "Processes a script left behind or moved out of its process group, killed by the sandbox",
    }),
    skipped: (reason) =>
      stats.cell("tally_script_skipped_runs_total", { ...base, reason }, {
        ...counter,
        help:
          "Script runs skipped: the previous still going (overlap), no free slot (concurrency), no definitions",
      }),
    exits: (mode, code) =>
      stats.cell("tally_script_exits_total", { ...base, mode, code }, {
        ...counter,
        help: "Finished script runs by exit code (a signal name when killed, spawn_error when not started)",
      }),
  };
}
