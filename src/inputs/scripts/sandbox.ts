/**
 * Runs one command in a sandbox and returns what it printed: the only place scripts are spawned.
 *
 * - **No shell**: `argv[0]` is looked up in the child's `PATH` by us (the same way on Bun and Deno) and
 *   executed directly with `argv.slice(1)`.
 * - **Own session and process group** (`detached: true` is `setsid()`), so `kill(-pid)` reaches the script
 *   and everything it forks.
 * - **stdin closed** (`/dev/null`), stdout and stderr piped.
 * - **Clean environment**: only `PATH`, the configured variables and {@link RUN_MARKER}. `PATH` is {@link DEFAULT_PATH}, not
 *   tally's own (a service manager's `PATH` is arbitrary and should not change what a script finds); a
 *   configured `PATH` replaces it.
 * - **Configured working directory and user** (uid/gid; the supplementary groups become just the gid on
 *   both Bun and Deno).
 * - **Capped output**: stdout up to `maxStdout` bytes; a script that prints more is killed at once
 *   (SIGKILL to the group: the output is cut anyway, and reading an endless flood would cost tally CPU
 *   until the limit) and the result is marked `stdoutTruncated`. stderr up to `maxStderr` bytes; beyond
 *   that it is read and discarded so the script never blocks on a full pipe.
 * - **Hard limit**: at `limit − grace` (grace {@link GRACE_MS}, at most half the limit) SIGTERM goes to
 *   the whole group, and at `limit − ` {@link KILL_LEAD_MS} SIGKILL does, so the group is gone by the
 *   limit, not after it. Before each signal the process tree is read from `/proc` (Linux) and members that
 *   left the group (`setpgid`, `setsid`) get the same signal one by one. If a pipe is still open
 *   {@link CLOSE_WAIT_MS} after the limit (held by a process we could not find), we stop reading it and
 *   name the processes holding it (`pipeHolders`); a stop waits the grace plus that, not the limit.
 * - **Always reaped**: the promise settles only after the child's `exit` event. When a run ends normally,
 *   anything it left in its process group is killed too (a run leaves no processes behind).
 *
 * Known limit: a process that leaves the session (`setsid`) and is orphaned (double fork) before the
 * sandbox reads `/proc` is no longer linked to the script and survives. Daemons started on purpose
 * (`service apache2 restart`) do exactly that and are left alone. Run tally under a service manager that
 * kills its control group on stop (systemd's default `KillMode=control-group`) to catch those too.
 *
 * @module
 */

import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { constants as fsConstants } from "node:fs";
import { access, stat } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { findLeftovers, findPipeHolders, readProcStat, signalEach } from "./_proc_tree.ts";
import type { PipeHolder, ProcStat } from "./_proc_tree.ts";

/** The `PATH` scripts get unless configured: the usual system directories, nothing from tally's environment. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** How long before the hard limit SIGTERM is sent (capped at half the limit). */
export const GRACE_MS = 500;

/** How long before the hard limit SIGKILL is sent, so that the group is gone by the limit. */
export const KILL_LEAD_MS = 25;

/** How long after the limit a pipe still held open by an unknown process is waited for. */
export const CLOSE_WAIT_MS = 250;

/** How one command runs. */
export interface SandboxOptions {
  /** The environment variables besides `PATH` (a `PATH` here replaces {@link DEFAULT_PATH}). */
  readonly env: Readonly<Record<string, string>>;
  /** The working directory: absolute, or resolved against tally's working directory. */
  readonly cwd: string;
  /** The user and group to run as, or `undefined` to run as tally's own user. */
  readonly user: { readonly uid: number; readonly gid: number } | undefined;
  /** The hard limit in ms: the process group is gone by then. */
  readonly limitMs: number;
  /** The most stdout bytes kept; a script printing more is killed. */
  readonly maxStdout: number;
  /** The most stderr bytes kept; more is read and discarded. */
  readonly maxStderr: number;
  /** Aborting stops the run as the limit would: SIGTERM now, SIGKILL after the grace. */
  readonly signal?: AbortSignal;
}

