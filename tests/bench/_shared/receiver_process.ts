/**
 * A receiver under benchmark as an OS process: spawned in its own process group, its output kept as a
 * bounded tail for error messages, and stopped by PID with SIGTERM then SIGKILL. Every live process is
 * registered so that the benchmark's signal handler can kill them all when it is interrupted.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";

/** How the process ended. */
export interface ProcessExit {
  /** The exit code, or `null` when a signal ended it. */
  readonly code: number | null;
  /** The signal that ended it, or `null`. */
  readonly signal: string | null;
}

/** Options for {@link ReceiverProcess}. */
export interface ReceiverProcessOptions {
  /** The working directory. */
  readonly cwd: string;
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Thrown when a receiver cannot be started or does not become ready. */
export class ReceiverStartError extends Error {
  /**
   * @param message What failed, with the process's output tail.
   * @param options The cause.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ReceiverStartError";
  }
}

/** How much of stdout+stderr is kept, for error messages. */
const OUTPUT_TAIL_BYTES = 8192;
/** The wait after SIGTERM before SIGKILL; tally's own shutdown bound is 5 s. */
const TERM_GRACE_MS = 5000;
/** Pause between two readiness polls; also the resolution of the time-to-ready figure. */
const READY_POLL_MS = 10;

const LIVE = new Set<ReceiverProcess>();

/** A spawned receiver process; see the module doc. */
export class ReceiverProcess {
  readonly #child: ChildProcess;
  readonly #command: string;
  readonly #spawnedAt: number;
  #tail = "";
  #exit: ProcessExit | undefined;
  readonly #exited: Promise<ProcessExit>;

  /**
   * Spawns `command` in its own process group.
   *
   * @param command The executable.
   * @param args Its arguments.
   * @param options The working directory and extra environment.
   */
  constructor(command: string, args: readonly string[], options: ReceiverProcessOptions) {
    this.#command = [command, ...args].join(" ");
    this.#spawnedAt = performance.now();
    // detached: its own process group, so an interrupt of the benchmark does not reach it unasked and
    // stop() can signal anything it forked.
    this.#child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const keep = (chunk: Buffer): void => {
      this.#tail = (this.#tail + chunk.toString()).slice(-OUTPUT_TAIL_BYTES);
    };
    this.#child.stdout?.on("data", keep);
    this.#child.stderr?.on("data", keep);
    this.#exited = new Promise((resolve) => {
      this.#child.once("error", (error: Error) => {
        this.#tail += `\nspawn error: ${error.message}`;
        this.#exit = { code: 127, signal: null };
        resolve(this.#exit);
      });
      this.#child.once("exit", (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
    LIVE.add(this);
  }

  /** The process id (-1 when spawning failed). */
  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** The last few KiB the process wrote to stdout and stderr. */
  get outputTail(): string {
    return this.#tail;
  }

  /** How the process ended, or `undefined` while it runs. */
  get exit(): ProcessExit | undefined {
    return this.#exit;
  }

  /**
   * Polls `isReady` until it returns true, and measures the time from spawn to that moment.
   *
   * @param isReady The readiness check; a throw counts as not ready yet.
   * @param timeoutMs The bound on the wait.
   * @returns Milliseconds from spawn to ready.
   * @throws {ReceiverStartError} When the process exits first or the bound passes.
   */
  async waitReady(isReady: () => Promise<boolean>, timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    let lastError: unknown;
    for (;;) {
      if (this.#exit !== undefined) {
        throw new ReceiverStartError(
          `Cannot start receiver "${this.#command}": it exited before ready (${describeExit(this.#exit)})\n` +
            `output:\n${this.#tail}`,
        );
      }
      try {
        if (await isReady()) return performance.now() - this.#spawnedAt;
      } catch (error) {
        lastError = error;
      }
      if (performance.now() > deadline) {
        const last = lastError instanceof Error ? `; last error: ${lastError.message}` : "";
        throw new ReceiverStartError(
          `Cannot start receiver "${this.#command}": not ready after ${timeoutMs} ms${last}\noutput:\n${this.#tail}`,
          lastError === undefined ? undefined : { cause: lastError },
        );
      }
      await sleep(READY_POLL_MS);
    }
  }

  /**
   * Sends SIGTERM to the process group, waits up to 5 s, then SIGKILLs it. Safe to call twice.
   *
   * @returns How the process ended and whether it had to be killed.
   */
  async stop(): Promise<ProcessExit & { readonly killed: boolean }> {
    let killed = false;
    if (this.#exit === undefined && this.pid > 0) {
      signalGroup(this.pid, "SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(resolve, TERM_GRACE_MS, "timeout");
      });
      const first = await Promise.race([this.#exited, timedOut]);
      clearTimeout(timer);
      if (first === "timeout") {
        killed = true;
        signalGroup(this.pid, "SIGKILL");
      }
    }
    const exit = await this.#exited;
    // Anything the receiver forked that outlived it goes too.
    if (this.pid > 0) signalGroup(this.pid, "SIGKILL");
    LIVE.delete(this);
    return { ...exit, killed };
  }

  /** SIGKILLs the group at once, for the interrupt handler; does not wait. */
  killNow(): void {
    if (this.pid > 0) signalGroup(this.pid, "SIGKILL");
    LIVE.delete(this);
  }
}

/**
 * SIGKILLs every receiver process still running, for an interrupt handler that is about to exit.
 *
 * @returns How many were killed.
 */
export function killAllReceivers(): number {
  const all = [...LIVE];
  for (const receiver of all) receiver.killNow();
  return all.length;
}

/**
 * Resolves after `ms`.
 *
 * @param ms The pause.
 * @returns A promise of nothing.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function signalGroup(pid: number, signal: "SIGTERM" | "SIGKILL"): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone, which is what we wanted.
  }
}

function describeExit(exit: ProcessExit): string {
  return exit.signal === null ? `exit code ${exit.code}` : `signal ${exit.signal}`;
}
