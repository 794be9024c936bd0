/**
 * From a parsed config document to the resolved config: embedded defaults, command-line overrides,
 * schema validation and cross-checks. `loadConfig` wraps this with file reading and TOML parsing.
 *
 * @module
 */

import { resolve as resolvePath } from "node:path";
import * as v from "valibot";
import { ConfigError } from "./config_error.ts";
import type { PathSegment } from "./config_error.ts";
import { defaultInputs } from "./defaults.ts";
import { configSchema } from "./schema.ts";
import type { InputRegistry, NoOutputs, OutputRegistry } from "./configurable_plugin.ts";
import type { ConfigOf } from "./schema.ts";
import { crossCheck } from "./_checks.ts";
import { expectation, toConfigIssues } from "./_issues.ts";
import type { FlagPath } from "./_issues.ts";

/** Values from `tally run` flags; they win over the config file and are validated the same way. */
export interface ConfigOverrides {
  /** The directory relative paths (the config file, `data_dir`) resolve against; the process's by default. */
  readonly cwd?: string;
  /** `--data-dir DIR`: sets `agent.data_dir`. */
  readonly dataDir?: string;
  /** `--statsd ADDR` (repeatable): replaces every statsd input with one input `statsd` on these addresses. */
  readonly statsd?: readonly string[];
  /** `--collectd ADDR` (repeatable): replaces every collectd input with one input `collectd` on these addresses. */
  readonly collectd?: readonly string[];
  /** `--http HOST:PORT`: sets `http.listen`. */
  readonly http?: string;
  /** `--flush-interval DURATION`: sets `agent.flush_interval`. */
  readonly flushInterval?: string;
  /** `--workers N` (the flag's text or a number): sets `agent.workers`. */
  readonly workers?: string | number;
  /** `--insecure`: sets `http.insecure`. */
  readonly insecure?: boolean;
  /** `--udp-receive MODE`: sets `udp_receive` on every statsd and collectd input. */
  readonly udpReceive?: string;
}

/** Options for {@link resolveConfig}. */
export interface ResolveOptions<P extends InputRegistry, O extends OutputRegistry = NoOutputs> {
  /** The input registry the `inputs` table is validated against. */
  readonly plugins: P;
  /** The output registry the `outputs` table is validated against; none by default (no output valid). */
  readonly outputs?: O;
  /** The config file the document came from, named in errors; `undefined` without a file. */
  readonly file?: string | undefined;
  /** Flag values that win over the document. */
  readonly overrides?: ConfigOverrides;
  /**
   * The inputs used when the document has no `inputs` table; by default those of the registry's plugins
   * that have a `defaultConfig` (see {@link defaultInputs}).
   */
  readonly defaultInputs?: Readonly<Record<string, unknown>>;
}

type Table = Record<string, unknown>;

/**
 * Resolves a parsed config document: applies the default inputs (when there is no `inputs` table) and
 * the overrides, validates everything against the schema built from `plugins` and `outputs` (no output
 * runs unless the document lists one), then checks for
 * listeners that collide and for an unauthenticated non-loopback HTTP endpoint.
 *
 * @param document The parsed TOML document (`{}` when there is no file).
 * @param options The registries, the file name for messages, the overrides and the default inputs.
 * @returns The resolved config: durations in milliseconds, sizes in bytes, `data_dir` absolute when
 *   `overrides.cwd` is given.
 * @throws {ConfigError} Listing every problem found, one per line.
 */
