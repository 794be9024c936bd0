/**
 * The `collectd.conf` both benchmarks start collectd with: one fresh daemon per trial in its own
 * directory, `Interval 1`, a receiving plugin, and the csv plugin (`StoreRates false`, so DERIVE values
 * are written raw) behind a `PostCache` chain that lets only the values the readback needs reach it.
 *
 * @module
 * @see https://collectd.org/documentation/manpages/collectd.conf.5.shtml
 */
import { join } from "node:path";

/** What differs between the benchmarks' collectd configurations. */
export interface CollectdConfigSpec {
  /** The benchmark writing it, e.g. `tests/bench/statsd`. */
  readonly writtenBy: string;
  /** `Hostname`, hence the csv plugin's host directory. */
  readonly hostname: string;
  /** The trial's directory (`BaseDir`, the PID file). */
  readonly dir: string;
  /** The csv plugin's `DataDir`. */
  readonly csvDir: string;
  /** Global options after `Interval 1`, e.g. `CollectInternalStats true`. */
  readonly globals: readonly string[];
  /** The receiving plugin, e.g. `statsd`. */
  readonly plugin: string;
  /** The receiving plugin's option lines (inside its `<Plugin>` block, indented). */
  readonly pluginOptions: readonly string[];
  /** The comment lines above the chain (without `# `). */
  readonly chainComment: readonly string[];
  /** The chain rule's name. */
  readonly rule: string;
  /** The rule's `match_regex` lines, e.g. `Plugin "^statsd$"`. */
  readonly match: readonly string[];
}

/**
 * Writes the configuration text.
 *
 * @param spec The parts that differ.
 * @returns The `collectd.conf` text.
 */
export function collectdConfig(spec: CollectdConfigSpec): string {
  const indent = (lines: readonly string[], by: string): string =>
    lines.map((line) => `${by}${line}\n`).join("");
  return `# Written by ${spec.writtenBy}; one fresh daemon per trial.
Hostname "${spec.hostname}"
FQDNLookup false
BaseDir "${spec.dir}"
PIDFile "${join(spec.dir, "collectd.pid")}"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
Interval 1
${indent(spec.globals, "")}
LoadPlugin ${spec.plugin}
LoadPlugin csv
LoadPlugin match_regex

<Plugin ${spec.plugin}>
${indent(spec.pluginOptions, "  ")}</Plugin>

<Plugin csv>
  DataDir "${spec.csvDir}"
  StoreRates false
</Plugin>

${indent(spec.chainComment, "# ")}<Chain "PostCache">
  <Rule "${spec.rule}">
    <Match "regex">
${indent(spec.match, "      ")}    </Match>
    <Target "write">
      Plugin "csv"
    </Target>
    Target "stop"
  </Rule>
  Target "stop"
</Chain>
`;
}
