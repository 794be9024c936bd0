/**
 * The input plugins: one line per plugin. The config schema, `tally config example` and the contract
 * tests derive from this table, so adding an input is a folder plus a line here.
 *
 * @module
 */

import { collectd } from "./collectd/mod.ts";
import { collectdUnixsock } from "./collectd_unixsock/mod.ts";
import { coscaleApi } from "./coscale_api/mod.ts";
import { http } from "./http/mod.ts";
import { scripts } from "./scripts/mod.ts";
import { statsd } from "./statsd/mod.ts";

/** Every input plugin, keyed by its config `type`. */
export const INPUTS = {
  statsd,
  collectd,
  collectd_unixsock: collectdUnixsock,
  scripts,
  http,
  coscale_api: coscaleApi,
} as const;
