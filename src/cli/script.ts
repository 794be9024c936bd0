/**
 * `tally script check CMDLINE` and `tally script run CMDLINE`: run a script once, in the same sandbox
 * and with the same limits as the `scripts` input, and show what tally sees.
 *
 * - `check` prints a CoScale script's definitions (`-c`) as a table, then the values of one data run
 *   (`-d`) as a table, then every rejected line with its line number and reason.
 * - `run` prints the samples and events tally would send (`name{labels} value kind`), one per line.
 *
 * Exit codes (both actions): 2 when the script is unusable (it cannot start, `-c` fails or prints
 * invalid definitions, it defines no metrics and no events, or the data run is killed at the limit),
 * 1 when it ran but something is wrong with its output (a rejected line, a non-zero exit, output cut at
 * the cap), 0 when clean.
 *
 * The output is parsed here, inline, by the same pure format functions the workers run; nothing is sent
 * anywhere.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { formatDuration, parseDuration } from "../config/duration.ts";
import type { CoscaleDefinitions } from "../formats/coscale_definitions.ts";
import { parseCoscaleScript } from "../formats/coscale_script.ts";
import { parseInfluxLine } from "../formats/influx_line.ts";
import { parseNagios } from "../formats/nagios.ts";
import { parsePromText } from "../formats/prom_text.ts";
import { encodeScriptFrame } from "../formats/script_frame.ts";
import type { LineProblem, ScriptParseOptions } from "../formats/script_frame.ts";
import { CommandLineError, splitCommandLine } from "../inputs/scripts/argv.ts";
import { MAX_TIMEOUT_MS, SCRIPT_FORMATS, scriptId } from "../inputs/scripts/config.ts";
import type { ScriptFormat } from "../inputs/scripts/config.ts";
import { resolveUser } from "../inputs/scripts/_passwd.ts";
import type { UserIds } from "../inputs/scripts/_passwd.ts";
import { readDefinitions } from "../inputs/scripts/_read_definitions.ts";
import { runSandboxed, SpawnError } from "../inputs/scripts/sandbox.ts";
import type { SandboxOptions, SandboxResult } from "../inputs/scripts/sandbox.ts";
import type { BadReason, Labels, Sample, SampleSink, TallyEvent } from "../model/sample.ts";
import type { CliIo } from "./cli_io.ts";

const USAGE = `Usage: tally script check CMDLINE [options]
       tally script run CMDLINE [options]

  check   runs the script once as the scripts input would (CoScale: "CMDLINE -c", then "CMDLINE -d")
          and prints its definitions and values as tables and every rejected line with its number
  run     runs the script once and prints the samples and events tally would send

CMDLINE is one argument, split like a config's command (quotes and backslashes, no shell), or
several arguments after "--", used as they are: tally script check -- python3 /srv/x.py --verbose

Options:
      --format F      coscale (default), nagios, prometheus or influx
      --timeout D     the hard limit of the run, e.g. "5s" (default 5s, at most 60s)
      --env NAME=V    an environment variable for the script (repeatable); it gets only these and PATH
      --cwd DIR       the working directory (default: the current one)
      --user U        the user to run as when tally runs as root (default nobody)
  -h, --help          show this help

Exit codes: 0 clean, 1 the script ran but printed rejected lines, exited non-zero or was cut at the
output cap, 2 the script is unusable (cannot start, -c fails or is invalid, nothing defined, timed out).
`;

const DEFAULT_TIMEOUT_MS = 5000;
const MAX_STDOUT = 1024 * 1024;
const MAX_STDERR = 64 * 1024;
const ENV_REGEXP = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;
const decoder = new TextDecoder();

/** What a parse produced. */
interface Collected {
  readonly samples: Sample[];
  readonly events: TallyEvent[];
  readonly bad: BadReason[];
  readonly problems: LineProblem[];
}

/** The parsed command line of `tally script`. */
interface ScriptArgs {
  readonly action: "check" | "run";
  readonly argv: readonly string[];
  readonly format: ScriptFormat;
  readonly options: SandboxOptions;
}

/**
 * Runs `tally script`.
 *
 * @param args The arguments after `script`.
 * @param io Output streams, the working directory and the shutdown signal.
 * @returns 0 clean, 1 when the output had problems, 2 when the script is unusable or on a usage error.
 * @example
 * ```ts
 * const code = await script(["check", "/etc/tally/scripts/lvs-check.sh"], io);
 * ```
 */
