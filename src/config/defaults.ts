/**
 * The embedded defaults: what tally runs with when the config file leaves a key out, or when there is
 * no config file at all. Values are in their config-file form (durations and sizes as text), so that
 * `tally config example` prints them exactly as a user would write them.
 *
 * @module
 */

import type { InputRegistry } from "./configurable_plugin.ts";

/** The defaults of every global table, in config-file form. */
export const DEFAULTS = {
  agent: {
    data_dir: "./data",
    flush_interval: "10s",
    workers: "auto",
    log_level: "info",
    ring_size: "4MiB",
    when_full: "drop",
  },
  aggregation: {
    percentiles: [50, 90, 95, 99],
    exact_limit: 256,
    max_series: 100_000,
    series_idle: "5m",
  },
  http: {
    listen: "127.0.0.1:8127",
    token: "",
    insecure: false,
    max_body: "1MiB",
  },
  store: {
    retention: "7d",
    max_size: "1GiB",
  },
} as const;

/**
 * The inputs that run when the config file has no `[inputs]` table (or there is no file): every plugin
 * of the registry with a `defaultConfig`, as input `<type>`.
 *
 * @param plugins The input registry.
 * @returns The inputs table, in config-file form.
 */
export function defaultInputs(plugins: InputRegistry): Record<string, Record<string, unknown>> {
  const inputs: Record<string, Record<string, unknown>> = {};
  for (const plugin of Object.values(plugins)) {
    if (plugin.defaultConfig === undefined) continue;
    inputs[plugin.type] = { type: plugin.type, ...(plugin.defaultConfig as Record<string, unknown>) };
  }
  return inputs;
}

/**
 * Says, for `tally config example` and help texts, which inputs run without an `[inputs]` table.
 *
 * @param plugins The input registry.
 * @returns E.g. `a statsd input on udp:127.0.0.1:8125 and an http input` as a list of the default inputs.
 */
export function describeDefaultInputs(plugins: InputRegistry): string {
  const names = Object.keys(defaultInputs(plugins)).map((type) => `"${type}"`);
  if (names.length === 0) return "no input runs";
  const list = names.length === 1 ? names[0]! : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
  return `the ${list} input${names.length === 1 ? "" : "s"} run with their defaults`;
}
