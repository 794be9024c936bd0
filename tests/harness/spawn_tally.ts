/**
 * Starts tally as a real process for end-to-end tests, in one of its three shapes, on free loopback ports
 * and a fresh data directory, and waits until `/readyz` answers 200.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./free_port.ts";
import { waitFor } from "./wait_for.ts";

/** The repository root. */
export const REPO_ROOT: string = fileURLToPath(new URL("../..", import.meta.url).href);

/**
 * How tally is run: `binary` is `dist/tally` (bun --compile), `bundle` is `deno run -A dist/tally.mjs`,
 * `source` is `bun src/main.ts`.
 */
export type TallyShape = "binary" | "bundle" | "source";

/** Options for {@link spawnTally}. */
export interface SpawnTallyOptions {
  /** The shape to run, `binary` by default. */
  readonly shape?: TallyShape;
  /** More `tally run` flags, e.g. `["--flush-interval", "1s", "--workers", "2"]`. */
  readonly args?: readonly string[];
  /**
   * StatsD listen addresses passed as `--statsd`; one UDP listener on a free port by default, so tests
   * never touch 8125.
   */
  readonly statsd?: readonly string[];
  /** The HTTP port; a free one by default. */
  readonly httpPort?: number;
  /**
   * The data directory, kept after `stop()`; by default a fresh temporary one, removed by `stop()`. The
   * process always runs in a temporary working directory of its own, so a stray relative path never lands
   * in the repository.
   */
  readonly dataDir?: string;
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
  /** The bound on waiting for `/readyz`, 20 000 ms by default. */
  readonly readyTimeoutMs?: number;
  /** Replaces the launcher (the command before `run`'s flags), for testing the harness itself. */
  readonly command?: readonly string[];
  /** Aborts the readiness wait (the process is killed). */
  readonly signal?: AbortSignal;
}

/** How the process ended. */
export interface TallyExit {
  /** The exit code, or `null` when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, or `null`. */
  readonly signal: NodeJS.Signals | null;
}

/** Options for {@link RunningTally.stop}. */
export interface StopOptions {
  /** How long to wait after SIGTERM before SIGKILL, 5000 ms by default (tally's shutdown bound). */
  readonly timeoutMs?: number;
}

/** A tally process that answered `/readyz`. */
export interface RunningTally {
  /** The process id. */
  readonly pid: number;
  /** The HTTP endpoint, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** The HTTP port. */
  readonly httpPort: number;
  /** The first StatsD port (from the default UDP listener or the first `statsd` address), if any. */
  readonly statsdPort: number | undefined;
  /** The data directory. */
  readonly dataDir: string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<TallyExit>;
  /** What the process wrote to stderr so far. */
  stderr(): string;
  /** What the process wrote to stdout so far. */
  stdout(): string;
  /**
   * Sends SIGTERM, waits for exit up to the timeout, then SIGKILLs; removes a temporary data directory.
   *
   * @returns How the process ended, and whether it had to be killed.
   */
  stop(options?: StopOptions): Promise<TallyExit & { readonly killed: boolean }>;
}

