/**
 * `tally run`: load config → open the store → start the pipeline, the HTTP endpoint and the inputs →
 * wait for a shutdown signal → stop in reverse order (inputs, rings drained, final flush, store closed).
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { CliIo } from "./cli_io.ts";
import { ConfigError } from "../config/load.ts";
import { loadConfig } from "../config/load.ts";
import { type Config, PLUGINS } from "./_plugins.ts";
import { INPUTS } from "../inputs/registry.ts";
import type { Input, InputPlugin } from "../inputs/input.ts";
import { createLogger } from "../internal/log.ts";
import type { Logger } from "../internal/log.ts";
import { componentStats, SelfStats } from "../internal/self_stats.ts";
import { createHttpApp } from "../internal/http_app.ts";
import { prometheusRoutes } from "../outputs/prometheus_scrape/routes.ts";
import { Pipeline } from "../pipeline/pipeline.ts";
import { defaultTypesDb } from "../formats/_load_types_db.ts";
import { detectRuntime } from "../runtime/detect.ts";
import type { Server } from "../runtime/types.ts";
import { Store } from "../store/store.ts";
import { storeRoutes } from "../store/routes.ts";

const USAGE = `Usage: tally run [options]

Runs the collector. Without --config, embedded defaults apply: StatsD on udp:127.0.0.1:8125,
HTTP (/metrics, /api/v1/query) on 127.0.0.1:8127, data under ./data. Flags override the file.

Options:
  -c, --config FILE          TOML config file (see "tally config example")
      --data-dir DIR         where the store lives
      --statsd ADDR          StatsD listener, repeatable: udp:HOST:PORT, tcp:HOST:PORT, unix:PATH
      --collectd ADDR        collectd network listener, repeatable: udp:HOST:PORT
      --http HOST:PORT       HTTP endpoint address
      --flush-interval DUR   aggregation window, e.g. 10s, 1s
      --workers N            parser/aggregator threads; 0 parses on the main thread
      --udp-receive MODE     how statsd and collectd read UDP: auto, recvmmsg or dgram
  -h, --help                 show this help
`;

/** How long shutdown may take before it is abandoned (the bound). */
const SHUTDOWN_LIMIT_MS = 5000;
/** How often retention and the size cap are enforced. */
const RETENTION_EVERY_MS = 60_000;

/**
 * Runs the collector until `io.shutdown` aborts.
 *
 * @param args The arguments after `run`.
 * @param io Output streams, environment, working directory and the shutdown signal.
 * @returns The exit code: 0 after a clean shutdown, 1 on a runtime failure, 2 on a usage or config error.
 */
