/**
 * The machinery every forwarder shares, as one {@link Output}: a pure encoder (supplied by the output)
 * turns each flush into request bodies, which go into the output's outbox synchronously; one delivery loop
 * drains the outbox in order through the shared sender, retrying 429/5xx/network errors with backoff and
 * jitter (honouring `Retry-After`) and dropping 4xx rejections; self-metrics and `/readyz` see it all.
 *
 * Ordering and delivery: one request in flight per output, oldest batch first, so points of a series
 * arrive in order; a batch leaves the outbox only when the receiver answered 2xx (or rejected it with a
 * 4xx), so a crash re-sends at most the batch in flight: at-least-once, with the original timestamps
 * (they are inside the stored body).
 *
 * A slow or unreachable receiver never blocks `write`: it only appends to the outbox, which evicts its
 * oldest batches past its cap.
 *
 * @module
 */

import { join } from "node:path";
import type { Logger } from "../internal/log.ts";
import { DiskOutbox } from "../store/disk_outbox.ts";
import { MemoryOutbox } from "../store/memory_outbox.ts";
import { recordBytes } from "../store/outbox.ts";
import type { Outbox, OutboxEntry, OutboxInput, OutboxListener } from "../store/outbox.ts";
import type { ForwardConfig } from "./_forward_config.ts";
import { outputStats } from "./_output_stats.ts";
import type { OutputStats } from "./_output_stats.ts";
import { retryDelay } from "./_retry.ts";
import { Sender } from "./_send.ts";
import type { Output, OutputContext, OutputFlush } from "./output.ts";

/** How long `stop()` lets a healthy output deliver what is queued before it gives up (it stays queued). */
export const DRAIN_MS = 1000;

/** How often a repeated failure may be logged per output and kind. */
const LOG_EVERY_MS = 30_000;

/** What an output supplies to become a forwarder: the pure part and the protocol's headers. */
export interface Encoder {
  /**
   * The name of the bodies' encoding, stored in each outbox segment (e.g. `remote_write/1.0;snappy`).
   * Change it whenever the bytes of a body would mean something else, so old batches are not misread.
   */
  readonly format: string;
  /** The protocol's request headers (content type, encoding, version); the user's `headers` add to them. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The URLs of an output that posts to more than one endpoint (OTLP's `/v1/metrics` and `/v1/logs`).
   * Each body then starts with one byte, the index here of the URL it goes to (see {@link routedBody}),
   * which the forwarder strips before sending; the outbox keeps it, so a replayed batch goes where it was
   * meant to. Absent: every body goes to the config's `url` as it is.
   */
  readonly routes?: readonly string[];
  /**
   * Turns one flush into request bodies, each within the output's batch limits. Pure apart from caches.
   *
   * @param flush The flush.
   * @returns The bodies in order, each with how many events (samples, lines) it carries, and what was
   *   left out and why.
   */
  encode(flush: OutputFlush): EncodedFlush;
  /**
   * How many of a rejected batch's events the receiver refused, when it says so: a partial write (InfluxDB
   * stores the good lines of a batch and answers 400 naming how many it dropped). The rest count as sent.
   * Absent, or `undefined` for an answer it does not recognise: the whole batch was refused.
   *
   * @param status The HTTP status.
   * @param message The first line of the response body.
   * @returns The events refused, or `undefined`.
   */
  refused?(status: number, message: string): number | undefined;
}

/** What an encoder made of one flush. */
export interface EncodedFlush {
  /** The request bodies, in order. */
  readonly batches: OutboxInput[];
  /**
   * Events left out, by reason (e.g. `name_conflict`: two series that sanitise to one); counted as
   * `tally_component_dropped_events_total{reason}`.
   */
  readonly dropped?: Readonly<Record<string, number>>;
}

/**
 * Prefixes a body with the index of its route, for an encoder with {@link Encoder.routes}.
 *
 * @param route The index of the URL in `routes` (0-255).
 * @param body The request body.
 * @returns The body as it is stored in the outbox.
 */
export function routedBody(route: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 1);
  out[0] = route;
  out.set(body, 1);
  return out;
}

/** Where a stored body goes and what is sent: the stored bytes without their route prefix, if any. */
interface _Target {
  readonly url: string;
  readonly body: Uint8Array;
}