/** Thrown when tally exits or stays unready before `/readyz` answers 200. */
export class SpawnTallyError extends Error {
  /**
   * @param message What failed, with the process's stderr.
   * @param options The cause.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "SpawnTallyError";
  }
}

const PORT_REGEXP = /:(\d+)$/;

/**
 * The command that starts tally in `shape`, without `run` and its flags.
 *
 * @param shape The shape.
 * @returns The executable and its leading arguments.
 */
export function tallyCommand(shape: TallyShape): readonly string[] {
  const bin = join(REPO_ROOT, "node_modules", ".bin");
  switch (shape) {
    case "binary":
      return [join(REPO_ROOT, "dist", "tally")];
    case "bundle":
      return [join(bin, "deno"), "run", "-A", join(REPO_ROOT, "dist", "tally.mjs")];
    case "source":
      return ["Bun" in globalThis ? process.execPath : join(bin, "bun"), join(REPO_ROOT, "src", "main.ts")];
  }
}

/**
 * Starts `tally run` on free ports with a fresh data directory and waits for `/readyz` to answer 200.
 *
 * @param options The shape, flags, addresses, data directory and bounds.
 * @returns The running process.
 * @throws {SpawnTallyError} When the process exits, or `/readyz` does not answer 200 in time (the process
 *   is then killed); the message carries its stderr.
 */
export async function spawnTally(options: SpawnTallyOptions = {}): Promise<RunningTally> {
  const httpPort = options.httpPort ?? await freePort("tcp");
  const statsd = options.statsd ?? [`udp:127.0.0.1:${await freePort("udp")}`];
  const workDir = await mkdtemp(join(tmpdir(), "tally-e2e-"));
  const dataDir = options.dataDir ?? join(workDir, "data");
  const [command, ...leading] = options.command ?? tallyCommand(options.shape ?? "binary");
  if (command === undefined) throw new SpawnTallyError("Cannot spawn tally: the command is empty");
  const args = [
    ...leading,
    "run",
    "--data-dir",
    dataDir,
    "--http",
    `127.0.0.1:${httpPort}`,
    ...statsd.flatMap((address) => ["--statsd", address]),
    ...(options.args ?? []),
  ];
  const child = spawn(command, args, {
    cwd: workDir,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stderr: Buffer[] = [];
  const stdout: Buffer[] = [];
  child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
  child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
  const exited = exitOf(child, stderr);
  let exitedEarly: TallyExit | undefined;
  // An exit before ready ends the readiness wait at once instead of at its bound.
  const exitedBeforeReady = new AbortController();
  void exited.then(function onExit(exit) {
    exitedEarly = exit;
    exitedBeforeReady.abort(new SpawnTallyError(`exited (${describeExit(exit)})`));
  });
  const url = `http://127.0.0.1:${httpPort}`;
  const stderrText = (): string => Buffer.concat(stderr).toString();
  const signal = options.signal === undefined
    ? exitedBeforeReady.signal
    : AbortSignal.any([exitedBeforeReady.signal, options.signal]);

  try {
    await waitFor(async function readyzAnswers200() {
      const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      return response.status === 200;
    }, {
      timeoutMs: options.readyTimeoutMs ?? 20_000,
      intervalMs: 50,
      what: `"${url}/readyz" to answer 200`,
      signal,
    });
  } catch (error) {
    signalChild(child, "SIGKILL");
    await exited;
    await rm(workDir, { recursive: true, force: true });
    const reason = error instanceof Error ? error.message : String(error);
    throw new SpawnTallyError(
      `Cannot start tally "${[command, ...args].join(" ")}": ${reason}\nstderr:\n${stderrText()}`,
      { cause: error },
    );
  }

  const firstStatsd = statsd[0];
  const statsdPort = firstStatsd === undefined
    ? undefined
    : Number(PORT_REGEXP.exec(firstStatsd)?.[1] ?? Number.NaN);
  return {
    pid: child.pid ?? -1,
    url,
    httpPort,
    statsdPort: statsdPort === undefined || Number.isNaN(statsdPort) ? undefined : statsdPort,
    dataDir,
    exited,
    stderr: stderrText,
    stdout: () => Buffer.concat(stdout).toString(),
    async stop(stopOptions: StopOptions = {}) {
      let killed = false;
      if (exitedEarly === undefined) {
        signalChild(child, "SIGTERM");
        const timeoutMs = stopOptions.timeoutMs ?? 5000;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timedOut = new Promise<"timeout">((resolve) => {
          timer = setTimeout(resolve, timeoutMs, "timeout");
        });
        const first = await Promise.race([exited, timedOut]);
        clearTimeout(timer);
        if (first === "timeout") {
          killed = true;
          signalChild(child, "SIGKILL");
        }
      }
      const exit = await exited;
      await rm(workDir, { recursive: true, force: true });
      return { ...exit, killed };
    },
  };
}

function exitOf(child: ChildProcess, stderr: Buffer[]): Promise<TallyExit> {
  return new Promise((resolve) => {
    child.once("error", function onSpawnError(error) {
      // The command could not start (missing file, not executable): say so where stderr is shown.
      stderr.push(Buffer.from(`${error.message}\n`));
      resolve({ code: 127, signal: null });
    });
    child.once("exit", function onExit(code, signal) {
      resolve({ code, signal });
    });
  });
}

function describeExit(exit: TallyExit): string {
  return exit.signal === null ? `exit code ${exit.code}` : `signal ${exit.signal}`;
}

/**
 * Signals the child through `process.kill`: Deno's `ChildProcess.kill()` ignores a second call once a first
 * signal was sent, and then reports that first signal as the cause of any exit. Never signals pid 0 (the
 * whole process group) or an exited child.
 */
function signalChild(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.pid <= 0 || child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  try {
    process.kill(child.pid, signal);
  } catch {
    // Already gone: the exit promise settles either way.
  }
}
