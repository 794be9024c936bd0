/**
 * tally's plugin registries as the commands hand them to the config loader: `src/config/` builds its
 * schema from whatever registry it is given and never imports one, so the registries sit above it.
 *
 * @module
 */

import type { ConfigOf, InputConfigOf } from "../config/load.ts";
import { INPUTS } from "../inputs/registry.ts";

/** The registries `tally run`, `tally config check` and `tally config example` validate against. */
export const PLUGINS = { plugins: INPUTS } as const;

/** The resolved config of tally: durations in milliseconds, sizes in bytes, addresses parsed. */
export type Config = ConfigOf<typeof INPUTS>;

/** The validated config of any registered input. */
export type InputConfig = InputConfigOf<typeof INPUTS>;
