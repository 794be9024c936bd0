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
}
