/**
 * A `CliIo` for command tests: captured output, a given environment and standard input, and signals the
 * test delivers itself.
 *
 * @module
 */

import type { CliIo, TrappedSignal } from "./cli_io.ts";

/** What {@link testIo} returns. */
export interface TestIo {
  /** The io to hand the command. */
  readonly io: CliIo;
  /** Everything written to stdout so far. */
  readonly out: () => string;
  /** Everything written to stderr so far. */
  readonly err: () => string;
  /** Delivers a signal as the process would; false when no listener is trapping signals. */
  readonly signal: (signal: TrappedSignal) => boolean;
}

/** Options of {@link testIo}. */
export interface TestIoOptions {
  /** The environment, empty by default. */
  readonly env?: Readonly<Record<string, string>>;
  /** Standard input, none by default. */
  readonly stdin?: string;
  /** Whether stderr is a terminal, false by default. */
  readonly stderrIsTty?: boolean;
}

/**
 * Builds a capturing `CliIo`.
 *
 * @param options The environment, standard input and terminal flag.
 * @returns The io and its accessors.
 */
export function testIo(options: TestIoOptions = {}): TestIo {
  let out = "";
  let err = "";
  let trap: ((signal: TrappedSignal) => void) | undefined;
  const stdin = options.stdin;
  const io: CliIo = {
    stdout: (s) => void (out += s),
    stderr: (s) => void (err += s),
    env: options.env ?? {},
    cwd: process.cwd(),
    shutdown: new AbortController().signal,
    ...(stdin === undefined ? {} : {
      stdin: (async function* stdinChunks() {
        yield new TextEncoder().encode(stdin);
      })(),
    }),
    stderrIsTty: options.stderrIsTty === true,
    trapSignals(listener) {
      trap = listener;
      return () => void (trap = undefined);
    },
  };
  return {
    io,
    out: () => out,
    err: () => err,
    signal(signal) {
      if (trap === undefined) return false;
      trap(signal);
      return true;
    },
  };
}