/** Options of {@link Forwarder}. */
export interface ForwarderOptions {
  /** The output's type (plugin name). */
  readonly type: string;
  /** The output's id (config key). */
  readonly id: string;
  /** The shared part of its validated config. */
  readonly config: ForwardConfig;
  /** The encoder. */
  readonly encoder: Encoder;
  /** A source of numbers in [0, 1) for the backoff jitter; `Math.random` by default. */
  readonly random?: () => number;
}

/** The running parts, set by `start()`. */
interface _Running {
  readonly outbox: Outbox;
  readonly sender: Sender;
  readonly stats: OutputStats;
  readonly log: Logger;
  readonly now: () => number;
}

/**
 * A forwarding output. A resource: `start()` opens the outbox and starts the delivery loop, `stop()` drains
 * briefly and closes.
 *
 * @example
 * ```ts
 * export const remoteWrite: OutputPlugin<typeof schema> = {
 *   type: "remote_write", schema, example,
 *   create: (config, id) => new Forwarder({ type: "remote_write", id, config, encoder: remoteWriteEncoder(config) }),
 * };
 * ```
 */
export class Forwarder implements Output {
  readonly #options: ForwarderOptions;
  readonly #abort = new AbortController();
  #running: _Running | undefined;
  #loop: Promise<void> = Promise.resolve();
  /** Resolves the delivery loop's wait for work. */
  #wake: (() => void) | undefined;
  /** Resolves `stop()`'s wait for the loop to be idle or backing off. */
  #settled: (() => void) | undefined;
  #backingOff = false;
  /**
   * The batch being sent, how to abort just that request, and whether the cap evicted it meanwhile (then
   * how the request ends decides how it is counted: delivered is sent, anything else evicted).
   */
  #sending: { readonly entry: OutboxEntry; readonly abort: AbortController; evicted: boolean } | undefined;
  /** When the output last made progress: delivered, dropped a rejected batch, or found the outbox empty. */
  #progressMs = 0;
  #stopping: Promise<void> | undefined;

  /**
   * Creates a forwarder; nothing is opened until `start()`.
   *
   * @param options The output's identity, config and encoder.
   */
  constructor(options: ForwarderOptions) {
    this.#options = options;
  }

