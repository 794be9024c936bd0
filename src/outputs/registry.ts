/**
 * The output plugins: one line per plugin. The config's `outputs` table, `tally config example` and the
 * contract tests derive from this table, so adding an output is a folder plus a line here.
 *
 * `prometheus_scrape` (`GET /metrics`) is not here: it is a pull endpoint served on the `[http]` listener
 * whatever the config, not a forwarder with an outbox that `[outputs.<id>]` tables configure.
 *
 * @module
 */

import { influx } from "./influx/mod.ts";
import { otlp } from "./otlp/mod.ts";
import { remoteWrite } from "./remote_write/mod.ts";

/** Every output plugin, keyed by its config `type`. */
export const OUTPUTS = { remote_write: remoteWrite, otlp, influx } as const;
