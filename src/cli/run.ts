/**
 * `tally run`: load config → open the store → start the outputs (their outboxes replay) → start the
 * pipeline (replaying the inbox before its first flush) → start the inputs (which may add routes) → serve
 * HTTP → wait for a shutdown signal → stop in reverse order (inbox closed, inputs, rings drained with a
 * final flush, outputs stopped, HTTP closed, store closed).
 *
 * Each flush goes to every output first and to the store last: an output's `write` appends the flush to
 * its outbox synchronously (written, so it survives a process crash). Only when every output took it does
 * the store's transaction that appends the window's points also release the window's inbox rows.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { CliIo } from "./cli_io.ts";
import { ConfigError } from "../config/load.ts";
import { loadConfig } from "../config/load.ts";
import { type Config, PLUGINS } from "./_plugins.ts";
import { INPUTS } from "../inputs/registry.ts";
import { OUTPUTS } from "../outputs/registry.ts";
import { outboxDir } from "../outputs/_forwarder.ts";
import type { Output, OutputPlugin } from "../outputs/output.ts";
import { VERSION } from "../internal/version.ts";
import type { Input, InputPlugin } from "../inputs/input.ts";
import { createLogger } from "../internal/log.ts";
import type { Logger } from "../internal/log.ts";
import { componentStats, SelfStats } from "../internal/self_stats.ts";
import { createHttpApp } from "../internal/http_app.ts";
import type { RouteSet } from "../internal/http_app.ts";
import { prometheusRoutes } from "../outputs/prometheus_scrape/routes.ts";
import { Pipeline } from "../pipeline/pipeline.ts";
import type { EmitFrame, FlushResult } from "../pipeline/pipeline.ts";
import { defaultTypesDb } from "../formats/_load_types_db.ts";
import { collectGarbage } from "../runtime/collect_garbage.ts";
import { detectRuntime } from "../runtime/detect.ts";
import type { Server } from "../runtime/types.ts";
import { storedToEvent } from "../store/event_table.ts";
import type { StoredEvent } from "../store/event_table.ts";
import { Inbox } from "../store/inbox.ts";
import { Store } from "../store/store.ts";
import { storeRoutes } from "../store/routes.ts";

const USAGE = `Usage: tally run [options]

Runs the collector. Without --config, embedded defaults apply: StatsD on udp:127.0.0.1:8125,
HTTP on 127.0.0.1:8127 (push: /api/v1/push, /write, /api/v2/write, /api/v1/import/prometheus,
/api/v1/statsd, /api/v1/events, CoScale's /api/v1/app/{appId}/...; read: /metrics, /api/v1/query),
data under ./data. Flags override the file.

Options:
  -c, --config FILE          TOML config file (see "tally config example")
      --data-dir DIR         where the store lives
      --statsd ADDR          StatsD listener, repeatable: udp:HOST:PORT, tcp:HOST:PORT, unix:PATH
      --collectd ADDR        collectd network listener, repeatable: udp:HOST:PORT
      --http HOST:PORT       HTTP endpoint address
      --insecure             allow a non-loopback --http address without http.token
      --flush-interval DUR   aggregation window, e.g. 10s, 1s
      --workers N            parser/aggregator threads; 0 parses on the main thread
      --udp-receive MODE     how statsd and collectd read UDP: auto, recvmmsg or dgram
  -h, --help                 show this help
`;

/** How long shutdown may take before it is abandoned (the bound). */
const SHUTDOWN_LIMIT_MS = 5000;
/** The most events stored outside the pipeline that one flush hands to the outputs (the rest wait). */
const MAX_FORWARDED_EVENTS = 10_000;
/** How often retention and the size cap are enforced. */
const RETENTION_EVERY_MS = 60_000;
/**
 * From how many metrics a flush is followed by a full garbage collection of the main thread (see
 * `collect_garbage.ts`): at 100 000 series the heap otherwise entered each flush with the garbage of earlier
 * ones; below this the garbage is small and the engine's own collections suffice.
 */
const COLLECT_AFTER_METRICS = 10_000;

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
        insecure: { type: "boolean" },
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
      ...(flags.insecure === true ? { insecure: true } : {}),
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
    outputs: Object.keys(config.outputs).join(","),
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

/**
 * Something that must persist each flush before the inbox may let go of the window's frames: a
 * forwarder's outbox. None exists yet; the outputs add theirs to `Collector.#flushConsumers`.
 */
