/**
 * The `scripts` input's scheduler: runs each configured script on its own timer, in the sandbox, and
 * hands what it printed to the pipeline as one script frame per run.
 *
 * - Every script runs once at start, then at wall-clock multiples of its period plus a fixed offset
 *   derived from its id (so 500 scripts with a 60 s period spread over the minute instead of all forking
 *   at :00, and each one runs at the same second every minute).
 * - CoScale scripts: `<command> -c` (1 s, exit 0) is run at start and again whenever the script file
 *   changes (mtime, size or inode of `argv[0]` when it is a path, and of the first argument naming an
 *   existing file: the script of `python3 /srv/x.py`). When it fails, the last good definitions stay in
 *   use and the next run tries again; until one succeeds, data runs are skipped (`reason="no_definitions"`).
 *   The script's `period` (s) applies unless the operator set one, raised to `min_period`; its `maxruntime`
 *   (ms) lowers the hard limit, never raises it.
 * - Each period `<command> -d` (other formats: the command as written, no flag) runs and its stdout
 *   becomes a frame: a JSON header (`ScriptFrameHeader`: script id, run start, exit code, timed out,
 *   definitions, labels) plus the raw output. Output is used whatever the exit code: lines printed before
 *   a non-zero exit, or before the kill at the limit, are kept (a partial last line is dropped). The exit
 *   code is counted and, for Nagios, becomes the service state. Each script registers with the pipeline
 *   on its own (`ctx.register({ script })`, when the context offers it), so the workers count its lines
 *   and bad lines apart from the other scripts'.
 * - A run still going (or still waiting for a slot) when the next is due makes that next run skipped and
 *   counted (`reason="overlap"` / `"concurrency"`). At most `max_concurrent` runs go at once; the others
 *   wait in arrival order. Spawns and reads are asynchronous and each script has its own timer, so a hung
 *   script delays no other script, input or flush.
 *
 * @module
 */

import { resolve } from "node:path";
import { clearTimeout, setTimeout } from "node:timers";
import { encodeScriptFrame } from "../../formats/script_frame.ts";
import type { ScriptFrameHeader } from "../../formats/script_frame.ts";
import type { CoscaleDefinitions } from "../../formats/coscale_definitions.ts";
import { SelfStats } from "../../internal/self_stats.ts";
import type { Logger } from "../../internal/log.ts";
import { FORMAT_IDS } from "../../model/frame.ts";
import type { FormatId } from "../../model/frame.ts";
import type { Input, InputContext } from "../input.ts";
import type { ScriptConfig, ScriptFormat, ScriptsConfig } from "./config.ts";
import { fingerprintOf } from "./_fingerprint.ts";
import { resolveUser } from "./_passwd.ts";
import type { UserIds } from "./_passwd.ts";
import { readDefinitions } from "./_read_definitions.ts";
import { type ScriptCells, scriptCells } from "./_script_cells.ts";
import { CLOSE_WAIT_MS, GRACE_MS, runSandboxed, SpawnError } from "./sandbox.ts";
import type { SandboxOptions, SandboxResult } from "./sandbox.ts";

/** The period when neither the operator nor a CoScale script gives one (CoScale's documented cadence). */
export const DEFAULT_PERIOD_MS = 60_000;

/** The wire format of each script output format. */
export const FORMAT_OF: Readonly<Record<ScriptFormat, FormatId>> = {
  coscale: FORMAT_IDS.coscale_script,
  nagios: FORMAT_IDS.nagios,
  prometheus: FORMAT_IDS.prom_text,
  influx: FORMAT_IDS.influx_line,
};

/** How often a repeated warning about one script (stderr, exit code, timeout) may be logged. */
const WARN_EVERY_MS = 60_000;
/** The most stderr characters quoted in a log line. */
const STDERR_LOG_CHARS = 512;
/** Logged when a run's output stays open after the script is gone; the fields name who holds it. */
export const PIPE_HELD_MESSAGE = "Script left a process holding its output pipe open";
const PIPE_HELD_HINT = "start daemons with their output redirected (cmd >/dev/null 2>&1 &) or through the " +
  "service manager; tally stops reading at the run's limit, or at once when it stops";

/** How long stop() waits for runs past their SIGKILL (a process stuck in the kernel cannot be reaped). */
const STOP_WAIT_MS = GRACE_MS + CLOSE_WAIT_MS + 1000;

