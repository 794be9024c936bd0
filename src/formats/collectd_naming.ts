/**
 * How a collectd value becomes a tally series: the naming convention of the Prometheus
 * `collectd_exporter`, shared by the binary-protocol format (`collectd.ts`) and the unixsock format.
 *
 * Name (collectd_exporter's `newName`, without the `_total` it appends to counters: tally's Prometheus
 * output adds that to every counter point itself):
 *
 * ```text
 * collectd_<plugin>_<type>[_<dsname>]      when plugin != type
 * collectd_<type>[_<dsname>]               when plugin == type (cpu/cpu, load/load, memory/memory)
 * ```
 *
 * `_<dsname>` is appended exactly when the data source is not named `value` (so single-value types
 * drop it and multi-value types keep it: `if_octets` → `_rx`, `_tx`; `load` → `_shortterm`, …).
 *
 * Labels (collectd_exporter's `newLabels`):
 *
 * - `instance` = the host;
 * - `<plugin>` (a label named after the plugin) = the plugin instance;
 * - the type instance goes to `<plugin>` when there is no plugin instance, else to `type`;
 * - an empty host or instance gives no label.
 *
 * So `myhost/cpu-0/cpu-user` is `collectd_cpu{cpu="0",type="user",instance="myhost"}`, and
 * `myhost/memory/memory-used` is `collectd_memory{memory="used",instance="myhost"}`.
 *
 * Names are kept as collectd sends them (sanitising names is each output's job, as for every input).
 * The plugin label's NAME is derived here, so it is made a valid label name: characters outside
 * `[A-Za-z0-9_]` become `_`, a leading digit gets a `_` prefix, an empty plugin gives `plugin`, and a
 * plugin named `instance` or `type` becomes `plugin_instance` / `plugin_type` so that it can never
 * collide with the other two labels (collectd_exporter would silently overwrite one of them).
 *
 * @module
 */

import type { Label, Labels } from "../model/sample.ts";

/** The five parts of a collectd value-list identifier (`host/plugin-plugin_instance/type-type_instance`). */
export interface CollectdIdentifier {
  /** The host name. */
  readonly host: string;
  /** The plugin name, e.g. `cpu`. */
  readonly plugin: string;
  /** The plugin instance, e.g. `0`; empty when none. */
  readonly pluginInstance: string;
  /** The type, e.g. `cpu` (a types.db entry). */
  readonly type: string;
  /** The type instance, e.g. `user`; empty when none. */
  readonly typeInstance: string;
}

const NOT_LABEL_CHAR_REGEXP = /[^A-Za-z0-9_]/g;
const LEADING_DIGIT_REGEXP = /^[0-9]/;

/**
 * Builds the metric name of one data source of a value list.
 *
 * @param identifier The value list's plugin and type.
 * @param dsName The data-source name from types.db (`value` for single-value types).
 * @returns The name, e.g. `collectd_interface_if_octets_rx`.
 * @example
 * ```ts
 * collectdMetricName({ plugin: "interface", type: "if_octets" }, "rx"); // "collectd_interface_if_octets_rx"
 * collectdMetricName({ plugin: "cpu", type: "cpu" }, "value"); // "collectd_cpu"
 * ```
 */
export function collectdMetricName(
  identifier: Pick<CollectdIdentifier, "plugin" | "type">,
  dsName: string,
): string {
  const base = identifier.plugin === identifier.type
    ? `collectd_${identifier.type}`
    : `collectd_${identifier.plugin}_${identifier.type}`;
  return dsName === "value" ? base : `${base}_${dsName}`;
}

/**
 * Builds the labels of a value list (shared by all of its data sources), sorted by name.
 *
 * @param identifier The value list's identifier.
 * @returns The labels: `instance`, the plugin-named label and `type`, each only when non-empty.
 * @example
 * ```ts
 * collectdLabels({ host: "h", plugin: "cpu", pluginInstance: "0", type: "cpu", typeInstance: "user" });
 * // [["cpu", "0"], ["instance", "h"], ["type", "user"]]
 * ```
 */
export function collectdLabels(identifier: CollectdIdentifier): Labels {
  const labels: Label[] = [];
  if (identifier.host !== "") labels.push(["instance", identifier.host]);
  const pluginLabel = collectdPluginLabel(identifier.plugin);
  if (identifier.pluginInstance !== "") {
    labels.push([pluginLabel, identifier.pluginInstance]);
    if (identifier.typeInstance !== "") labels.push(["type", identifier.typeInstance]);
  } else if (identifier.typeInstance !== "") {
    labels.push([pluginLabel, identifier.typeInstance]);
  }
  labels.sort(compareLabels);
  return labels;
}

/** The label that carries a plugin's instance: `cpu`; `python_foo` for `python.foo`; `plugin_type` for `type`. */
function collectdPluginLabel(plugin: string): string {
  if (plugin === "") return "plugin";
  let name = plugin.replace(NOT_LABEL_CHAR_REGEXP, "_");
  if (LEADING_DIGIT_REGEXP.test(name)) name = `_${name}`;
  if (name === "instance" || name === "type") name = `plugin_${name}`;
  return name;
}

function compareLabels(a: Label, b: Label): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}