export async function run(args: readonly string[], io: CliIo): Promise<number> {
  let flags;
  try {
    flags = parseArgs({
      args: [...args],
      options: {
        config: { type: "string", short: "c" },
        "data-dir": { type: "string" },
        statsd: { type: "string", multiple: true },
        collectd: { type: "string", multiple: true },
        http: { type: "string" },
        "flush-interval": { type: "string" },
        workers: { type: "string" },
        "udp-receive": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: false,
      strict: true,
    }).values;
  } catch (error) {
    io.stderr(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (flags.help === true) {
    io.stdout(USAGE);
    return 0;
  }

  let config: Config;
  try {
    config = loadConfig(flags.config, {
      ...PLUGINS,
      cwd: io.cwd,
      ...(flags["data-dir"] !== undefined ? { dataDir: flags["data-dir"] } : {}),
      ...(flags.statsd !== undefined ? { statsd: flags.statsd } : {}),
      ...(flags.collectd !== undefined ? { collectd: flags.collectd } : {}),
      ...(flags.http !== undefined ? { http: flags.http } : {}),
      ...(flags["flush-interval"] !== undefined ? { flushInterval: flags["flush-interval"] } : {}),
      ...(flags.workers !== undefined ? { workers: flags.workers } : {}),
      ...(flags["udp-receive"] !== undefined ? { udpReceive: flags["udp-receive"] } : {}),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`${error.message}\n`);
      return 2;
    }
    throw error;
  }

  const log = createLogger({}, { level: config.agent.log_level, write: (line) => io.stderr(line + "\n") });
  const collector = new Collector(config, log);
  try {
    await collector.start();
  } catch (error) {
    log.error((error as Error).message);
    await collector.stop();
    return 1;
  }
  log.info("Tally started", {
    http: `${collector.http?.hostname}:${collector.http?.port}`,
    inputs: Object.keys(config.inputs).join(","),
    workers: config.agent.workers,
    data_dir: config.agent.data_dir,
  });
  await waitForAbort(io.shutdown);
  log.info("Shutting down");
  const stopped = await Promise.race([
    collector.stop().then(() => true),
    new Promise<false>((resolve) => setTimeout(resolve, SHUTDOWN_LIMIT_MS, false).unref?.()),
  ]);
  if (!stopped) {
    log.error("Shutdown did not finish in time", { limit_ms: SHUTDOWN_LIMIT_MS });
    return 1;
  }
  log.info("Stopped");
  return 0;
}

/** The running collector: a resource whose `stop()` undoes `start()` in reverse order. */
class Collector {
  readonly #config: Config;
  readonly #log: Logger;
  readonly #stats = new SelfStats();
  readonly #abort = new AbortController();
  #store: Store | undefined;
  #pipeline: Pipeline | undefined;
  #server: Server | undefined;
  #inputs: Input[] = [];
  #retention: ReturnType<typeof setInterval> | undefined;
  #ready = false;
  #stopping: Promise<void> | undefined;

  constructor(config: Config, log: Logger) {
    this.#config = config;
    this.#log = log;
  }

  /** The bound HTTP server, once started. */
  get http(): Server | undefined {
    return this.#server;
  }

  async start(): Promise<void> {
    const config = this.#config;
    const runtime = detectRuntime();
    const store = Store.open(config.agent.data_dir, {
      retentionMs: config.store.retention,
      maxBytes: config.store.max_size,
    });
    this.#store = store;
    const flushLog = this.#log.child({ component_type: "store" });
    // One types.db table per process: the workers parse every collectd input's packets with it.
    const collectdInputs = Object.values(config.inputs).filter((input) => input.type === "collectd");
    const typesDbPaths = [...new Set(collectdInputs.flatMap((input) => input.types_db))];
    const pipeline = new Pipeline({
      workers: config.agent.workers,
      ringBytes: config.agent.ring_size,
      intervalMs: config.agent.flush_interval,
      aggregation: {
        percentiles: config.aggregation.percentiles,
        exactLimit: config.aggregation.exact_limit,
        maxSeries: config.aggregation.max_series,
        idleMs: config.aggregation.series_idle,
      },
      ...(collectdInputs.length > 0
        ? { formats: { collectd: { typesDb: defaultTypesDb(typesDbPaths) } } }
        : {}),
      stats: this.#stats,
      log: this.#log.child({ component_type: "pipeline" }),
      onFlush(result) {
        try {
          store.append(result.metrics);
          if (result.events.length > 0) store.appendEvents(result.events, Date.now());
        } catch (error) {
          flushLog.every("store_append", 10_000, "Cannot write flushed points to the store", {
            error: (error as Error).message,
          });
        }
      },
    });
    this.#pipeline = pipeline;
    await pipeline.start();

    const app = createHttpApp({
      routes: [
        prometheusRoutes({ metrics: () => pipeline.table.snapshot(), self: () => this.#stats.snapshot() }),
        storeRoutes(store),
      ],
      ready: () => this.#ready,
      bodyLimitBytes: config.http.max_body,
      token: config.http.token,
      log: this.#log.child({ component_type: "http" }),
    });
    this.#server = await runtime.serve(app.fetch, config.http.listen);

    for (const [id, inputConfig] of Object.entries(config.inputs)) {
      const plugin = INPUTS[inputConfig.type] as InputPlugin;
      const component = { type: plugin.type, id };
      const input = plugin.create(inputConfig, id);
      const emit = pipeline.register(component);
      await input.start({
        emit,
        attachSocket: (fd, format, onPackets) => pipeline.attachSocket(emit, fd, format, onPackets),
        register: (labels) => pipeline.register({ ...component, labels }),
        signal: this.#abort.signal,
        runtime,
        log: this.#log.child({ component_type: component.type, component_id: id }),
        stats: componentStats(this.#stats, component),
        selfStats: this.#stats,
      });
      this.#inputs.push(input);
    }

    this.#retention = setInterval(() => {
      try {
        store.enforce();
      } catch (error) {
        flushLog.every("retention", 60_000, "Cannot enforce retention", { error: (error as Error).message });
      }
    }, RETENTION_EVERY_MS);
    this.#retention.unref?.();
    this.#ready = true;
  }

  /** Stops inputs, drains the pipeline with a final flush, closes HTTP and the store. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopInOrder();
    return this.#stopping;
  }

  async #stopInOrder(): Promise<void> {
    this.#ready = false;
    this.#abort.abort();
    if (this.#retention !== undefined) clearInterval(this.#retention);
    for (const input of this.#inputs.reverse()) {
      await input.stop().catch((error: unknown) =>
        this.#log.warn("Input did not stop cleanly", { error: String(error) })
      );
    }
    await this.#pipeline?.stop();
    await this.#server?.close();
    this.#store?.close();
  }
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