  /**
   * Opens the outbox (replaying what a previous run left, in order) and starts delivering.
   *
   * @param ctx The output's state directory, logger and self-metrics.
   * @returns Resolves when `write` may be called; never waits for the receiver.
   * @throws {Error} When the outbox directory cannot be opened.
   */
  start(ctx: OutputContext): Promise<void> {
    const { type, id, config, encoder } = this.#options;
    const now = ctx.now ?? Date.now;
    const stats = outputStats(ctx.selfStats, { type, id });
    const log = ctx.log;
    const listener: OutboxListener = {
      evicted: (records, events, bytes, holds) => {
        const sending = this.#sending;
        if (sending !== undefined && !sending.evicted && holds(sending.entry)) {
          // The batch on the wire: its request is aborted (a hung receiver must not hold the rest back), and
          // it is counted when the request ends, as sent if the response came first, else as evicted.
          // Aborted after the append that evicted it, not inside it.
          sending.evicted = true;
          records--;
          events -= sending.entry.events;
          bytes -= recordBytes(sending.entry);
          queueMicrotask(() => sending.abort.abort());
        }
        if (records > 0) this.#countEvicted(stats, log, { records, events, bytes });
      },
      skipped(reason, bytes, segment) {
        stats.skipped(reason).add(bytes);
        log.warn("Skipped unreadable outbox data", { reason, bytes, segment });
      },
    };
    const outbox = config.outbox === "disk"
      ? DiskOutbox.open({
        dir: ctx.stateDir,
        format: encoder.format,
        maxBytes: config.outbox_max_size,
        listener,
        log,
      })
      : new MemoryOutbox({ maxBytes: config.outbox_max_size, listener });
    const sender = new Sender({
      url: config.url,
      headers: { "user-agent": ctx.userAgent, ...encoder.headers, ...config.headers },
      timeoutMs: config.timeout,
      now,
    });
    ctx.selfStats.onCollect(() => {
      if (this.#running === undefined) return;
      stats.queuedBytes.set(outbox.queuedBytes);
      stats.queuedBatches.set(outbox.queuedRecords);
      const oldest = outbox.oldestTimeMs;
      stats.oldestAge.set(oldest === undefined ? 0 : Math.max(0, (now() - oldest) / 1000));
    });
    this.#progressMs = now();
    this.#running = { outbox, sender, stats, log, now };
    this.#loop = this.#deliver(this.#running);
    if (outbox.queuedRecords > 0) {
      log.info("Replaying the outbox", { batches: outbox.queuedRecords, bytes: outbox.queuedBytes });
    }
    return Promise.resolve();
  }

  /**
   * Encodes a flush and appends its batches to the outbox; never waits for the receiver.
   *
   * @param flush The flush.
   */
  write(flush: OutputFlush): void {
    const running = this.#running;
    if (running === undefined || this.#stopping !== undefined) return;
    const { stats, log } = running;
    let inputs: OutboxInput[];
    let events = 0;
    try {
      const encoded = this.#options.encoder.encode(flush);
      inputs = encoded.batches;
      for (const [reason, count] of Object.entries(encoded.dropped ?? {})) {
        if (count > 0) stats.component.dropped(reason).add(count);
      }
    } catch (error) {
      stats.component.errors("encode").add();
      stats.component.dropped("encode").add(flush.metrics.length);
      log.every("encode", LOG_EVERY_MS, "Cannot encode a flush; dropped it", { error: errorText(error) });
      return;
    }
    for (const input of inputs) events += input.events;
    stats.component.received.add(events);
    if (inputs.length === 0) return;
    try {
      running.outbox.append(inputs, running.now());
    } catch (error) {
      stats.component.errors("outbox_write").add();
      stats.component.dropped("outbox_write").add(events);
      log.every("outbox_write", LOG_EVERY_MS, "Cannot write to the outbox; dropped a flush", {
        error: errorText(error),
      });
    }
    this.#wake?.();
  }

  /**
   * Why `/readyz` should fail for this output: it has held undelivered data for longer than `stall_after`
   * without a delivery.
   *
   * @returns The reason, or `undefined` while the output is fine.
   */
  problem(): string | undefined {
    const running = this.#running;
    const limit = this.#options.config.stall_after;
    if (running === undefined || limit <= 0 || running.outbox.queuedRecords === 0) return undefined;
    const waited = running.now() - this.#progressMs;
    if (waited <= limit) return undefined;
    const { type, id } = this.#options;
    return `output ${type} "${id}" has not delivered for ${Math.round(waited / 1000)} s ` +
      `(${running.outbox.queuedRecords} batches queued, stall_after ${Math.round(limit / 1000)} s)`;
  }

  /**
   * Lets a healthy output deliver what is queued for up to {@link DRAIN_MS}, then aborts the request in
   * flight (it stays in the outbox), stops the loop and closes the outbox. Idempotent.
   *
   * @returns Resolves when closed.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopNow();
    return this.#stopping;
  }

  async #stopNow(): Promise<void> {
    const running = this.#running;
    if (running === undefined) return;
    if (!this.#backingOff && running.outbox.queuedRecords > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          this.#settled = resolve;
        }),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, DRAIN_MS);
        }),
      ]);
      clearTimeout(timer);
    }
    this.#abort.abort();
    this.#wake?.();
    await this.#loop;
    await running.sender.close();
    await running.outbox.close();
  }

  /** The delivery loop: oldest batch first, one request at a time, until stopped. */
  async #deliver(running: _Running): Promise<void> {
    const { outbox } = running;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      let entry: OutboxEntry | undefined;
      try {
        entry = outbox.peek();
      } catch (error) {
        running.log.every("outbox_read", LOG_EVERY_MS, "Cannot read the outbox", { error: errorText(error) });
        await this.#sleep(this.#options.config.max_backoff);
        continue;
      }
      if (entry === undefined) {
        this.#progressMs = running.now();
        this.#settle();
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          if (signal.aborted) resolve();
        });
        this.#wake = undefined;
        continue;
      }
      await this.#deliverOne(running, entry);
    }
    this.#settle();
  }

  /** Sends one batch until it is delivered, rejected, or the output stops. */
  async #deliverOne(running: _Running, entry: OutboxEntry): Promise<void> {
    const { outbox, sender, stats, log } = running;
    const { config } = this.#options;
    const backoff = { minMs: config.min_backoff, maxMs: config.max_backoff };
    const target = this.#target(entry.body);
    if (target === undefined) {
      // Only a body stored under another routes list could name no route; the format guards against it.
      outbox.ack(entry);
      stats.failed("unroutable").add();
      stats.component.dropped("unroutable").add(entry.events);
      log.every("unroutable", LOG_EVERY_MS, "Dropped a batch that names no known endpoint", {
        route: entry.body[0] ?? -1,
      });
      return;
    }
    for (let attempt = 1; !this.#abort.signal.aborted; attempt++) {
      const sending = { entry, abort: new AbortController(), evicted: false };
      this.#sending = sending;
      const result = await sender.send(
        target.body,
        AbortSignal.any([this.#abort.signal, sending.abort.signal]),
        { url: target.url },
      );
      this.#sending = undefined;
      if (sending.evicted && result.kind !== "delivered" && result.kind !== "rejected") {
        // Evicted by the cap while on the wire, and not delivered: gone from the outbox, so counted now.
        this.#countEvicted(stats, log, { records: 1, events: entry.events, bytes: recordBytes(entry) });
        return;
      }
      switch (result.kind) {
        case "aborted":
          // Stopping: the batch stays in the outbox.
          return;
        case "delivered":
          outbox.ack(entry);
          this.#progressMs = running.now();
          stats.component.sent.add(entry.events);
          stats.sentBatches.add();
          stats.sentBytes.add(target.body.length);
          stats.sendSeconds.add(result.durationMs / 1000);
          stats.lastSendSeconds.set(result.durationMs / 1000);
          stats.lastDelivery.set(running.now() / 1000);
          return;
        case "rejected": {
          outbox.ack(entry);
          this.#progressMs = running.now();
          const said = this.#options.encoder.refused?.(result.status, result.message);
          const refused = said === undefined ? entry.events : Math.min(entry.events, Math.max(0, said));
          stats.failed("rejected").add();
          stats.component.errors("http_4xx").add();
          stats.component.sent.add(entry.events - refused);
          stats.component.dropped("rejected").add(refused);
          log.every("rejected", LOG_EVERY_MS, "Receiver rejected a batch; dropped it", {
            // The path only: a URL may carry credentials (https://user:password@host/…).
            path: new URL(target.url).pathname,
            status: result.status,
            samples: refused,
            stored: entry.events - refused,
            response: result.message,
          });
          return;
        }
        case "retry": {
          stats.retries(result.reason).add();
          stats.component.errors(result.reason).add();
          const delayMs = retryDelay(attempt, result.retryAfterMs, backoff, this.#options.random);
          log.every(`retry_${result.reason}`, LOG_EVERY_MS, "Cannot deliver a batch; will retry", {
            reason: result.reason,
            status: result.status,
            response: result.message,
            attempt,
            retry_in_ms: delayMs,
          });
          this.#backingOff = true;
          this.#settle();
          await this.#sleep(delayMs);
          this.#backingOff = false;
          // Evicted by the cap while waiting (already counted): the next oldest batch takes its turn.
          if (!this.#abort.signal.aborted && outbox.peek() !== entry) return;
          break;
        }
      }
    }
  }

  /** Counts evicted batches in the self-metrics and, rate-limited, in the log. */
  #countEvicted(
    stats: OutputStats,
    log: Logger,
    evicted: { readonly records: number; readonly events: number; readonly bytes: number },
  ): void {
    stats.evictedBatches.add(evicted.records);
    stats.evictedBytes.add(evicted.bytes);
    stats.component.dropped("evicted").add(evicted.events);
    log.every("evicted", LOG_EVERY_MS, "Outbox full; evicted the oldest batches", {
      batches: evicted.records,
      samples: evicted.events,
      bytes: evicted.bytes,
      max_size: this.#options.config.outbox_max_size,
    });
  }

  /** Where a stored body goes: the config's `url`, or the route its first byte names. */
  #target(stored: Uint8Array): _Target | undefined {
    const { encoder, config } = this.#options;
    const routes = encoder.routes;
    if (routes === undefined) return { url: config.url, body: stored };
    const url = routes[stored[0] ?? routes.length];
    return url === undefined ? undefined : { url, body: stored.subarray(1) };
  }

  /** Tells a waiting `stop()` that the loop is idle or backing off. */
  #settle(): void {
    const settled = this.#settled;
    this.#settled = undefined;
    settled?.();
  }

  /** Waits `ms`, or less when the output stops. */
  #sleep(ms: number): Promise<void> {
    const signal = this.#abort.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
    });
  }
}

/**
 * The state directory of an output under the data directory: `<data_dir>/outbox/<id>`.
 *
 * @param dataDir The data directory.
 * @param id The output's id.
 * @returns The directory.
 */
export function outboxDir(dataDir: string, id: string): string {
  return join(dataDir, "outbox", id);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