/** What a run did. */
export interface SandboxResult {
  /** The process id (also its group and session id). */
  readonly pid: number;
  /** The exit code, or `null` when a signal ended the process. */
  readonly exitCode: number | null;
  /** The signal that ended the process (`SIGKILL`, …), or `null` when it exited. */
  readonly signal: string | null;
  /** The run reached its limit and was killed (or, having exited, still held its pipes open). */
  readonly timedOut: boolean;
  /** The run was stopped because `options.signal` aborted. */
  readonly aborted: boolean;
  /** The captured stdout, at most `maxStdout` bytes. */
  readonly stdout: Uint8Array;
  /** stdout went past `maxStdout`; the script was killed and the rest discarded. */
  readonly stdoutTruncated: boolean;
  /** The captured stderr, at most `maxStderr` bytes. */
  readonly stderr: Uint8Array;
  /** stderr went past `maxStderr`; the rest was discarded. */
  readonly stderrTruncated: boolean;
  /** How many processes outside the script's group (or left behind after it ended) were signalled. */
  readonly strays: number;
  /**
   * The processes that still held stdout or stderr open when tally stopped reading them (at the limit, or
   * at a stop): typically a daemon the script started without redirecting its output. Empty normally.
   */
  readonly pipeHolders: readonly PipeHolder[];
  /** The wall time from spawn to reaping, in ms. */
  readonly durationMs: number;
}

/**
 * The environment variable that marks every process of one run (`TALLY_RUN=<tally pid>.<run number>`).
 * Daemons keep their environment through a double fork, so it finds what keeps a run's output open
 * after the script is gone, when no parent link, group or session leads there any more.
 */
export const RUN_MARKER = "TALLY_RUN";

let runNumber = 0;

/** A command that could not be started: not found, not executable, a bad working directory or user. */
export class SpawnError extends Error {
  override readonly name = "SpawnError";
  /** The errno code when there was one (`ENOENT`, `EACCES`, `EPERM`). */
  readonly code: string | undefined;

