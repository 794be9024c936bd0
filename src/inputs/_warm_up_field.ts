/**
 * The `warm_up` setting of the inputs whose format a worker can warm up before it reads (statsd, collectd),
 * apart from the pipeline so that the config schemas can name it without loading it.
 *
 * @module
 */

import * as v from "valibot";

/**
 * The `warm_up` key: whether each worker compiles this input's parsing path over made-up data before the
 * sockets are bound (`src/pipeline/_warm_up.ts`), so that a burst at full rate in the collector's first
 * second loses nothing. It costs 0.1-0.2 s more before tally listens and 5-10 MiB more RSS. Worth it where
 * traffic arrives only once tally is ready (a load balancer's readiness check, a sender started after
 * tally); a collector restarted in place under load loses more with it, its port closed that much longer.
 * Any input of the format asking for it turns it on for the process. Off by default.
 */
export const WARM_UP_FIELD = v.optional(
  v.pipe(
    v.boolean("true or false"),
    v.description(
      "Compile this input's parsing path in each worker before the sockets are bound: 0.1-0.2 s more " +
        "start-up and 5-10 MiB more RSS, so that a burst at full rate right after start loses nothing. " +
        "For traffic that arrives once tally is ready; a restart in place under load keeps the port closed " +
        "that much longer.",
    ),
  ),
  false,
);
