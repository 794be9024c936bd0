/**
 * The http input's lifecycle: it serves the push routes on tally's shared HTTP endpoint and hands every
 * accepted body to the inbox. It binds nothing itself (the `[http]` listener belongs to the collector).
 *
 * @module
 */

import type { Input, InputContext } from "../input.ts";
import { InFlight } from "../_in_flight.ts";
import type { HttpConfig } from "./config.ts";
import { pushRoutes } from "./routes.ts";

/**
 * A running http input.
 *
 * @example
 * ```ts
 * const input = new HttpInput(v.parse(schema, {}), "http");
 * await input.start(ctx); // ctx.serve, ctx.accept and ctx.events are required
 * await input.stop(); // new requests get 503; resolves when the ones in flight are answered
 * ```
 */
export class HttpInput implements Input {
  readonly #config: HttpConfig;
  readonly #id: string;
  #started = false;
  readonly #work = new InFlight();

  /**
   * @param config The validated config.
   * @param id The component id (the config key).
   */
  constructor(config: HttpConfig, id: string) {
    this.#config = config;
    this.#id = id;
  }

  /**
   * Serves the push routes.
   *
   * @param ctx The collector's side; `serve`, `accept` and `events` must be there.
   * @returns Resolves at once: the collector's endpoint starts serving once every input started.
   * @throws {Error} When the context has no HTTP endpoint, inbox or event store, or when started twice.
   */
  start(ctx: InputContext): Promise<void> {
    if (this.#started) {
      return Promise.reject(new Error(`Cannot start http input "${this.#id}": it was already started`));
    }
    const { serve, accept, events } = ctx;
    if (serve === undefined || accept === undefined || events === undefined) {
      return Promise.reject(
        new Error(
          `Cannot start http input "${this.#id}": the collector gives it no HTTP endpoint, inbox or store`,
        ),
      );
    }
    this.#started = true;
    const routes = pushRoutes({
      accept: (bytes, format) => this.#work.track(accept(bytes, format, { waitMs: this.#config.ack_wait })),
      events,
      config: this.#config,
      stats: ctx.stats,
      stopping: () => this.#work.stopping,
    });
    serve({ app: routes, auth: "bearer" });
    return Promise.resolve();
  }

  /**
   * Answers new requests with 503 and resolves once the accepts in flight have their answer.
   *
   * @returns Resolves when no accept is in flight.
   */
  stop(): Promise<void> {
    return this.#work.stop();
  }
}
