/**
 * `tally config example`: a complete, valid, commented config generated from the schema (keys, prose
 * and defaults of the global tables) and the input registry (each plugin's `example`).
 *
 * @module
 */

import * as v from "valibot";
import { BARE_KEY_REGEXP } from "./config_error.ts";
import { describeDefaultInputs } from "./defaults.ts";
import { configSchema } from "./schema.ts";
import type { InputRegistry } from "./schema.ts";

/** Options for {@link exampleConfig}. */
export interface ExampleOptions {
  /** The input registry whose plugins' examples are printed (tally's own is `INPUTS`). */
  readonly plugins: InputRegistry;
}

const GLOBAL_TABLES = ["agent", "aggregation", "http", "store"] as const;
const COMMENT_WIDTH = 100;

const HEADER = [
  "tally configuration (TOML). Every key is optional: the values shown are the defaults, except in",
  "the input examples. Check a file with `tally config check FILE`; `tally run` flags override it.",
  'Durations: "500ms", "10s", "5m", "1h", "7d". Sizes: "512KiB", "4MiB", "1GiB" or an integer of bytes.',
];
/** What the example says about the `[inputs]` tables, naming the default inputs of the registry. */
function inputsAbout(plugins: InputRegistry): string {
  return "Inputs, one table each, keyed by component id; `type` selects the plugin. Without an [inputs] " +
    `table ${describeDefaultInputs(plugins)}; with one, exactly the inputs listed run.`;
}

/**
 * Generates the example config.
 *
 * @param plugin An input type to print only that plugin's table, or `undefined` for the whole file.
 * @param options The registry to draw inputs from.
 * @returns TOML in which every key is preceded by a `##` comment; it validates with `loadConfig`.
 * @throws {RangeError} When `plugin` is not a registered input type.
 * @example
 * ```ts
 * exampleConfig("statsd", { plugins: INPUTS }); // '## The statsd input …\n[inputs.statsd]\n## …\ntype = "statsd"\n…'
 * ```
 */
export function exampleConfig(plugin: string | undefined, options: ExampleOptions): string {
  const plugins = options.plugins;
  if (plugin !== undefined) {
    const found = plugins[plugin];
    if (found === undefined || !Object.hasOwn(plugins, plugin)) {
      const known = Object.keys(plugins).map((t) => `"${t}"`).join(", ");
      throw new RangeError(`Unknown input plugin "${plugin}"; known plugins: ${known}`);
    }
    return inputTable(found.type, found.schema, found.example).join("\n") + "\n";
  }
  const root = configSchema(plugins);
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
    lines.push("", ...inputTable(found.type, found.schema, found.example));
  }
  return lines.join("\n") + "\n";
}

function inputTable(type: string, schema: v.GenericSchema, example: unknown): string[] {
  const lines = [
    ...comment(describe(schema) ?? `The ${type} input; see src/inputs/${type}/README.md.`),
    `[inputs.${tomlKey(type)}]`,
    ...comment("The input plugin."),
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
