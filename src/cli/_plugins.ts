/**
 * tally's plugin registries as the commands hand them to the config loader: `src/config/` builds its
 * schema from whatever registries it is given and never imports one, so the registries sit above it.
 *
 * @module
 */

import type { ConfigOf, InputConfigOf, OutputConfigOf } from "../config/load.ts";
import { INPUTS } from "../inputs/registry.ts";
import { OUTPUTS } from "../outputs/registry.ts";

/** The registries `tally run`, `tally config check` and `tally config example` validate against. */
export const PLUGINS = { plugins: INPUTS, outputs: OUTPUTS } as const;

/** The resolved config of tally: durations in milliseconds, sizes in bytes, addresses parsed. */
export type Config = ConfigOf<typeof INPUTS, typeof OUTPUTS>;

/** The validated config of any registered input. */
export type InputConfig = InputConfigOf<typeof INPUTS>;

/** The validated config of any registered output. */
export type OutputConfig = OutputConfigOf<typeof OUTPUTS>;
