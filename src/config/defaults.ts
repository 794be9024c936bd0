/**
 * The embedded defaults: what tally runs with when the config file leaves a key out, or when there is
 * no config file at all. Values are in their config-file form (durations and sizes as text), so that
 * `tally config example` prints them exactly as a user would write them.
 *
 * @module
 */

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

/** The inputs that run when the config file has no `[inputs]` table (or there is no file). */
export const DEFAULT_INPUTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  statsd: { type: "statsd", listen: ["udp:127.0.0.1:8125"] },
};
