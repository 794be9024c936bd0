/**
 * `tally wrap -- COMMAND ARGS…`: runs a command as a shell would (its stdin, stdout and stderr are the
 * terminal's, its exit code is returned), forwards signals to it, and afterwards tells the agent how it
 * went: two gauges and one event spanning the run (see `_wrap_report.ts`). The agent being down never
 * changes the exit code; it costs one line on stderr.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { AgentClient, AgentError } from "./_agent_client.ts";
import { AGENT_OPTIONS, AGENT_USAGE, agentSettings } from "./_agent_settings.ts";
import { inTerminalForeground } from "./_terminal_foreground.ts";
import { WRAP_DURATION_METRIC, WRAP_EXIT_CODE_METRIC, wrapEvent, wrapMetrics } from "./_wrap_report.ts";
import type { WrapOutcome, WrapRun } from "./_wrap_report.ts";
import type { CliIo, TrappedSignal } from "./cli_io.ts";

const USAGE = `Usage: tally wrap [options] -- COMMAND [ARGS...]

Runs COMMAND (without a shell) on this terminal's stdin, stdout and stderr, passes it the signals tally
gets (SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2) and exits with its exit code: 128 + the
signal's number when a signal ended it, 127 when it was not found, 126 when it could not be run.
Then it sends the running agent ("tally run"):
  ${WRAP_DURATION_METRIC}{name="NAME"}   gauge: how long the command ran, in seconds
  ${WRAP_EXIT_CODE_METRIC}{name="NAME"}          gauge: its exit code
and one event from the command's start to its end, titled NAME, with the attributes exit_code,
execution_time (seconds), command, and signal when one ended it.

When the agent cannot be reached, the exit code is still the command's; the failure is one line on
stderr. In a terminal's foreground, Ctrl-C and Ctrl-\\ already reach the command, so tally does not send
them a second time.

Options:
  -n, --name NAME        the run's name: the "name" label and the event's title (default: COMMAND's
                         file name)
${AGENT_USAGE}                         (wrap prints them on stderr, after the command ran)
  -h, --help             show this help

Example:
  tally wrap --name backup -- /usr/local/bin/backup.sh --full
`;

/** Exit codes a POSIX shell uses for a command it could not run. */
const NOT_FOUND_CODE = 127;
const NOT_EXECUTABLE_CODE = 126;
/** What the terminal sends its foreground group itself (Ctrl-C, Ctrl-\). */
const TERMINAL_SIGNALS: ReadonlySet<TrappedSignal> = new Set(["SIGINT", "SIGQUIT"]);

/**
 * Runs `tally wrap`.
 *
 * @param args The arguments after `wrap`: options, `--`, the command and its arguments.
 * @param io Output streams, the environment (the command's too), signal trapping and the shutdown signal.
 * @returns The command's exit code (see the usage), or 2 on a usage error before anything ran.
 */
export async function wrap(args: readonly string[], io: CliIo): Promise<number> {
  const separator = args.indexOf("--");
  const own = separator < 0 ? args : args.slice(0, separator);
  let flags;
  try {
    flags = parseArgs({
      args: [...own],
      options: {
        name: { type: "string", short: "n" },
        help: { type: "boolean", short: "h" },
        ...AGENT_OPTIONS,
      },
    }).values;
  } catch (error) {
    if (separator < 0 && !own.includes("--help") && !own.includes("-h")) {
      return usageError(io, 'Expected "--" before the command: tally wrap [options] -- COMMAND [ARGS...]');
    }
    return usageError(io, (error as Error).message);
  }
  if (flags.help === true) {
    io.stdout(USAGE);
    return 0;
  }
  const argv = separator < 0 ? [] : args.slice(separator + 1);
  const [command] = argv;
  if (command === undefined || command === "") {
    return usageError(io, separator < 0 ? 'Expected "--" and a COMMAND' : "Expected a COMMAND after --");
  }
  const name = flags.name ?? basename(command);
  if (name.trim() === "") return usageError(io, "The --name is empty");
  const settings = agentSettings(flags, io.env);
  if (settings.kind === "error") return usageError(io, settings.message);

  const run = await runCommand(argv, name, io);
  // Ctrl-C during the report (the command is done by then) ends the wait for the agent at once.
  const client = new AgentClient(settings.settings, { print: io.stderr, signal: io.shutdown });
  try {
    await client.send({
      method: "POST",
      path: "/api/v1/push",
      contentType: "application/json",
      body: JSON.stringify({ metrics: wrapMetrics(run) }),
    }, `send the run of "${name}" to`);
    await client.send({
      method: "POST",
      path: "/api/v1/events",
      contentType: "application/json",
      body: JSON.stringify({ events: [wrapEvent(run)] }),
    }, `send the event of "${name}" to`);
  } catch (error) {
    if (!(error instanceof AgentError)) throw error;
    // One line, whatever the agent said: the command's own output must stay readable.
    io.stderr(`tally wrap: ${error.message.split("\n")[0]}\n`);
  } finally {
    await client.close();
  }
  return run.outcome.code;
}

/** Runs the command to its end, forwarding signals, and measures it. */
async function runCommand(argv: readonly string[], name: string, io: CliIo): Promise<WrapRun> {
  const [command, ...rest] = argv as [string, ...string[]];
  const startMs = Date.now();
  const started = performance.now();
  let child: ChildProcess;
  try {
    child = spawn(command, rest, { stdio: "inherit", env: { ...io.env } });
  } catch (error) {
    // Spawn failures usually come as an "error" event; a runtime may throw some at once instead.
    const reason = error instanceof Error ? error.message : String(error);
    io.stderr(`tally wrap: cannot run "${command}": ${reason}\n`);
    const outcome: WrapOutcome = { kind: "not_started", code: NOT_EXECUTABLE_CODE, reason };
    return { name, argv, startMs, endMs: Date.now(), durationMs: 0, outcome };
  }
  const release = io.trapSignals?.(function forward(signal) {
    if (TERMINAL_SIGNALS.has(signal) && inTerminalForeground()) return;
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      // process.kill, not child.kill: Deno's ChildProcess.kill() ignores every call after the first.
      process.kill(child.pid, signal);
    } catch {
      // Gone between the check and the signal: its exit is on its way.
    }
  });
  let outcome: WrapOutcome;
  try {
    outcome = await new Promise<WrapOutcome>((resolve) => {
      child.once("error", function onSpawnError(error: NodeJS.ErrnoException) {
        const notFound = error.code === "ENOENT";
        resolve({
          kind: "not_started",
          code: notFound ? NOT_FOUND_CODE : NOT_EXECUTABLE_CODE,
          reason: notFound
            ? "command not found"
            : error.code === "EACCES"
            ? "permission denied"
            : error.message,
        });
      });
      child.once("exit", function onExit(code, signal) {
        if (signal !== null) {
          resolve({ kind: "signaled", signal, code: 128 + (constants.signals[signal] ?? 0) });
        } else {
          resolve({ kind: "exited", code: code ?? 1 });
        }
      });
    });
  } finally {
    release?.();
  }
  if (outcome.kind === "not_started") io.stderr(`tally wrap: cannot run "${command}": ${outcome.reason}\n`);
  return {
    name,
    argv,
    startMs,
    endMs: Date.now(),
    durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    outcome,
  };
}

function usageError(io: CliIo, message: string): number {
  io.stderr(`tally wrap: ${message}\n\n${USAGE}`);
  return 2;
}