interface FlushConsumer {
  /** The consumer, for log lines. */
  readonly name: string;
  /**
   * Persists one flush durably (e.g. commits it to an outbox); resolves once it is on disk.
   *
   * @throws {Error} When it cannot: the window's inbox rows then stay until the next start.
   */
  persist(result: FlushResult): void | Promise<void>;
}

/** The running collector: a resource whose `stop()` undoes `start()` in reverse order. */
class Collector {
  readonly #config: Config;
  readonly #log: Logger;
  readonly #stats = new SelfStats();
  readonly #abort = new AbortController();
  /**
   * Every flush goes to each of these first, then to the store. Only once all of them persisted it does
   * the store's transaction that appends the window's points also delete the window's inbox rows; when
   * one fails, the rows stay and the next start replays them (the store may then see that window twice,
   * the consumers at least once). Forwarders' outboxes belong here.
   */
  readonly #flushConsumers: FlushConsumer[] = [];
  #store: Store | undefined;
  #pipeline: Pipeline | undefined;
  #inbox: Inbox | undefined;
  #server: Server | undefined;
  #inputs: Input[] = [];
  #outputs: Output[] = [];
  /** The route sets the endpoint will serve, with who added each; closed once it serves. */
  #routes: Array<{ readonly set: RouteSet; readonly owner: string }> = [];
  #serving = false;
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
    // Outputs first: their outboxes replay what a previous run left before the first flush adds to them.
    for (const [id, outputConfig] of Object.entries(config.outputs)) {
      const plugin = OUTPUTS[outputConfig.type] as OutputPlugin;
      const component = { type: plugin.type, id };
      const output = plugin.create(outputConfig, id);
      await output.start({
        stateDir: outboxDir(config.agent.data_dir, id),
        log: this.#log.child({ component_type: component.type, component_id: id }),
        stats: componentStats(this.#stats, component),
        selfStats: this.#stats,
        userAgent: `tally/${VERSION}`,
      });
      this.#outputs.push(output);
      this.#flushConsumers.push({ name: `output "${id}"`, persist: (result) => output.write(result) });
    }
    // One types.db table per process: the workers parse every collectd input's packets with it.
    const collectdInputs = Object.values(config.inputs).filter((input) => input.type === "collectd");
    const typesDbPaths = [...new Set(collectdInputs.flatMap((input) => input.types_db))];
    const consumers = this.#flushConsumers;
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
      // A format's path compiled before the first datagram, not during the first burst, where an input asks.
      ...(Object.values(config.inputs).some((input) => input.type === "statsd" && input.warm_up)
        ? { warmUp: true }
        : {}),
      ...(collectdInputs.some((input) => input.warm_up) ? { warmUpCollectd: true } : {}),
      stats: this.#stats,
      log: this.#log.child({ component_type: "pipeline" }),
      async onFlush(result) {
        let release = true;
        // Events stored outside the pipeline (HTTP push, the CoScale routes) reach the outputs with the
        // next flush; they are unmarked in the commit below, once every consumer took them.
        let direct: StoredEvent[] = [];
        try {
          direct = store.eventsToForward(MAX_FORWARDED_EVENTS);
        } catch (error) {
          flushLog.every("events_to_forward", 10_000, "Cannot read the events to forward", {
            error: (error as Error).message,
          });
        }
        const handed = direct.length === 0
          ? result
          : { ...result, events: [...result.events, ...direct.map(storedToEvent)] };
        for (const consumer of consumers) {
          try {
            await consumer.persist(handed);
          } catch (error) {
            release = false;
            flushLog.every(`persist_${consumer.name}`, 10_000, "A flush consumer cannot persist a flush", {
              consumer: consumer.name,
              error: (error as Error).message,
            });
          }
        }
        try {
          store.commitFlush(result, { receivedMs: Date.now(), release, forwarded: direct.map((e) => e.id) });
        } catch (error) {
          flushLog.every("store_append", 10_000, "Cannot write flushed points to the store", {
            error: (error as Error).message,
          });
        }
        // Once the pipeline dropped the flush (a timer runs after it), so its metrics are garbage too.
        if (result.metrics.length >= COLLECT_AFTER_METRICS) setTimeout(collectGarbage, 0);
      },
    });
    this.#pipeline = pipeline;
    const inbox = new Inbox(store, pipeline, {
      log: this.#log.child({ component_type: "inbox" }),
      stats: this.#stats,
    });
    this.#inbox = inbox;

    const emits = new Map<string, EmitFrame>();
    const created: Array<{ readonly id: string; readonly plugin: InputPlugin; readonly input: Input }> = [];
    for (const [id, inputConfig] of Object.entries(config.inputs)) {
      const plugin = INPUTS[inputConfig.type] as InputPlugin;
      emits.set(id, pipeline.register({ type: plugin.type, id }));
      created.push({ id, plugin, input: plugin.create(inputConfig, id) });
    }
    await pipeline.start(async () => {
      await inbox.replay((id) => {
        let emit = emits.get(id);
        if (emit === undefined) {
          // Accepted by an input the config no longer has: still replayed, counted under its old id.
          emit = pipeline.register({ type: "inbox", id });
          emits.set(id, emit);
        }
        return emit;
      });
    });

    for (const { id, plugin, input } of created) {
      const component = { type: plugin.type, id };
      const emit = emits.get(id)!;
      await input.start({
        emit,
        attachSocket: (fd, format, onPackets, opening) =>
          pipeline.attachSocket(emit, fd, format, onPackets, opening),
        register: (labels) => pipeline.register({ ...component, labels }),
        serve: (set) => this.#addRoutes(set, `input "${id}"`),
        accept: inbox.acceptor(id, emit),
        events: store,
        httpToken: config.http.token,
        coscale: store.coscale,
        signal: this.#abort.signal,
        runtime,
        log: this.#log.child({ component_type: component.type, component_id: id }),
        stats: componentStats(this.#stats, component),
        selfStats: this.#stats,
      });
      this.#inputs.push(input);
    }

    this.#addRoutes({
      app: prometheusRoutes({ metrics: () => pipeline.table.snapshot(), self: () => this.#stats.snapshot() }),
      auth: "bearer",
    }, "the Prometheus endpoint");
    this.#addRoutes({ app: storeRoutes(store), auth: "bearer" }, "the query API");
    const app = createHttpApp({
      routes: this.#routes.map((r) => r.set),
      ready: () => this.#ready,
      problems: () => this.#outputs.map((output) => output.problem()).filter((p) => p !== undefined),
      bodyLimitBytes: config.http.max_body,
      token: config.http.token,
      log: this.#log.child({ component_type: "http" }),
    });
    this.#serving = true;
    this.#server = await runtime.serve(app.fetch, config.http.listen);

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

  /** Stops inputs, drains the pipeline with a final flush, stops outputs, closes HTTP and the store. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopInOrder();
    return this.#stopping;
  }

  /** Adds a route set to the endpoint, refusing one that would shadow a route already added. */
  #addRoutes(set: RouteSet, owner: string): void {
    if (this.#serving) {
      throw new Error(`Cannot add routes for ${owner}: the HTTP endpoint is already serving`);
    }
    const taken = new Map<string, string>();
    for (const { set: other, owner: otherOwner } of this.#routes) {
      for (const route of other.app.routes) {
        if (route.method !== "ALL") taken.set(`${route.method} ${route.path}`, otherOwner);
      }
    }
    for (const route of set.app.routes) {
      const key = `${route.method} ${route.path}`;
      const holder = taken.get(key);
      if (holder !== undefined) {
        throw new Error(
          `Cannot serve ${key} for ${owner}: ${holder} serves it already (configure one http input)`,
        );
      }
    }
    this.#routes.push({ set, owner });
  }

  async #stopInOrder(): Promise<void> {
    this.#ready = false;
    this.#abort.abort();
    if (this.#retention !== undefined) clearInterval(this.#retention);
    // Requests still waiting for ring room get 503; nothing of theirs was kept.
    this.#inbox?.close();
    for (const input of this.#inputs.reverse()) {
      await input.stop().catch((error: unknown) =>
        this.#log.warn("Input did not stop cleanly", { error: String(error) })
      );
    }
    await this.#pipeline?.stop();
    for (const output of this.#outputs.reverse()) {
      await output.stop().catch((error: unknown) =>
        this.#log.warn("Output did not stop cleanly", { error: String(error) })
      );
    }
    await this.#server?.close();
    this.#store?.close();
  }
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}
