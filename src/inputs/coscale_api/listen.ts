/**
 * The coscale_api input's lifecycle: it serves the CoScale-compatible routes on tally's shared HTTP endpoint,
 * with their own authentication and body limit, and hands metric data to the inbox. It binds nothing itself
 * (the `[http]` listener belongs to the collector).
 *
 * @module
 */

import type { Input, InputContext } from "../input.ts";
import { InFlight } from "../_in_flight.ts";
import type { CoscaleApiConfig } from "./config.ts";
import { COSCALE_PREFIX, coscaleRoutes } from "./routes.ts";

/**
 * The largest request body, as sent, against the largest metric data: a form percent-encodes JSON's quotes,
 * brackets, colons and commas into three bytes each.
 */
const FORM_OVERHEAD = 3;

/**
 * A running coscale_api input.
 *
 * @example
 * ```ts
 * const input = new CoscaleApiInput(v.parse(schema, {}), "coscale_api");
 * await input.start(ctx); // ctx.serve, ctx.accept and ctx.coscale are required
 * await input.stop(); // new data gets 503; resolves when the data in flight is answered
 * ```
 */
export class CoscaleApiInput implements Input {
  readonly #config: CoscaleApiConfig;
  readonly #id: string;
  #started = false;
  readonly #work = new InFlight();

  /**
   * @param config The validated config.
   * @param id The component id (the config key).
   */
  constructor(config: CoscaleApiConfig, id: string) {
    this.#config = config;
    this.#id = id;
  }

  /**
   * Serves the CoScale routes.
   *
   * @param ctx The collector's side; `serve`, `accept` and `coscale` must be there.
   * @returns Resolves at once: the collector's endpoint starts serving once every input started.
   * @throws {Error} When the context has no HTTP endpoint, inbox or store, or when started twice.
   */
  start(ctx: InputContext): Promise<void> {
    if (this.#started) {
      return Promise.reject(
        new Error(`Cannot start coscale_api input "${this.#id}": it was already started`),
      );
    }
    const { serve, accept, coscale } = ctx;
    if (serve === undefined || accept === undefined || coscale === undefined) {
      return Promise.reject(
        new Error(
          `Cannot start coscale_api input "${this.#id}": the collector gives it no HTTP endpoint, inbox or store`,
        ),
      );
    }
    this.#started = true;
    const maxData = this.#config.max_data;
    const routes = coscaleRoutes({
      catalog: coscale,
      accept: (bytes, format) => this.#work.track(accept(bytes, format, { waitMs: this.#config.ack_wait })),
      token: ctx.httpToken ?? "",
      maxDataBytes: maxData,
      stats: ctx.stats,
      id: this.#id,
      ...(ctx.selfStats === undefined ? {} : { selfStats: ctx.selfStats }),
      stopping: () => this.#work.stopping,
    });
    serve({
      app: routes,
      auth: "own",
      bodyLimit: { prefix: COSCALE_PREFIX, maxBytes: maxData * FORM_OVERHEAD + 64 * 1024 },
    });
    return Promise.resolve();
  }

  /**
   * Answers new data with 503 and resolves once the accepts in flight have their answer.
   *
   * @returns Resolves when no accept is in flight.
   */
  stop(): Promise<void> {
    return this.#work.stop();
  }
}