export function resolveConfig<P extends InputRegistry, O extends OutputRegistry = NoOutputs>(
  document: unknown,
  options: ResolveOptions<P, O>,
): ConfigOf<P, O> {
  const overrides = options.overrides ?? {};
  if (!isTable(document)) {
    throw ConfigError.fromIssues(options.file, [{ path: [], where: "", text: "expected a table" }]);
  }
  const doc: Table = structuredClone(document);
  if (doc["inputs"] === undefined) {
    doc["inputs"] = structuredClone(options.defaultInputs ?? defaultInputs(options.plugins));
  }
  const flags = applyOverrides(doc, overrides);

  const schema = configSchema(options.plugins, options.outputs);
  const result = v.safeParse(schema, doc, { message: expectation });
  if (!result.success) {
    throw ConfigError.fromIssues(options.file, toConfigIssues(result.issues, { root: schema, flags }));
  }
  const config = result.output;
  const problems = crossCheck(config, { plugins: options.plugins, flags });
  if (problems.length > 0) throw ConfigError.fromIssues(options.file, problems);
  if (overrides.cwd === undefined) return config;
  return {
    ...config,
    agent: { ...config.agent, data_dir: resolvePath(overrides.cwd, config.agent.data_dir) },
  };
}

/** Writes the overrides into `doc` and returns which key paths they set, so issues can name the flag. */
function applyOverrides(doc: Table, overrides: ConfigOverrides): FlagPath[] {
  const flags: FlagPath[] = [];
  function set(path: readonly [string, string], value: unknown, flag: string): void {
    const [table, key] = path;
    const current = doc[table] ?? {};
    // A table that is not a table stays as written, so its own error is reported against the file.
    if (!isTable(current)) return;
    doc[table] = { ...current, [key]: value };
    flags.push({ path, flag });
  }
  if (overrides.dataDir !== undefined) set(["agent", "data_dir"], overrides.dataDir, "--data-dir");
  if (overrides.flushInterval !== undefined) {
    set(["agent", "flush_interval"], overrides.flushInterval, "--flush-interval");
  }
  if (overrides.workers !== undefined) set(["agent", "workers"], workerValue(overrides.workers), "--workers");
  if (overrides.http !== undefined) set(["http", "listen"], overrides.http, "--http");
  if (overrides.insecure !== undefined) set(["http", "insecure"], overrides.insecure, "--insecure");
  if (overrides.statsd !== undefined) replaceInputs(doc, "statsd", overrides.statsd, flags);
  if (overrides.collectd !== undefined) replaceInputs(doc, "collectd", overrides.collectd, flags);
  if (overrides.udpReceive !== undefined) setOnUdpInputs(doc, overrides.udpReceive, flags);
  return flags;
}

/** The input types that read UDP sockets and so take `udp_receive`. */
const UDP_INPUT_TYPES: readonly string[] = ["statsd", "collectd"];

/** Applies `--udp-receive MODE` to every input that reads UDP (after `--statsd`/`--collectd` replaced them). */
function setOnUdpInputs(doc: Table, mode: string, flags: FlagPath[]): void {
  const inputs = doc["inputs"];
  if (!isTable(inputs)) return;
  for (const [id, input] of Object.entries(inputs)) {
    if (!isTable(input) || !UDP_INPUT_TYPES.includes(String(input["type"]))) continue;
    inputs[id] = { ...input, udp_receive: mode };
    flags.push({ path: ["inputs", id, "udp_receive"], flag: "--udp-receive" });
  }
}

/**
 * Applies `--<type> ADDR…`: every input of `type` gives way to one input with id `type` listening on the
 * addresses, keeping the other settings of the file's first input of that type.
 */
function replaceInputs(doc: Table, type: string, addresses: readonly string[], flags: FlagPath[]): void {
  const inputs = doc["inputs"];
  if (!isTable(inputs)) return;
  let base: Table = {};
  for (const [id, input] of Object.entries(inputs)) {
    if (!isTable(input) || input["type"] !== type) continue;
    if (Object.keys(base).length === 0) base = input;
    delete inputs[id];
  }
  inputs[type] = { ...base, type, listen: [...addresses] };
  const path: readonly PathSegment[] = ["inputs", type, "listen"];
  flags.push({ path, flag: `--${type}` });
}

/** Flags arrive as text; digits become a number so the schema sees what a TOML file would hold. */
function workerValue(value: string | number): unknown {
  return typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : value;
}

function isTable(value: unknown): value is Table {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}
