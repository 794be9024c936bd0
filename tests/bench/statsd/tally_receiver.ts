/**
 * tally, the compiled binary, as a benchmark receiver: `tally run --statsd udp:127.0.0.1:P --http
 * 127.0.0.1:H --flush-interval 1s --data-dir DIR`, ready when `GET /readyz` answers 200.
 *
 * Readback: `GET /metrics` once the load has ended. Counters are exposed cumulative as
 * `<sanitised name>_total`, so the generator's `bench.c.K` is `bench_c_K_total`; series of one name with
 * different labels are summed. Totals appear at the next flush, hence a settle time above the 1 s interval.
 *
 * @module
 */
import { freePort } from "../../harness/free_port.ts";
import { GENERATOR_PREFIX } from "./generator.ts";
import type { Receiver, RunningReceiver } from "./receiver.ts";
import { readyzAnswers200, scrapeMetrics, startReceiver } from "../_shared/start_receiver.ts";

/** Options for {@link tallyReceiver}. */
export interface TallyReceiverOptions {
  /** The executable. */
  readonly executable: string;
  /** The label in the report; names the executable by default. */
  readonly label?: string;
  /** Extra `tally run` flags, e.g. `["--workers", "2"]`. */
  readonly extraArgs?: readonly string[];
  /** The bound on waiting for `/readyz`. */
  readonly readyTimeoutMs?: number;
}

/** The flush interval the benchmark runs tally with. */
const FLUSH_INTERVAL = "1s";
/** `bench_c_17_total 1234` or `bench_c_17_total{a="b"} 1234`; the name's digits and the value. */
const COUNTER_LINE_REGEXP = new RegExp(
  `^${GENERATOR_PREFIX}_c_(\\d+)_total(?:\\{[^}]*\\})?[ \\t]+(\\S+)`,
  "gm",
);

/** A tally self-metric line: family, labels, value. */
const SELF_METRIC_REGEXP = /^(tally_[a-z_]+)(?:\{([^}]*)\})?[ \t]+(\S+)/gm;
const REASON_REGEXP = /reason="([^"]*)"/;

/**
 * Describes tally as a receiver.
 *
 * @param options The executable and extra flags.
 * @returns The receiver.
 */
export function tallyReceiver(options: TallyReceiverOptions): Receiver {
  return {
    name: "tally",
    label: `${options.label ?? `tally (${options.executable})`}${
      options.extraArgs?.length ? ` run ${options.extraArgs.join(" ")}` : ""
    }`,
    readback: `GET /metrics, sum of ${GENERATOR_PREFIX}_c_K_total (flush interval ${FLUSH_INTERVAL})`,
    settleMs: 2500,
    start: async function startTally(dir: string): Promise<RunningReceiver> {
      const statsdPort = await freePort("udp");
      const httpPort = await freePort("tcp");
      const base = `http://127.0.0.1:${httpPort}`;
      const running = await startReceiver(options.executable, [
        "run",
        "--statsd",
        `udp:127.0.0.1:${statsdPort}`,
        "--http",
        `127.0.0.1:${httpPort}`,
        "--flush-interval",
        FLUSH_INTERVAL,
        "--data-dir",
        dir,
        ...(options.extraArgs ?? []),
      ], {
        cwd: dir,
        port: statsdPort,
        isReady: readyzAnswers200(base),
        readyTimeoutMs: options.readyTimeoutMs,
      });
      return {
        ...running,
        readCounters: async function scrapeCounters() {
          return parseTallyCounters(await scrapeMetrics(base));
        },
        readDiagnostics: async function scrapeSelfMetrics() {
          return parseTallyDiagnostics(await scrapeMetrics(base));
        },
      };
    },
  };
}

/**
 * Picks the self-metrics that explain a loss out of tally's exposition: UDP packets received, events
 * dropped by reason (`kernel`, `ring_full`, …), bad lines and worker restarts; and the lines parsed and
 * series held, which the scaling benchmark reads.
 *
 * @param text The `/metrics` body.
 * @returns `packets_received`, `dropped_<reason>`, `bad_lines`, `worker_restarts`, `lines_received` and
 *   `series_live`, summed over components.
 */
export function parseTallyDiagnostics(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const match of text.matchAll(SELF_METRIC_REGEXP)) {
    const [, family = "", labels = "", raw = ""] = match;
    let key: string | undefined;
    if (family === "tally_input_packets_total" && labels.includes('transport="udp"')) {
      key = "packets_received";
    } else if (family === "tally_component_dropped_events_total") {
      key = `dropped_${REASON_REGEXP.exec(labels)?.[1] ?? "unknown"}`;
    } else if (family === "tally_component_errors_total" && labels.includes('error_type="bad_line"')) {
      key = "bad_lines";
    } else if (family === "tally_worker_restarts_total") key = "worker_restarts";
    else if (family === "tally_component_received_events_total") key = "lines_received";
    else if (family === "tally_series_live") key = "series_live";
    if (key !== undefined) out[key] = (out[key] ?? 0) + Number(raw);
  }
  return out;
}

/**
 * Picks the generator's counters out of tally's Prometheus exposition.
 *
 * @param text The `/metrics` body.
 * @returns `bench.c.K` → cumulative total, summed over label sets.
 */
export function parseTallyCounters(text: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const match of text.matchAll(COUNTER_LINE_REGEXP)) {
    const name = `${GENERATOR_PREFIX}.c.${match[1]}`;
    totals.set(name, (totals.get(name) ?? 0) + Number(match[2]));
  }
  return totals;
}