  /**
   * @param message What failed, sentence case.
   * @param code The errno code.
   * @param options The underlying error as `cause`.
   */
  constructor(message: string, code: string | undefined, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOEXEC: "not an executable format",
  ENOTDIR: "a path component is not a directory",
  E2BIG: "argument list too long",
};

/**
 * Runs `argv` once in the sandbox and collects its output.
 *
 * @param argv The command and its arguments (already split; the mode flag included).
 * @param options Environment, directory, user, limit and caps.
 * @returns What the run did; a timeout or a non-zero exit is a result, not an error.
 * @throws {SpawnError} When the command cannot be started (not found, not executable, bad `cwd`, the
 *   user cannot enter the directory).
 * @example
 * ```ts
 * const result = await runSandboxed(["/srv/scripts/net.sh", "-d"], {
 *   env: {}, cwd: "/", user: undefined, limitMs: 5000, maxStdout: 1 << 20, maxStderr: 64 << 10,
 * });
 * if (result.timedOut) console.log("killed at the limit");
 * ```
 */
export async function runSandboxed(argv: readonly string[], options: SandboxOptions): Promise<SandboxResult> {
  options.signal?.throwIfAborted();
  const marker = `${RUN_MARKER}=${process.pid}.${++runNumber}`;
  const env: Record<string, string> = {
    PATH: DEFAULT_PATH,
    ...options.env,
    [RUN_MARKER]: marker.slice(RUN_MARKER.length + 1),
  };
  const cwd = resolve(options.cwd);
  const file = await resolveCommand(argv, env["PATH"] ?? DEFAULT_PATH, cwd);
  const started = performance.now();
  let child: ChildProcess;
  try {
    child = spawn(file, argv.slice(1), {
      cwd,
      env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      ...(options.user === undefined ? {} : { uid: options.user.uid, gid: options.user.gid }),
    });
  } catch (error) {
    throw spawnError(argv, error, options);
  }
  return await supervise(child, argv, { ...options, marker }, started);
}

/**
 * Looks `argv[0]` up like `execvp` would, so that both runtimes agree and errors name the problem.
 *
 * @param argv The command line; only `argv[0]` is looked up.
 * @param path The `PATH` the script gets.
 * @param cwd The absolute working directory a relative command resolves against.
 * @returns The executable's path.
 * @throws {SpawnError} When the directory is not one, or no executable file is found.
 */
export async function resolveCommand(argv: readonly string[], path: string, cwd: string): Promise<string> {
  const name = argv[0] ?? "";
  const where = await stat(cwd).catch(() => undefined);
  if (where === undefined || !where.isDirectory()) {
    throw new SpawnError(
      `Cannot run ${JSON.stringify(argv.join(" "))}: the working directory "${cwd}" is not a directory`,
      "ENOENT",
    );
  }
  if (name.includes("/")) return isAbsolute(name) ? name : resolve(cwd, name);
  // Empty PATH entries mean "the working directory" in POSIX; a sandbox does not search there.
  for (const dir of path.split(":")) {
    if (!isAbsolute(dir)) continue;
    const candidate = `${dir}/${name}`;
    try {
      await access(candidate, fsConstants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // Not here; try the next directory.
    }
  }
  throw new SpawnError(
    `Cannot run ${JSON.stringify(argv.join(" "))}: "${name}" is not an executable file in PATH "${path}"`,
    "ENOENT",
  );
}

function spawnError(argv: readonly string[], error: unknown, options: SandboxOptions): SpawnError {
  const code = (error as { code?: unknown }).code;
  const text = typeof code === "string" ? code : undefined;
  const reason = text === undefined ? String(error) : REASONS[text] ?? text;
  const as = options.user === undefined ? "" : ` as uid ${options.user.uid}`;
  return new SpawnError(
    `Cannot run ${JSON.stringify(argv.join(" "))}${as} in "${resolve(options.cwd)}": ${reason}`,
    text,
    { cause: error },
  );
}

/** Watches one child until it is reaped; see the module doc for the timeline. */
function supervise(
  child: ChildProcess,
  argv: readonly string[],
  options: SandboxOptions & { readonly marker: string },
  started: number,
): Promise<SandboxResult> {
  const marker = options.marker;
  return new Promise<SandboxResult>(function superviseChild(resolvePromise, rejectPromise) {
    const limit = options.limitMs;
    const grace = Math.min(GRACE_MS, Math.floor(limit / 2));
    const killLead = Math.min(KILL_LEAD_MS, Math.floor(grace / 2));
    const stdout: Uint8Array[] = [];
    const stderr: Uint8Array[] = [];
    let stdoutBytes = 0;
    let stderrBytes = 0;
    let stdoutTruncated = false;
    let stderrTruncated = false;
    let timedOut = false;
    let aborted = false;
    let exited = false;
    let exitCode: number | null = null;
    let exitSignal: string | null = null;
    let openPipes = 2;
    let strays = 0;
    let settled = false;
    let killed = false;
    // Processes seen at SIGTERM time: once the leader dies its children lose their link to it.
    let seen: ProcStat[] = [];
    const timers: Array<ReturnType<typeof setTimeout>> = [];

    // Later "error" events (a failed kill) carry nothing the result does not already say.
    child.on("error", function onSpawnError(error) {
      if (child.pid !== undefined || settled) return;
      settled = true;
      clearTimers();
      options.signal?.removeEventListener("abort", onAbort);
      rejectPromise(spawnError(argv, error, options));
    });
    if (child.pid === undefined) {
      // The runtime reports the failure through "error" (Node, Bun) before any other event.
      child.stdout?.resume();
      child.stderr?.resume();
      return;
    }
    const pid = child.pid;
    let pipeHolders: PipeHolder[] = [];

    child.stdout!.on("data", function onStdout(chunk: Uint8Array) {
      if (stdoutTruncated) return;
      const room = options.maxStdout - stdoutBytes;
      if (chunk.length > room) {
        if (room > 0) stdout.push(chunk.subarray(0, room));
        stdoutBytes += Math.max(room, 0);
        stdoutTruncated = true;
        kill("SIGKILL");
        return;
      }
      stdout.push(chunk);
      stdoutBytes += chunk.length;
    });
    child.stderr!.on("data", function onStderr(chunk: Uint8Array) {
      if (stderrTruncated) return;
      const room = options.maxStderr - stderrBytes;
      if (chunk.length > room) {
        if (room > 0) stderr.push(chunk.subarray(0, room));
        stderrBytes += Math.max(room, 0);
        stderrTruncated = true;
        return;
      }
      stderr.push(chunk);
      stderrBytes += chunk.length;
    });
    child.stdout!.once("close", onPipeClosed);
    child.stderr!.once("close", onPipeClosed);
    child.stdout!.on("error", ignore);
    child.stderr!.on("error", ignore);
    child.once("exit", function onExit(code, signal) {
      exited = true;
      exitCode = code;
      exitSignal = signal;
      maybeFinish();
    });

    timers.push(setTimeout(function terminate() {
      timedOut = true;
      kill("SIGTERM");
    }, limit - grace));
    timers.push(setTimeout(function hardKill() {
      timedOut = true;
      kill("SIGKILL");
    }, limit - killLead));
    timers.push(setTimeout(function stopWaitingAtLimit() {
      timedOut = true;
      stopWaitingForPipes();
    }, limit + CLOSE_WAIT_MS));

    function onAbort(): void {
      aborted = true;
      kill("SIGTERM");
      timers.push(setTimeout(() => kill("SIGKILL"), grace));
      // A stop must not wait for the limit on a pipe that a daemon holds.
      timers.push(setTimeout(stopWaitingForPipes, grace + CLOSE_WAIT_MS));
    }

    /** Something outside our reach holds a pipe: name it, then stop reading so the run can end once reaped. */
    function stopWaitingForPipes(): void {
      if (settled || openPipes === 0) return;
      pipeHolders = findPipeHolders(marker);
      child.stdout?.destroy();
      child.stderr?.destroy();
    }
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted === true) onAbort();

    function onPipeClosed(): void {
      openPipes--;
      maybeFinish();
    }

    /** Signals the group and every stray descendant; SIGKILL is sent once. */
    function kill(signal: "SIGTERM" | "SIGKILL"): void {
      if (settled || killed) return;
      // SIGTERM: read the tree first, while every parent link is intact. SIGKILL: hit the group first, so
      // the /proc scan (≈10 µs per process on the host) never pushes the group's death past the limit;
      // strays were mostly seen at SIGTERM time, and re-parented ones keep their group and session.
      if (signal === "SIGKILL") {
        killed = true;
        signalGroup(signal);
        remember(findLeftovers(pid));
        strays += signalEach(seen.filter((stat) => stat.pgid !== pid), signal);
      } else {
        remember(findLeftovers(pid));
        signalGroup(signal);
        signalEach(seen.filter((stat) => stat.pgid !== pid), signal);
      }
    }

    function signalGroup(signal: "SIGTERM" | "SIGKILL"): void {
      if (exited && !isGroupOurs(pid)) return;
      try {
        process.kill(-pid, signal);
      } catch {
        // The group is already empty.
      }
    }

    function remember(found: readonly ProcStat[]): void {
      const all = new Map<number, ProcStat>();
      for (const stat of [...seen, ...found]) all.set(stat.pid, stat);
      seen = [...all.values()];
    }

    function maybeFinish(): void {
      if (settled || !exited || openPipes > 0) return;
      settled = true;
      clearTimers();
      options.signal?.removeEventListener("abort", onAbort);
      void finish();
    }

    async function finish(): Promise<void> {
      // The run is over: nothing it started may outlive it (the leader's exit leaves its group behind).
      if (!killed && isGroupOurs(pid)) {
        const left = findLeftovers(pid);
        strays += Math.max(left.length, 1);
        seen = left;
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // Raced with the last member's exit.
        }
        signalEach(left.filter((stat) => stat.pgid !== pid), "SIGKILL");
      }
      // A SIGKILLed process closes its pipes a moment before it is dead: wait for that moment, so that
      // when the run resolves, none of its processes runs any more.
      if (seen.length > 0) await untilGone(seen, CLOSE_WAIT_MS);
      const stdoutBytesKept = trimTo(stdout, stdoutBytes, stdoutTruncated || timedOut || aborted);
      resolvePromise({
        pid,
        exitCode,
        signal: exitSignal,
        timedOut,
        aborted,
        stdout: stdoutBytesKept,
        stdoutTruncated,
        stderr: concat(stderr, stderrBytes),
        stderrTruncated,
        strays,
        pipeHolders,
        durationMs: performance.now() - started,
      });
    }

    function clearTimers(): void {
      for (const timer of timers) clearTimeout(timer);
    }
  });
}

