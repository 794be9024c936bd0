/**
 * What a CLI command sees of the process: output streams, environment and working directory.
 *
 * Commands take a `CliIo` instead of touching `process` so tests can capture their output; only
 * `src/main.ts` builds one from the real process (and only it may exit).
 *
 * @module
 */

/** The process surface handed to every CLI command. */
export interface CliIo {
  /** Writes `s` verbatim to standard output; commands end their lines with `\n` themselves. */
  readonly stdout: (s: string) => void;
  /** Writes `s` verbatim to standard error; commands end their lines with `\n` themselves. */
  readonly stderr: (s: string) => void;
  /** The environment variables. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The working directory that relative paths resolve against. */
  readonly cwd: string;
  /**
   * The shutdown request: aborted on SIGINT/SIGTERM. Long-running commands (`run`, `wrap`) wait on it;
   * short ones may ignore it.
   */
  readonly shutdown: AbortSignal;
  /**
   * Standard input as bytes (`tally push --stdin`); absent reads as empty. Read lazily: a command that
   * never iterates it leaves the process's stdin untouched, for a child to inherit (`tally wrap`).
   */
  readonly stdin?: AsyncIterable<Uint8Array>;
  /** Whether standard error is a terminal: progress lines are drawn only then. */
  readonly stderrIsTty?: boolean;
  /**
   * Takes over the process's SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1 and SIGUSR2 until the returned
   * function is called: each is handed to `listener` instead of aborting `shutdown` (`tally wrap` forwards
   * them to its command). Absent where there is no process to trap (tests).
   */
  readonly trapSignals?: (listener: (signal: TrappedSignal) => void) => () => void;
}

/** The signals {@link CliIo.trapSignals} hands over. */
export const TRAPPED_SIGNALS = ["SIGHUP", "SIGINT", "SIGQUIT", "SIGTERM", "SIGUSR1", "SIGUSR2"] as const;

/** One of {@link TRAPPED_SIGNALS}. */
export type TrappedSignal = (typeof TRAPPED_SIGNALS)[number];
