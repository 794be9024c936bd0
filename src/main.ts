/**
 * The entry point: the only place that reads `process.argv` and `process.env` and calls `process.exit`.
 *
 * SIGINT/SIGTERM abort `io.shutdown` so a running collector stops in order; a second signal exits at once.
 *
 * @module
 */

import process from "node:process";
import { isatty } from "node:tty";
import { cli } from "./cli/mod.ts";
import { type CliIo, TRAPPED_SIGNALS, type TrappedSignal } from "./cli/cli_io.ts";

/** The exit code after a second SIGINT/SIGTERM, as a shell reports a signal death (128 + SIGINT). */
const FORCED_EXIT_CODE = 130;

main().then(exit, function fail(error: unknown) {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`tally: ${message.split("\n")[0]}\n`);
  exit(1);
});

async function main(): Promise<number> {
  const shutdown = new AbortController();
  let trap: ((signal: TrappedSignal) => void) | undefined;
  function onSignal(signal: NodeJS.Signals): void {
    if (trap !== undefined) return trap(signal as TrappedSignal);
    if (shutdown.signal.aborted) {
      process.stderr.write(`tally: ${signal} again, exiting without a clean shutdown\n`);
      process.exit(FORCED_EXIT_CODE);
    }
    shutdown.abort(signal);
  }
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // A closed pipe (`tally config example | head`) is not an error worth a stack trace.
  process.stdout.on("error", function ignoreClosedPipe() {});

  const io: CliIo = {
    stdout: (s) => void process.stdout.write(s),
    stderr: (s) => void process.stderr.write(s),
    env: process.env,
    cwd: process.cwd(),
    shutdown: shutdown.signal,
    // Touched only when iterated, so that an inherited stdin (tally wrap) is left alone.
    stdin: { [Symbol.asyncIterator]: () => process.stdin[Symbol.asyncIterator]() },
    stderrIsTty: isatty(2),
    trapSignals(listener) {
      trap = listener;
      // SIGINT and SIGTERM are always listened to; the others only while trapped, keeping their defaults.
      const extra = TRAPPED_SIGNALS.filter((s) => s !== "SIGINT" && s !== "SIGTERM");
      for (const signal of extra) process.on(signal, onSignal);
      return function release() {
        for (const signal of extra) process.off(signal, onSignal);
        trap = undefined;
      };
    },
  };
  return await cli(process.argv.slice(2), io);
}

/** Exits once stdout and stderr have drained, so piped output is not cut short. */
function exit(code: number): void {
  process.exitCode = code;
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}
