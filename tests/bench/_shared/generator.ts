/**
 * Builds and runs the benchmarks' C load generators (`../shared/tools/*-gen.c`): compile with `cc` into a
 * temporary directory at benchmark start, run one at a time with a kill timer, and read the JSON summary
 * each prints as its last line. What the arguments and the summary's fields mean is each generator's own.
 *
 * @module
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { basename, join } from "node:path";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const RUNNING = new Set<ChildProcess>();

/**
 * Where a generator's C source lives: `shared/tools/FILE` beside the repository, or beside one of its
 * parent folders (a git worktree under `wt/` sits one level deeper than the main checkout).
 *
 * @param file The source file's name, e.g. `statsd-gen.c`.
 * @returns Its absolute path; the one beside the repository when none exists.
 */
export function generatorSource(file: string): string {
  const candidates = ["../../../../", "../../../../../"].map((up) =>
    fileURLToPath(new URL(`${up}shared/tools/${file}`, import.meta.url).href)
  );
  return candidates.find((path) => existsSync(path)) ?? candidates[0]!;
}

/** One generator run. */
export interface GeneratorProcessOptions {
  /** The generator's name in error messages, e.g. `statsd-gen`. */
  readonly name: string;
  /** How long it sends, seconds: it is SIGKILLed 30 s past that. */
  readonly seconds: number;
  /** Called with its PID once it is spawned, e.g. to sample its CPU time. */
  readonly onSpawn?: ((pid: number) => void) | undefined;
}

/**
 * SIGKILLs any generator still running, for an interrupt handler that is about to exit.
 *
 * @returns How many were killed.
 */
export function killAllGenerators(): number {
  const all = [...RUNNING];
  for (const child of all) child.kill("SIGKILL");
  RUNNING.clear();
  return all.length;
}

/**
 * The arguments every generator takes: loopback target, port, rate and duration.
 *
 * @param run The port, rate (packets/s, rounded) and duration (seconds).
 * @returns `-H 127.0.0.1 -p PORT -r PPS -d SECONDS`.
 */
export function targetArgs(
  run: { readonly port: number; readonly pps: number; readonly seconds: number },
): string[] {
  return [
    "-H",
    "127.0.0.1",
    "-p",
    String(run.port),
    "-r",
    String(Math.round(run.pps)),
    "-d",
    String(run.seconds),
  ];
}

/**
 * Compiles a generator with `cc -O2 … -lm` into `dir`, named after its source without `.c`.
 *
 * @param dir A temporary directory.
 * @param source The C source.
 * @returns The path of the executable.
 * @throws {Error} When the compiler fails; the message carries its output.
 */
export async function compileGenerator(dir: string, source: string): Promise<string> {
  const out = join(dir, basename(source, ".c"));
  await new Promise<void>((resolve, reject) => {
    execFile("cc", ["-O2", "-o", out, source, "-lm"], function onCompiled(error, _stdout, stderr) {
      if (error === null) resolve();
      else reject(new Error(`Cannot compile "${source}" with cc: ${error.message}\n${stderr}`));
    });
  });
  return out;
}

/**
 * Runs a generator once and waits for it to exit.
 *
 * @param executable The path from {@link compileGenerator}.
 * @param args Its arguments.
 * @param options Its name, duration and a spawn callback.
 * @returns Its standard output (the summary is the last line; see {@link parseSummaryLine}).
 * @throws {Error} When it cannot start, exits non-zero or overruns its duration by 30 s.
 */
export async function runGeneratorProcess(
  executable: string,
  args: readonly string[],
  options: GeneratorProcessOptions,
): Promise<string> {
  const { name } = options;
  return await new Promise<string>((resolve, reject) => {
    const child = spawn(executable, args, { stdio: ["ignore", "pipe", "pipe"] });
    RUNNING.add(child);
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), (options.seconds + 30) * 1000);
    child.once("error", (error) => {
      clearTimeout(timer);
      RUNNING.delete(child);
      reject(new Error(`Cannot run ${name} "${executable}": ${error.message}`, { cause: error }));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      RUNNING.delete(child);
      if (code === 0) resolve(Buffer.concat(out).toString());
      else {
        reject(
          new Error(
            `${name} failed with ${signal === null ? `exit code ${code}` : `signal ${signal}`}: ` +
              `"${Buffer.concat(err).toString().trim()}"`,
          ),
        );
      }
    });
  });
}

/**
 * Parses the JSON summary a generator prints as the last line of its output.
 *
 * @param stdout Its standard output.
 * @param name The generator's name, for the error message.
 * @returns The summary object.
 * @throws {Error} When the last line is not JSON.
 */
export function parseSummaryLine(stdout: string, name: string): Record<string, unknown> {
  const line = stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`Cannot parse the ${name} summary: expected JSON, found "${line.slice(0, 200)}"`, {
      cause: error,
    });
  }
}

/**
 * Reads one numeric field of a generator's summary.
 *
 * @param summary The summary (or a nested object of it).
 * @param key The field.
 * @param name The generator's name, for the error message.
 * @param parent The nested object's key, for the error message.
 * @returns The number.
 * @throws {Error} When the field is not a number.
 */
export function numberField(
  summary: Record<string, unknown>,
  key: string,
  name: string,
  parent?: string,
): number {
  const value = summary[key];
  if (typeof value !== "number") {
    throw new Error(
      `Cannot read the ${name} summary: field "${parent === undefined ? key : `${parent}.${key}`}" ` +
        `is not a number, found "${String(value)}"`,
    );
  }
  return value;
}