export async function script(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseScriptArgs(args, io);
  if (typeof parsed === "number") return parsed;
  const { action, argv, format, options } = parsed;
  const id = scriptId(argv);

  let definitions: CoscaleDefinitions | undefined;
  if (format === "coscale") {
    const outcome = await readDefinitions(argv, options);
    if (outcome.kind === "failed") {
      io.stderr(`Script ${JSON.stringify(argv.join(" "))} is unusable: ${outcome.message}\n`);
      for (const problem of outcome.problems) io.stderr(`  at ${problem.path}: ${problem.reason}\n`);
      if (outcome.run !== undefined) printStderr(outcome.run, io.stderr);
      return 2;
    }
    definitions = outcome.definitions;
    if (action === "check") {
      io.stdout(`Definitions (${describeRun([...argv, "-c"], outcome.run)}):\n`);
      printDefinitions(definitions, io);
      for (const line of groupWarnings(outcome.warnings)) io.stdout(`  warning ${line}\n`);
      printStderr(outcome.run, io.stdout);
    }
    if (definitions.metrics.length === 0 && definitions.events.length === 0) {
      io.stderr(
        `Script ${JSON.stringify(argv.join(" "))} is unusable: it defines no metrics and no events\n`,
      );
      return 2;
    }
  }

  const dataArgv = format === "coscale" ? [...argv, "-d"] : [...argv];
  const limit = Math.max(100, Math.min(options.limitMs, definitions?.maxRuntimeMs ?? Infinity));
  let result: SandboxResult;
  try {
    result = await runSandboxed(dataArgv, { ...options, limitMs: limit });
  } catch (error) {
    if (!(error instanceof SpawnError)) throw error;
    io.stderr(`Script ${JSON.stringify(argv.join(" "))} is unusable: ${error.message}${userHint(options)}\n`);
    return 2;
  }
  const collected = parse(format, id, definitions, result);

  if (action === "check") {
    io.stdout(`${definitions === undefined ? "Output" : "Values"} (${describeRun(dataArgv, result)}):\n`);
    printValues(collected, io);
  } else {
    for (const sample of collected.samples) {
      io.stdout(
        `${sample.name}${formatLabels(sample.labels)} ${formatNumber(sample.value)} ${sample.kind}\n`,
      );
    }
    for (const event of collected.events) {
      io.stdout(
        `${event.kind} ${JSON.stringify(event.title)} ${JSON.stringify(event.text)}${
          formatLabels(event.labels)
        } ` +
          `${new Date(event.timeMs).toISOString()}` +
          (event.endMs === undefined ? "" : `..${new Date(event.endMs).toISOString()}`) + "\n",
      );
    }
  }
  // check reports everything on stdout; run keeps stdout for the samples.
  const report = action === "check" ? io.stdout : io.stderr;
  if (collected.problems.length > 0) report("Rejected lines:\n");
  for (const problem of collected.problems) {
    report(`  line ${problem.line}: ${problem.reason}: ${problem.message}\n`);
  }
  printStderr(result, report);
  if (result.pipeHolders.length > 0) {
    const holders = result.pipeHolders.map((p) => `${p.pid}${p.command === "" ? "" : ` (${p.command})`}`);
    report(
      `  it left ${holders.join(", ")} holding its output open: start daemons with their output ` +
        `redirected (cmd >/dev/null 2>&1 &) or through the service manager\n`,
    );
  }
  if (result.timedOut) {
    io.stderr(
      `Script ${JSON.stringify(dataArgv.join(" "))} is unusable: it was killed at its ${limit} ms limit` +
        `${limitReason(options.limitMs, definitions?.maxRuntimeMs)}\n`,
    );
    return 2;
  }
  const issues: string[] = [];
  if (collected.bad.length > 0) issues.push(`${collected.bad.length} rejected line(s)`);
  if (result.exitCode !== 0) {
    issues.push(`exit ${result.exitCode ?? result.signal ?? "?"} (its output is used)`);
  }
  if (result.stdoutTruncated) issues.push(`stdout cut at ${MAX_STDOUT} bytes`);
  const summary = `${collected.samples.length} value(s), ${collected.events.length} event(s)`;
  if (issues.length > 0) {
    report(`Script ran with problems: ${summary}; ${issues.join(", ")}\n`);
    return 1;
  }
  if (action === "check") io.stdout(`Script is clean: ${summary}\n`);
  return 0;
}