function ignore(): void {}

/** Polls until none of `processes` runs (gone, a zombie, or its pid reused), for at most `maxMs`. */
async function untilGone(processes: readonly ProcStat[], maxMs: number): Promise<void> {
  const deadline = performance.now() + maxMs;
  let left = processes;
  while (performance.now() < deadline) {
    left = left.filter((stat) => {
      const now = readProcStat(stat.pid);
      return now !== undefined && now.startTime === stat.startTime && now.state !== "Z";
    });
    if (left.length === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/**
 * Whether the process group `pid` still has members that are ours: after the leader was reaped its pid
 * cannot be reused while the group has members, so a live group without a live `pid` process is ours.
 * When `/proc/<pid>` exists again, the pid was reused by someone else and the group is not touched.
 */
function isGroupOurs(pid: number): boolean {
  try {
    process.kill(-pid, 0);
  } catch {
    return false;
  }
  const leader = readProcStat(pid);
  return leader === undefined || leader.state === "Z";
}

/** Joins the chunks; when the output was cut, drops the partial last line so no value is half-read. */
function trimTo(chunks: readonly Uint8Array[], length: number, cut: boolean): Uint8Array {
  const bytes = concat(chunks, length);
  if (!cut) return bytes;
  const end = bytes.lastIndexOf(0x0a);
  return bytes.subarray(0, end + 1);
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]!.length === length) return new Uint8Array(chunks[0]!);
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
