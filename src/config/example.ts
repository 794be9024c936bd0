/**
 * `tally config example`: a complete, valid, commented config generated from the schema (keys, prose
 * and defaults of the global tables) and the input and output registries (each plugin's `example`).
 *
 * @module
 */

import * as v from "valibot";
import { BARE_KEY_REGEXP } from "./config_error.ts";
import { describeDefaultInputs } from "./defaults.ts";
import { configSchema } from "./schema.ts";
import type { InputRegistry, OutputRegistry } from "./configurable_plugin.ts";

/** Options for {@link exampleConfig}. */
export interface ExampleOptions {
  /** The input registry whose plugins' examples are printed (tally's own is `INPUTS`). */
  readonly plugins: InputRegistry;
  /** The output registry whose plugins' examples are printed (tally's own is `OUTPUTS`); none by default. */
  readonly outputs?: OutputRegistry;
}

const GLOBAL_TABLES = ["agent", "aggregation", "http", "store"] as const;
const COMMENT_WIDTH = 100;

const HEADER = [
  "tally configuration (TOML). Every key is optional: the values shown are the defaults, except in",
  "the input and output examples. Check a file with `tally config check FILE`; `tally run` flags",
  "override it.",
  'Durations: "500ms", "10s", "5m", "1h", "7d". Sizes: "512KiB", "4MiB", "1GiB" or an integer of bytes.',
];
/** What the example says about the `[inputs]` tables, naming the default inputs of the registry. */
function inputsAbout(plugins: InputRegistry): string {
  return "Inputs, one table each, keyed by component id; `type` selects the plugin. Without an [inputs] " +
    `table ${describeDefaultInputs(plugins)}; with one, exactly the inputs listed run.`;
}
const OUTPUTS_ABOUT = "Outputs (forwarders), one table each, keyed by component id; `type` selects the " +
  "plugin. None runs by default. Each one listed receives every flush through its own outbox under " +
  "<data_dir>/outbox/<id>, so what it could not deliver yet survives a restart.";

/**
 * Generates the example config.
 *
 * @param plugin An input or output type to print only that plugin's table, or `undefined` for the whole
 *   file.
 * @param options The registries to draw inputs and outputs from.
 * @returns TOML in which every key is preceded by a `##` comment; it validates with `loadConfig`.
 * @throws {RangeError} When `plugin` is neither a registered input type nor a registered output type.
 * @example
 * ```ts
 * exampleConfig("statsd", { plugins: INPUTS }); // '## The statsd input …\n[inputs.statsd]\n## …\ntype = "statsd"\n…'
 * ```
 */
export function exampleConfig(plugin: string | undefined, options: ExampleOptions): string {
  const plugins = options.plugins;
  const outputs = options.outputs ?? {};
  if (plugin !== undefined) {
    if (Object.hasOwn(plugins, plugin)) {
      const found = plugins[plugin]!;
      return pluginTable("inputs", found.type, found.schema, found.example).join("\n") + "\n";
    }
    if (Object.hasOwn(outputs, plugin)) {
      const found = outputs[plugin]!;
      return pluginTable("outputs", found.type, found.schema, found.example).join("\n") + "\n";
    }
    throw new RangeError(unknownPluginMessage(plugin, options));
  }
  const root = configSchema(plugins, outputs);
  const lines = HEADER.flatMap(comment);
  for (const name of GLOBAL_TABLES) {
    const table = root.entries[name];
    lines.push("", ...comment(describe(table) ?? ""), `[${name}]`);
    for (const [key, entry] of Object.entries(entriesOf(table))) {
      lines.push(
        ...comment(describe(entry) ?? ""),
        `${tomlKey(key)} = ${tomlValue(v.getDefault(entry as v.GenericSchema))}`,
      );
    }
  }
  lines.push("", ...comment(inputsAbout(plugins)));
  for (const found of Object.values(plugins)) {
    lines.push("", ...pluginTable("inputs", found.type, found.schema, found.example));
  }
  if (Object.keys(outputs).length > 0) {
    lines.push("", ...comment(OUTPUTS_ABOUT));
    for (const found of Object.values(outputs)) {
      lines.push("", ...pluginTable("outputs", found.type, found.schema, found.example));
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * The message for a `PLUGIN` that no registry holds, listing the known ones.
 *
 * @param plugin The type asked for.
 * @param options The registries.
 * @returns E.g. `Unknown plugin "nope"; known inputs: "statsd"; known outputs: "remote_write"`.
 */
export function unknownPluginMessage(plugin: string, options: ExampleOptions): string {
  const quoted = (registry: object) => Object.keys(registry).map((t) => `"${t}"`).join(", ");
  const outputs = options.outputs ?? {};
  return `Unknown plugin "${plugin}"; known inputs: ${quoted(options.plugins)}` +
    (Object.keys(outputs).length > 0 ? `; known outputs: ${quoted(outputs)}` : "");
}

function pluginTable(
  table: "inputs" | "outputs",
  type: string,
  schema: v.GenericSchema,
  example: unknown,
): string[] {
  const role = table === "inputs" ? "input" : "output";
  const lines = [
    ...comment(describe(schema) ?? `The ${type} ${role}; see src/${table}/${type}/README.md.`),
    `[${table}.${tomlKey(type)}]`,
    ...comment(`The ${role} plugin.`),
    `type = ${tomlValue(type)}`,
  ];
  const values = typeof example === "object" && example !== null ? example as Record<string, unknown> : {};
  for (const [key, entry] of Object.entries(entriesOf(schema))) {
    const value = Object.hasOwn(values, key) ? values[key] : v.getDefault(entry as v.GenericSchema);
    if (value === undefined) continue;
    lines.push(...comment(describe(entry) ?? `The ${key} setting.`), `${tomlKey(key)} = ${tomlValue(value)}`);
  }
  return lines;
}

/** The description of a schema, looking through `optional` wrappers. */
function describe(schema: unknown): string | undefined {
  for (let current = schema, depth = 0; depth < 8 && isRecord(current); depth++) {
    const found = v.getDescription(current as unknown as v.GenericSchema);
    if (found !== undefined) return found;
    current = current["wrapped"];
  }
  return undefined;
}

/** The entries of an object schema, looking through `optional` wrappers. */
function entriesOf(schema: unknown): Record<string, unknown> {
  for (let current = schema, depth = 0; depth < 8 && isRecord(current); depth++) {
    if (isRecord(current["entries"])) return current["entries"];
    current = current["wrapped"];
  }
  return {};
}

function comment(text: string): string[] {
  const lines: string[] = [];
  let line = "##";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line.length + 1 + word.length > COMMENT_WIDTH && line !== "##") {
      lines.push(line);
      line = "##";
    }
    line += ` ${word}`;
  }
  if (line !== "##") lines.push(line);
  return lines;
}

function tomlKey(key: string): string {
  return BARE_KEY_REGEXP.test(key) ? key : JSON.stringify(key);
}

/** Renders a value as an inline TOML value (tables inline, so every key stays beside its comment). */
function tomlValue(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      if (Number.isNaN(value)) return "nan";
      return Number.isFinite(value) ? String(value) : value > 0 ? "inf" : "-inf";
    case "boolean":
    case "bigint":
      return String(value);
    default:
      if (Array.isArray(value)) return `[${value.map(tomlValue).join(", ")}]`;
      if (isRecord(value)) {
        const pairs = Object.entries(value).map(([k, x]) => `${tomlKey(k)} = ${tomlValue(x)}`);
        return pairs.length === 0 ? "{}" : `{ ${pairs.join(", ")} }`;
      }
      return JSON.stringify(String(value));
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
