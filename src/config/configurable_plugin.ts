/**
 * The plugin shape config works with, and the registries of such plugins. Its own module so that the
 * schema, the defaults and the plugin contracts (`InputPlugin`, `OutputPlugin`) share it without importing
 * one another.
 *
 * @module
 */

import type * as v from "valibot";

/**
 * What the config needs of a plugin: its `type`, its schema and its example. Plugin contracts (the input
 * plugin's `InputPlugin`, the output plugin's `OutputPlugin`) extend it, so config knows no plugin and no
 * registry; callers hand them in.
 */
export interface ConfigurablePlugin<S extends v.GenericSchema = v.GenericSchema> {
  /** The config `type`, equal to the folder name. */
  readonly type: string;
  /** The valibot schema of the plugin's config table (without `type`). */
  readonly schema: S;
  /** A complete example config, shown by `tally config example` and checked against the README. */
  readonly example: v.InferInput<S>;
  /**
   * The config this plugin runs with, as input `<type>`, when the config file has no `[inputs]` table (or
   * there is no file); absent for a plugin that only runs when configured. `tally run`'s embedded
   * defaults are derived from this, so turning an input on by default is one line in its plugin.
   */
  readonly defaultConfig?: v.InferInput<S>;
  /** The addresses the plugin will bind, e.g. `udp:127.0.0.1:8125`, for conflict checks. */
  resources?(config: v.InferOutput<S>): readonly string[];
}

/** A registry of input plugins keyed by their `type`. */
export type InputRegistry = Readonly<Record<string, ConfigurablePlugin>>;

/** A registry of output plugins keyed by their `type` (same shape as {@link InputRegistry}). */
export type OutputRegistry = Readonly<Record<string, ConfigurablePlugin>>;

/** No output plugins: the output registry of callers that configure none. */
export type NoOutputs = Readonly<Record<never, ConfigurablePlugin>>;