function parseScriptArgs(args: readonly string[], io: CliIo): ScriptArgs | number {
  let values;
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args: [...args],
      options: {
        format: { type: "string" },
        timeout: { type: "string" },
        env: { type: "string", multiple: true },
        cwd: { type: "string" },
        user: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
    });
    values = parsed.values;
    positionals = parsed.positionals;
  } catch (error) {
    return usageError((error as Error).message, io);
  }
  if (values.help === true) {
    io.stdout(USAGE);
    return 0;
  }
  const [action, ...command] = positionals;
  if (action !== "check" && action !== "run") {
    return usageError(
      action === undefined ? "Expected an action: check or run" : `Unknown script action "${action}"`,
      io,
    );
  }
  if (command.length === 0) return usageError("Expected a CMDLINE", io);
  let argv: string[];
  try {
    argv = command.length === 1 ? splitCommandLine(command[0]!) : command;
  } catch (error) {
    if (!(error instanceof CommandLineError)) throw error;
    return usageError(error.message, io);
  }
  const format = values.format ?? "coscale";
  if (!(SCRIPT_FORMATS as readonly string[]).includes(format)) {
    return usageError(`Unknown --format "${format}"; expected one of ${SCRIPT_FORMATS.join(", ")}`, io);
  }
  let limitMs = DEFAULT_TIMEOUT_MS;
  if (values.timeout !== undefined) {
    const ms = parseDuration(values.timeout);
    if (ms === undefined || ms < 100 || ms > MAX_TIMEOUT_MS) {
      return usageError(
        `Invalid --timeout "${values.timeout}": expected a duration from "100ms" to "60s"`,
        io,
      );
    }
    limitMs = ms;
  }
  const env: Record<string, string> = {};
  for (const pair of values.env ?? []) {
    const m = ENV_REGEXP.exec(pair);
    if (m === null) return usageError(`Invalid --env "${pair}": expected NAME=VALUE`, io);
    env[m[1]!] = m[2]!;
  }
  let user: UserIds | undefined;
  if (process.getuid?.() === 0) {
    try {
      user = resolveUser(values.user ?? "nobody");
    } catch (error) {
      return usageError((error as Error).message, io);
    }
  }
  return {
    action,
    argv,
    format: format as ScriptFormat,
    options: {
      env,
      cwd: values.cwd ?? io.cwd,
      user,
      limitMs,
      maxStdout: MAX_STDOUT,
      maxStderr: MAX_STDERR,
      signal: io.shutdown,
    },
  };
}

/** Parses a run's output with the format the workers would use, collecting everything. */
function parse(
  format: ScriptFormat,
  id: string,
  definitions: CoscaleDefinitions | undefined,
  result: SandboxResult,
): Collected {
  const collected: Collected = { samples: [], events: [], bad: [], problems: [] };
  const sink: SampleSink = {
    sample: (sample) => void collected.samples.push({ ...sample }),
    event: (event) => void collected.events.push(event),
    bad: (reason) => void collected.bad.push(reason),
  };
  const options: ScriptParseOptions = { onBad: (problem) => void collected.problems.push(problem) };
  const frame = encodeScriptFrame({
    script: id,
    runMs: Date.now(),
    ...(result.exitCode === null ? {} : { exitCode: result.exitCode }),
    ...(result.timedOut ? { timedOut: true } : {}),
    ...(definitions === undefined ? {} : { definitions }),
  }, result.stdout);
  switch (format) {
    case "coscale":
      parseCoscaleScript(frame, sink, options);
      break;
    case "nagios":
      parseNagios(frame, sink, options);
      break;
    case "prometheus":
      parsePromText(frame, sink, options);
      break;
    case "influx":
      parseInfluxLine(frame, sink, options);
      break;
  }
  return collected;
}

function printDefinitions(definitions: CoscaleDefinitions, io: CliIo): void {
  if (definitions.metrics.length > 0) {
    io.stdout(renderTable(
      ["ID", "NAME", "UNIT", "DATATYPE", "CALCTYPE", "DIMENSIONS"],
      definitions.metrics.map((m) => [
        String(m.id),
        m.name,
        m.unit,
        m.datatype,
        m.calctype,
        m.dimensions.map((d) => `${d.id}:${d.name}`).join(", "),
      ]),
    ));
  }
  if (definitions.events.length > 0) {
    io.stdout(renderTable(
      ["EVENT ID", "NAME", "ATTRIBUTES"],
      definitions.events.map((e) => [
        String(e.id),
        e.name,
        e.attributeDescriptions.map((a) => `${a.name} (${a.type})`).join(", "),
      ]),
    ));
  }
  const extra: string[] = [];
  if (definitions.periodS !== undefined) extra.push(`period ${definitions.periodS} s`);
  if (definitions.maxRuntimeMs !== undefined) extra.push(`maxruntime ${definitions.maxRuntimeMs} ms`);
  if (extra.length > 0) io.stdout(`  (${extra.join(", ")})\n`);
}

