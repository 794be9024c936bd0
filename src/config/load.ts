/**
 * Loads tally's config: read the TOML file (or take the embedded defaults when there is none), apply the
 * `tally run` flags, validate. This is the only place config is validated; everything past it trusts
 * the config type ({@link ConfigOf} the registry passed in).
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import { parse, TomlError } from "smol-toml";
import { ConfigError } from "./config_error.ts";
import { resolveConfig } from "./resolve.ts";
import type { ConfigOverrides } from "./resolve.ts";
import type { InputRegistry, NoOutputs, OutputRegistry } from "./configurable_plugin.ts";
import type { ConfigOf } from "./schema.ts";

export { ConfigError } from "./config_error.ts";
export type { ConfigOverrides } from "./resolve.ts";
export type { ConfigOf, InputConfigOf, OutputConfigOf } from "./schema.ts";
export type { InputRegistry, NoOutputs, OutputRegistry } from "./configurable_plugin.ts";

/** Options for {@link loadConfig}: the plugin registries the config is checked against, and the flags. */
export interface LoadOptions<P extends InputRegistry, O extends OutputRegistry = NoOutputs>
  extends ConfigOverrides {
  /** The input registry (`INPUTS`); config never imports a registry, the caller hands it in. */
  readonly plugins: P;
  /** The output registry (`OUTPUTS`); none by default, so an `[outputs]` table is then an error. */
  readonly outputs?: O;
}

/**
 * Loads and validates the config.
 *
 * @param path The TOML file, or `undefined` to run on the embedded defaults (StatsD on
 *   `udp:127.0.0.1:8125`, HTTP on `127.0.0.1:8127`, data under `./data`). A relative path resolves
 *   against `overrides.cwd`; messages name the path as given.
 * @param options The input and output registries, and values from `tally run` flags (they win over the
 *   file).
 * @returns The resolved config: durations in milliseconds, sizes in bytes.
 * @throws {ConfigError} When the file cannot be read, is not valid TOML (the message gives line and
 *   column) or does not validate (the message lists every problem with its key path).
 * @example
 * ```ts
 * const config = loadConfig("/etc/tally.toml", { plugins: INPUTS, statsd: ["udp:0.0.0.0:8125"] });
 * config.agent.flush_interval; // 10000
 * ```
 */
export function loadConfig<P extends InputRegistry, O extends OutputRegistry = NoOutputs>(
  path: string | undefined,
  options: LoadOptions<P, O>,
): ConfigOf<P, O> {
  const { plugins, outputs, ...overrides } = options;
  const document = path === undefined ? {} : parseToml(path, readText(path, overrides.cwd));
  return resolveConfig(document, {
    plugins,
    ...(outputs !== undefined ? { outputs } : {}),
    file: path,
    overrides,
  });
}

function readText(path: string, cwd: string | undefined): string {
  try {
    return readFileSync(cwd === undefined ? path : resolvePath(cwd, path), "utf8");
  } catch (error) {
    throw new ConfigError(`Cannot read config "${path}": ${reason(error)}`, { file: path, cause: error });
  }
}

function parseToml(path: string, text: string): Record<string, unknown> {
  try {
    return parse(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const what = unclosedHeader(text, error.line) ??
      (error.message.split("\n")[0] ?? "").replace(/^Invalid TOML document: /, "");
    const excerpt = error.codeblock.trimEnd().split("\n").map((line) => `  ${line}`).join("\n");
    throw new ConfigError(
      `Invalid config "${path}": TOML syntax error at line ${error.line}, column ${error.column}: ${what}\n${excerpt}`,
      { file: path, cause: error },
    );
  }
}

/**
 * smol-toml reads `[agent` (no `]`) as a key it "cannot find the end of"; say what is wrong instead.
 *
 * @returns The message for an unclosed table header on the error's line, or `undefined` for other errors.
 */
function unclosedHeader(text: string, line: number): string | undefined {
  const source = (text.split("\n")[line - 1] ?? "").replace(/#.*$/, "").trim();
  if (!source.startsWith("[") || source.includes("]")) return undefined;
  const close = source.startsWith("[[") ? "]]" : "]";
  return `the table header ${JSON.stringify(source)} is not closed: expected "${close}" at its end`;
}

function reason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "it is a directory";
    default:
      return error instanceof Error ? error.message : String(error);
  }
}
