/**
 * Config mode of a CoScale script: run `<command> -c` in the sandbox (1 s at most, exit 0 required) and
 * validate what it printed. Shared by the `scripts` input and `tally script check`.
 *
 * @module
 */

import { parseCoscaleDefinitions } from "../../formats/coscale_definitions.ts";
import type { CoscaleDefinitions, Problem } from "../../formats/coscale_definitions.ts";
import { runSandboxed, SpawnError } from "./sandbox.ts";
import type { SandboxOptions, SandboxResult } from "./sandbox.ts";

/** CoScale's limit for config mode: "the script must finish within 1 s or it is killed". */
export const CONFIG_LIMIT_MS = 1000;

/** The outcome of one config-mode run. */
export type DefinitionsOutcome =
  | {
    readonly kind: "ok";
    /** The normalised definitions. */
    readonly definitions: CoscaleDefinitions;
    /** Tolerated oddities (deprecated keys, aliases). */
    readonly warnings: readonly Problem[];
    /** The run. */
    readonly run: SandboxResult;
  }
  | {
    readonly kind: "failed";
    /** Why, short and countable: `spawn`, `timeout`, `exit`, `truncated` or `invalid`. */
    readonly reason: "spawn" | "timeout" | "exit" | "truncated" | "invalid";
    /** What went wrong, sentence case, for a log line or the CLI. */
    readonly message: string;
    /** The JSON problems when `reason` is `invalid`. */
    readonly problems: readonly Problem[];
    /** The run, unless it could not start. */
    readonly run: SandboxResult | undefined;
  };

const decoder = new TextDecoder();

/**
 * Runs `argv -c` and validates its definitions.
 *
 * @param argv The split command line, without the mode flag.
 * @param options The sandbox options; `limitMs` is lowered to {@link CONFIG_LIMIT_MS}.
 * @returns The definitions, or why there are none. Never throws for a script's fault.
 * @throws {Error} Only for an aborted signal or a programming error.
 */
export async function readDefinitions(
  argv: readonly string[],
  options: SandboxOptions,
): Promise<DefinitionsOutcome> {
  let run: SandboxResult;
  try {
    run = await runSandboxed([...argv, "-c"], {
      ...options,
      limitMs: Math.min(options.limitMs, CONFIG_LIMIT_MS),
    });
  } catch (error) {
    if (!(error instanceof SpawnError)) throw error;
    return { kind: "failed", reason: "spawn", message: error.message, problems: [], run: undefined };
  }
  const limit = Math.min(options.limitMs, CONFIG_LIMIT_MS);
  if (run.timedOut || run.aborted) {
    return failed("timeout", `Config mode did not finish within ${limit} ms and was killed`, run);
  }
  if (run.exitCode !== 0) {
    const how = run.exitCode === null
      ? `was ended by ${run.signal ?? "a signal"}`
      : `exited with ${run.exitCode}`;
    return failed("exit", `Config mode ${how}; exit 0 is required`, run);
  }
  if (run.stdoutTruncated) {
    return failed("truncated", `Config mode printed more than ${run.stdout.length} bytes`, run);
  }
  const parsed = parseCoscaleDefinitions(decoder.decode(run.stdout));
  if (!parsed.ok) {
    const first = parsed.problems[0];
    const detail = first === undefined ? "" : `: at ${first.path}: ${first.reason}`;
    return {
      kind: "failed",
      reason: "invalid",
      message: `Config mode printed unusable definitions (${parsed.problems.length} problem(s))${detail}`,
      problems: parsed.problems,
      run,
    };
  }
  return { kind: "ok", definitions: parsed.definitions, warnings: parsed.warnings, run };
}

function failed(
  reason: "timeout" | "exit" | "truncated",
  message: string,
  run: SandboxResult,
): DefinitionsOutcome {
  return { kind: "failed", reason, message, problems: [], run };
}