function printValues(collected: Collected, io: CliIo): void {
  if (collected.samples.length > 0) {
    io.stdout(renderTable(
      ["METRIC", "DIMENSIONS", "VALUE", "KIND"],
      collected.samples.map((s) => [
        s.name,
        s.labels.filter(([name]) => name !== "script").map(([name, value]) => `${name}=${value}`).join(", "),
        formatNumber(s.value),
        s.kind,
      ]),
    ));
  }
  if (collected.events.length > 0) {
    io.stdout(renderTable(
      ["EVENT", "MESSAGE", "TIME", "ATTRIBUTES"],
      collected.events.map((e) => [
        e.title,
        e.text,
        new Date(e.timeMs).toISOString() +
        (e.endMs === undefined ? "" : ` to ${new Date(e.endMs).toISOString()}`),
        e.labels.filter(([name]) => name !== "script").map(([name, value]) => `${name}=${value}`).join(", "),
      ]),
    ));
  }
  if (collected.samples.length === 0 && collected.events.length === 0) {
    io.stdout("  (no values, no events)\n");
  }
}

/** Paths shown per grouped warning before "and N more". */
const WARNING_PATHS_SHOWN = 3;

/**
 * One line per distinct warning, with where it occurs: a script with `tags` on each of 12 metrics gets
 * one "Deprecated key ignored" line with a count, not 12.
 */
function groupWarnings(warnings: readonly { readonly path: string; readonly reason: string }[]): string[] {
  const byReason = new Map<string, string[]>();
  for (const { path, reason } of warnings) {
    const paths = byReason.get(reason);
    if (paths === undefined) byReason.set(reason, [path]);
    else paths.push(path);
  }
  return [...byReason].map(([reason, paths]) => {
    const shown = paths.slice(0, WARNING_PATHS_SHOWN).join(", ");
    const more = paths.length > WARNING_PATHS_SHOWN ? ` and ${paths.length - WARNING_PATHS_SHOWN} more` : "";
    return paths.length === 1
      ? `at ${shown}: ${reason}`
      : `${reason} (${paths.length} times) at ${shown}${more}`;
  });
}

function printStderr(result: SandboxResult, write: (s: string) => void): void {
  if (result.stderr.length === 0) return;
  const text = decoder.decode(result.stderr).trimEnd();
  write(`  stderr${result.stderrTruncated ? " (cut)" : ""}:\n${text.replace(/^/gm, "    ")}\n`);
}

function describeRun(argv: readonly string[], result: SandboxResult): string {
  const how = result.exitCode === null
    ? `killed by ${result.signal ?? "a signal"}`
    : `exit ${result.exitCode}`;
  return `${JSON.stringify(argv.join(" "))}, ${how}, ${Math.round(result.durationMs)} ms`;
}

/** Columns padded to their widest cell, indented by two spaces. */
function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) => Math.max(...all.map((row) => (row[column] ?? "").length)));
  let out = "";
  for (const row of all) {
    out += "  " + row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join("  ").trimEnd() +
      "\n";
  }
  return out;
}

/** Labels the Prometheus way: `{env="prod",host="a"}`, or nothing when there are none. */
function formatLabels(labels: Labels): string {
  if (labels.length === 0) return "";
  return "{" + labels.map(([name, value]) => `${name}=${JSON.stringify(value)}`).join(",") + "}";
}

function formatNumber(value: number): string {
  return String(value);
}

/**
 * Why the limit is what it is: the --timeout flag (the `timeout` key under `tally run`) and the script's
 * declared `maxruntime`, whichever is lower, so a user sees both knobs.
 */
function limitReason(timeoutMs: number, maxRuntimeMs: number | undefined): string {
  const timeout =
    `--timeout ${formatDuration(timeoutMs)} (under "tally run": the scripts input's \`timeout\` key, ` +
    `per script or for the input, at most 60s)`;
  if (maxRuntimeMs === undefined) return `, set by ${timeout}`;
  return maxRuntimeMs < timeoutMs
    ? `, set by the script's declared maxruntime ${maxRuntimeMs} ms (lower than ${timeout})`
    : `, set by ${timeout}; the script declares maxruntime ${maxRuntimeMs} ms, but tally never runs a ` +
      `script longer than the timeout`;
}

function userHint(options: SandboxOptions): string {
  return options.user === undefined
    ? ""
    : ` (tally runs as root, so scripts run as uid ${options.user.uid}; see --user)`;
}

function usageError(message: string, io: CliIo): number {
  io.stderr(`tally script: ${message}\n\n${USAGE}`);
  return 2;
}