/** One configured script and what the scheduler knows about it. */
interface Script {
  readonly config: ScriptConfig;
  readonly id: string;
  readonly log: Logger;
  readonly cells: ScriptCells;
  /** Hands a frame of this script to the pipeline, which counts its lines and bad lines per script. */
  readonly emit: (bytes: Uint8Array, format: FormatId) => boolean;
  readonly user: UserIds | undefined;
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** The per-script offset inside the period, from its id. */
  readonly offsetSeed: number;
  definitions: CoscaleDefinitions | undefined;
  /** The watched files' identity when the definitions were last read successfully. */
  fingerprint: string | undefined;
  periodMs: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  nextDueMs: number;
  /** A run is executing. */
  running: boolean;
  /** A run is waiting for a concurrency slot. */
  waiting: boolean;
  /** The first run (at start) has not finished yet: waiting for a slot meanwhile is not counted. */
  starting: boolean;
}

/** A run waiting for a concurrency slot. */
interface Waiter {
  readonly start: () => void;
  readonly cancel: () => void;
}

/**
 * A running `scripts` input: a resource that owns its timers and child processes.
 *
 * @example
 * ```ts
 * const input = new ScriptsInput(v.parse(schema, { scripts: [{ command: "/srv/net.sh" }] }), "scripts");
 * await input.start(ctx); // scheduled; the first runs are under way
 * await input.stop(); // every child reaped, no frame emitted after this resolves
 * ```
 */
export class ScriptsInput implements Input {
  readonly #config: ScriptsConfig;
  readonly #id: string;
  #ctx: InputContext | undefined;
  #scripts: Script[] = [];
  #stopped = false;
  #stopping: Promise<void> | undefined;
  readonly #abort = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #queue: Waiter[] = [];
  #active = 0;
  #onAbort: (() => void) | undefined;

  /**
   * @param config The validated config.
   * @param id The component id (the config key), for self-metrics labels.
   */
  constructor(config: ScriptsConfig, id: string) {
    this.#config = config;
    this.#id = id;
  }

