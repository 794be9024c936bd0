/**
 * The entry point: the only place that reads `process.argv` and `process.env` and calls `process.exit`.
 *
 * SIGINT/SIGTERM abort `io.shutdown` so a running collector stops in order; a second signal exits at once.
 *
 * @module
 */

import process from "node:process";
import { cli } from "./cli/mod.ts";
import type { CliIo } from "./cli/cli_io.ts";

/** The exit code after a second SIGINT/SIGTERM, as a shell reports a signal death (128 + SIGINT). */
const FORCED_EXIT_CODE = 130;

main().then(exit, function fail(error: unknown) {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`tally: ${message.split("\n")[0]}\n`);
  exit(1);
});

async function main(): Promise<number> {
  const shutdown = new AbortController();
  function onSignal(signal: NodeJS.Signals): void {
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
  };
  return await cli(process.argv.slice(2), io);
}

/** Exits once stdout and stderr have drained, so piped output is not cut short. */
function exit(code: number): void {
  process.exitCode = code;
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}