  /**
   * Resolves the users, schedules every script and starts the first runs (without waiting for them).
   *
   * @param ctx The collector's side: `register` (one emit per script; `emit` when absent), the logger and
   *   counters.
   * @returns Resolves once every script is scheduled.
   * @throws {Error} When started twice, or when tally runs as root and a configured user is not found.
   */
  // deno-lint-ignore require-await
  async start(ctx: InputContext): Promise<void> {
    if (this.#ctx !== undefined) {
      throw new Error(`Cannot start scripts input "${this.#id}": it was already started`);
    }
    this.#ctx = ctx;
    const root = process.getuid?.() === 0;
    const selfStats = ctx.selfStats ?? new SelfStats();
    const users = new Map<string, UserIds>();
    const scripts: Script[] = [];
    for (const config of this.#config.scripts) {
      const userName = config.user ?? this.#config.user;
      let user: UserIds | undefined;
      if (root) {
        user = users.get(userName);
        if (user === undefined) {
          try {
            user = resolveUser(userName);
          } catch (error) {
            throw new Error(
              `Cannot start scripts input "${this.#id}": script "${config.id}" runs as "${userName}", ` +
                `which cannot be resolved`,
              { cause: error },
            );
          }
          users.set(userName, user);
          if (user.uid === 0) {
            ctx.log.warn("Scripts run as root: a script can do anything tally can", { user: userName });
          }
        }
      } else if (config.user !== undefined) {
        ctx.log.warn("Script runs as tally's own user: switching users needs root", {
          script: config.id,
          user: config.user,
        });
      }
      scripts.push({
        config,
        id: config.id,
        log: ctx.log.child({ script: config.id }),
        cells: scriptCells(selfStats, this.#id, config.id),
        emit: ctx.register?.({ script: config.id }) ??
          function emitShared(bytes: Uint8Array, format: FormatId): boolean {
            return ctx.emit(bytes, format);
          },
        user,
        env: { ...this.#config.env, ...config.env },
        cwd: resolve(config.cwd ?? process.cwd()),
        offsetSeed: fnv1a(`${this.#id}/${config.id}`),
        definitions: undefined,
        fingerprint: undefined,
        periodMs: config.period ?? Math.max(DEFAULT_PERIOD_MS, this.#config.min_period),
        timer: undefined,
        nextDueMs: 0,
        running: false,
        waiting: false,
        starting: true,
      });
    }
    this.#scripts = scripts;
    this.#onAbort = () => void this.stop();
    ctx.signal.addEventListener("abort", this.#onAbort, { once: true });
    for (const script of scripts) {
      this.#schedule(script, Date.now());
      this.#due(script);
    }
  }

  /**
   * Stops: cancels the timers and the runs waiting for a slot, and ends the running ones (SIGTERM to their
   * groups, SIGKILL after the grace).
   *
   * @returns Resolves when every child is reaped (or, for a process stuck in the kernel, after a bounded
   *   wait); no frame is emitted after. Calling it again returns the same promise.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  /**
   * The scheduler's view of each script, for tests and diagnostics.
   *
   * @returns Per script: id, effective period, whether definitions are loaded.
   */
  scripts(): ReadonlyArray<
    { readonly id: string; readonly periodMs: number; readonly hasDefinitions: boolean }
  > {
    return this.#scripts.map((s) => ({
      id: s.id,
      periodMs: s.periodMs,
      hasDefinitions: s.definitions !== undefined,
    }));
  }

  async #stopAll(): Promise<void> {
    this.#stopped = true;
    if (this.#onAbort !== undefined) this.#ctx?.signal.removeEventListener("abort", this.#onAbort);
    for (const script of this.#scripts) {
      if (script.timer !== undefined) clearTimeout(script.timer);
      script.timer = undefined;
    }
    for (const waiter of this.#queue.splice(0)) waiter.cancel();
    this.#abort.abort();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const bounded = new Promise<void>((done) => {
      timer = setTimeout(done, STOP_WAIT_MS);
    });
    await Promise.race([Promise.allSettled([...this.#inFlight]), bounded]);
    clearTimeout(timer);
    if (this.#inFlight.size > 0) {
      this.#ctx?.log.warn("Script runs still not reaped at stop (stuck in the kernel?)", {
        runs: this.#inFlight.size,
      });
    }
  }

  /** Arms the timer for the next due time strictly after `afterMs`. */
  #schedule(script: Script, afterMs: number): void {
    if (this.#stopped) return;
    if (script.timer !== undefined) clearTimeout(script.timer);
    const period = script.periodMs;
    const offset = script.offsetSeed % period;
    const due = Math.floor((afterMs - offset) / period) * period + offset + period;
    script.nextDueMs = due;
    script.timer = setTimeout(() => this.#tick(script), Math.max(0, due - Date.now()));
    script.timer.unref?.();
  }

  /** A timer fired: start a run (or count a skip) and arm the next timer. */
  #tick(script: Script): void {
    script.timer = undefined;
    // From the due time, not from now, so a late timer does not shift the schedule; from now if we fell
    // a whole period behind (a suspended machine).
    const now = Date.now();
    this.#schedule(script, script.nextDueMs + script.periodMs > now ? script.nextDueMs : now);
    this.#due(script);
  }

  /** A run is due: skip it if the previous is still busy, else queue it for a slot. */
  #due(script: Script): void {
    if (this.#stopped) return;
    if (script.running || script.waiting) {
      const reason = script.running ? "overlap" : "concurrency";
      // Waiting for a slot behind the start-up burst is not worth counting; a run that overruns is.
      if (!(script.starting && reason === "concurrency")) {
        script.cells.skipped(reason).add();
        script.log.every(
          `skip:${script.id}`,
          WARN_EVERY_MS,
          reason === "overlap"
            ? "Script run skipped: the previous run is still going"
            : "Script run skipped: still waiting for a free slot (raise max_concurrent?)",
          { reason, max_concurrent: this.#config.max_concurrent },
        );
      }
      return;
    }
    script.waiting = true;
    this.#acquire({
      start: () => {
        script.waiting = false;
        script.running = true;
        const run = this.#run(script).catch((error: unknown) => {
          script.log.error("Script run failed", {
            error: error instanceof Error ? error.message : String(error),
          });
        }).finally(() => {
          script.running = false;
          script.starting = false;
          this.#inFlight.delete(run);
          this.#release();
        });
        this.#inFlight.add(run);
      },
      cancel: () => {
        script.waiting = false;
      },
    });
  }

  #acquire(waiter: Waiter): void {
    if (this.#active < this.#config.max_concurrent) {
      this.#active++;
      waiter.start();
    } else {
      this.#queue.push(waiter);
    }
  }

  #release(): void {
    const next = this.#stopped ? undefined : this.#queue.shift();
    if (next === undefined) {
      this.#active--;
      return;
    }
    next.start();
  }

  /** One cycle: definitions if needed (CoScale), then the data run and its frame. */
  async #run(script: Script): Promise<void> {
    const coscale = script.config.format === "coscale";
    if (coscale) {
      await this.#refreshDefinitions(script);
      if (this.#stopped) return;
      if (script.definitions === undefined) {
        script.cells.skipped("no_definitions").add();
        return;
      }
    }
    const runMs = Date.now();
    const argv = coscale ? [...script.config.command, "-d"] : script.config.command;
    let result: SandboxResult;
    script.cells.runs.add();
    try {
      result = await runSandboxed(argv, this.#sandboxOptions(script, this.#limitOf(script)));
    } catch (error) {
      this.#spawnFailed(script, "data", error);
      return;
    }
    this.#account(script, "data", result);
    script.cells.duration.set(result.durationMs / 1000);
    if (result.timedOut) script.cells.timeouts.add();
    if (result.stdoutTruncated) {
      script.cells.truncations.add();
      script.log.every(
        `truncated:${script.id}`,
        WARN_EVERY_MS,
        "Script output cut at max_stdout; the script was killed",
        {
          max_stdout: this.#config.max_stdout,
        },
      );
    }
    if (this.#stopped || result.aborted) return;
    if (result.stdout.length === 0 && script.config.format !== "nagios") return;
    script.emit(
      encodeScriptFrame(this.#header(script, runMs, result), result.stdout),
      FORMAT_OF[script.config.format],
    );
  }

  #header(script: Script, runMs: number, result: SandboxResult): ScriptFrameHeader {
    const { config } = script;
    return {
      script: script.id,
      runMs,
      ...(result.exitCode === null ? {} : { exitCode: result.exitCode }),
      ...(result.timedOut ? { timedOut: true } : {}),
      ...(config.format === "coscale" && script.definitions !== undefined
        ? { definitions: script.definitions }
        : {}),
      ...(config.labels === undefined ? {} : { labels: config.labels }),
      ...(config.format === "influx" && config.precision !== undefined
        ? { precision: config.precision }
        : {}),
    };
  }

  /** Runs `-c` when the script file changed (or was never read), keeping the last good definitions. */
  async #refreshDefinitions(script: Script): Promise<void> {
    const fingerprint = await fingerprintOf(script.config.command, script.cwd);
    if (script.definitions !== undefined && fingerprint === script.fingerprint) return;
    script.cells.configRuns.add();
    let outcome;
    try {
      outcome = await readDefinitions(
        script.config.command,
        this.#sandboxOptions(script, this.#baseLimit(script)),
      );
    } catch (error) {
      // Only an abort gets here (stop during the run): nothing to count.
      if (this.#stopped) return;
      throw error;
    }
    if (outcome.run !== undefined) {
      this.#account(script, "config", outcome.run);
      script.cells.configDuration.set(outcome.run.durationMs / 1000);
      if (outcome.run.timedOut) script.cells.configTimeouts.add();
    } else {
      script.cells.exits("config", "spawn_error").add();
    }
    if (this.#stopped) return;
    if (outcome.kind === "failed") {
      script.cells.configErrors.add();
      this.#ctx!.stats.errors("script_config").add();
      script.log.every(
        `config:${script.id}`,
        WARN_EVERY_MS,
        script.definitions === undefined
          ? "Script definitions (-c) unusable; its data runs wait until they are fixed"
          : "Script definitions (-c) unusable; keeping the previous ones",
        { reason: outcome.reason, problem: outcome.message },
      );
      return;
    }
    const first = script.definitions === undefined;
    script.definitions = outcome.definitions;
    script.fingerprint = fingerprint;
    const { metrics, events } = outcome.definitions;
    script.log.info(first ? "Script definitions loaded" : "Script definitions reloaded", {
      metrics: metrics.length,
      events: events.length,
      warnings: outcome.warnings.length,
      first_warning: outcome.warnings[0] === undefined
        ? undefined
        : `${outcome.warnings[0].path}: ${outcome.warnings[0].reason}`,
    });
    const period = this.#periodOf(script);
    if (period !== script.periodMs) {
      script.periodMs = period;
      this.#schedule(script, Date.now());
    }
  }

  /** The operator's period, else the script's (raised to min_period), else the default. */
  #periodOf(script: Script): number {
    if (script.config.period !== undefined) return script.config.period;
    const declared = script.definitions?.periodS;
    const period = declared === undefined ? DEFAULT_PERIOD_MS : declared * 1000;
    return Math.max(period, this.#config.min_period);
  }

  /** The operator's limit for this script. */
  #baseLimit(script: Script): number {
    return script.config.timeout ?? this.#config.timeout;
  }

  /** The data-mode limit: the operator's, lowered by a CoScale script's `maxruntime`. */
  #limitOf(script: Script): number {
    const base = this.#baseLimit(script);
    const declared = script.definitions?.maxRuntimeMs;
    return declared === undefined ? base : Math.max(100, Math.min(base, declared));
  }

  #sandboxOptions(script: Script, limitMs: number): SandboxOptions {
    return {
      env: script.env,
      cwd: script.cwd,
      user: script.user,
      limitMs,
      maxStdout: this.#config.max_stdout,
      maxStderr: this.#config.max_stderr,
      signal: this.#abort.signal,
    };
  }

  /** Counts a finished run's exit and logs (rate-limited) its stderr, exit code and timeout. */
  #account(script: Script, mode: "config" | "data", result: SandboxResult): void {
    if (result.pipeHolders.length > 0) {
      script.log.every(`pipe:${script.id}`, WARN_EVERY_MS, PIPE_HELD_MESSAGE, {
        mode,
        holders: result.pipeHolders.map((p) => `${p.pid}${p.command === "" ? "" : ` (${p.command})`}`).join(
          ", ",
        ),
        hint: PIPE_HELD_HINT,
      });
    }
    if (result.aborted) return;
    const code = result.exitCode === null ? result.signal ?? "signal" : String(result.exitCode);
    script.cells.exits(mode, code).add();
    if (result.strays > 0) script.cells.strays.add(result.strays);
    if (result.timedOut) {
      this.#ctx!.stats.errors("script_timeout").add();
      const declared = script.definitions?.maxRuntimeMs;
      script.log.every(`timeout:${script.id}:${mode}`, WARN_EVERY_MS, "Script killed at its time limit", {
        mode,
        duration_ms: Math.round(result.durationMs),
        ...(mode === "config" ? {} : {
          limit_ms: this.#limitOf(script),
          timeout_ms: this.#baseLimit(script),
          ...(declared === undefined ? {} : { maxruntime_ms: declared }),
          hint: "the limit is the lower of the `timeout` key (at most 60s) and a declared maxruntime",
        }),
      });
    } else if (result.exitCode !== 0 && mode === "data" && script.config.format !== "nagios") {
      script.log.every(
        `exit:${script.id}`,
        WARN_EVERY_MS,
        "Script exited with an error; its output is still used",
        {
          mode,
          code,
        },
      );
    }
    if (result.stderr.length > 0) {
      const text = new TextDecoder().decode(result.stderr.subarray(0, STDERR_LOG_CHARS * 4)).slice(
        0,
        STDERR_LOG_CHARS,
      );
      script.log.every(`stderr:${script.id}`, WARN_EVERY_MS, "Script wrote to stderr", {
        mode,
        stderr: text.trimEnd(),
        truncated: result.stderrTruncated || undefined,
      });
    }
  }

  #spawnFailed(script: Script, mode: "config" | "data", error: unknown): void {
    if (!(error instanceof SpawnError)) {
      if (this.#stopped) return;
      throw error;
    }
    script.cells.exits(mode, "spawn_error").add();
    this.#ctx!.stats.errors("script_spawn").add();
    script.log.every(`spawn:${script.id}`, WARN_EVERY_MS, "Script could not be started", {
      error: error.message,
    });
  }
}

/** FNV-1a, 32 bits: a stable spread of scripts over their period. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}
