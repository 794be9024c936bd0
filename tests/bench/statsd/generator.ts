/**
 * Builds and drives `shared/tools/statsd-gen`, the rate-controlled StatsD load generator, and reads its
 * JSON summary and its per-name counter sums (`-o`), which are the exact totals a correct receiver must
 * reproduce. The binary is compiled into a temporary directory at benchmark start and never committed.
 *
 * @module
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the generator's C source lives: `../shared/tools/statsd-gen.c` beside the repository. */
export const GENERATOR_SOURCE: string = fileURLToPath(
  new URL("../../../../shared/tools/statsd-gen.c", import.meta.url).href,
);

/** One load run: what to send and where. */
export interface GeneratorRun {
  /** The receiver's UDP port on 127.0.0.1. */
  readonly port: number;
  /** The target rate in packets per second. */
  readonly pps: number;
  /** How long to send, in seconds. */
  readonly seconds: number;
  /** StatsD lines per datagram. */
  readonly linesPerPacket: number;
  /** Distinct metric names. */
  readonly names: number;
  /** Type weights, e.g. `c=4,g=2,ms=2,s=1`. */
  readonly mix: string;
  /** Where the generator writes the per-counter-name sums. */
  readonly sumsFile: string;
  /** Called with the generator's PID once it is spawned, e.g. to sample its CPU time. */
  readonly onSpawn?: (pid: number) => void;
}

/** The generator's summary (the fields the benchmark uses), plus its per-name sums. */
export interface GeneratorSummary {
  /** The target rate, packets/s. */
  readonly targetPps: number;
  /** How long it actually sent, seconds. */
  readonly durationS: number;
  /** Packets sent. */
  readonly packetsSent: number;
  /** Packets it meant to send (`rate × duration`). */
  readonly packetsTarget: number;
  /** The rate it achieved, packets/s. */
  readonly achievedPps: number;
  /** Lines sent, all types. */
  readonly linesSent: number;
  /** Counter lines sent. */
  readonly counterLines: number;
  /** Sum of counter values over sample rate: what the receiver's counter totals must add up to. */
  readonly counterSumExpected: number;
  /** `sendmmsg` failures (e.g. ECONNREFUSED while nothing listened). */
  readonly sendErrors: number;
  /** Whether it reached the target rate within 1 %. */
  readonly rateOk: boolean;
  /** Per counter name (`bench.c.K`), the expected sum. */
  readonly sums: ReadonlyMap<string, number>;
}

/** The generator's metric name prefix: names are `bench.TYPE.K`. */
export const GENERATOR_PREFIX = "bench";

const RUNNING = new Set<ChildProcess>();

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
 * Compiles the generator with `cc -O2 … -lm` into `dir`.
 *
 * @param dir A temporary directory.
 * @returns The path of the executable.
 * @throws {Error} When the compiler fails; the message carries its output.
 */
export async function buildGenerator(dir: string): Promise<string> {
  const out = join(dir, "statsd-gen");
  await new Promise<void>((resolve, reject) => {
    execFile("cc", ["-O2", "-o", out, GENERATOR_SOURCE, "-lm"], function onCompiled(error, _stdout, stderr) {
      if (error === null) resolve();
      else reject(new Error(`Cannot compile "${GENERATOR_SOURCE}" with cc: ${error.message}\n${stderr}`));
    });
  });
  return out;
}

/**
 * Runs the generator once and waits for its summary.
 *
 * @param executable The path from {@link buildGenerator}.
 * @param run What to send and where.
 * @returns Its summary and per-name sums.
 * @throws {Error} When it exits non-zero, overruns its duration by 30 s, or prints no JSON summary.
 */
export async function runGenerator(executable: string, run: GeneratorRun): Promise<GeneratorSummary> {
  const args = [
    "-H",
    "127.0.0.1",
    "-p",
    String(run.port),
    "-r",
    String(Math.round(run.pps)),
    "-d",
    String(run.seconds),
    "-l",
    String(run.linesPerPacket),
    "-n",
    String(run.names),
    "-m",
    run.mix,
    "-o",
    run.sumsFile,
    "-q",
  ];
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(executable, args, { stdio: ["ignore", "pipe", "pipe"] });
    RUNNING.add(child);
    if (child.pid !== undefined) run.onSpawn?.(child.pid);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill("SIGKILL"), (run.seconds + 30) * 1000);
    child.once("error", (error) => {
      clearTimeout(timer);
      RUNNING.delete(child);
      reject(new Error(`Cannot run statsd-gen "${executable}": ${error.message}`, { cause: error }));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      RUNNING.delete(child);
      if (code === 0) resolve(Buffer.concat(out).toString());
      else {
        reject(
          new Error(
            `statsd-gen failed with ${signal === null ? `exit code ${code}` : `signal ${signal}`}: ` +
              `"${Buffer.concat(err).toString().trim()}"`,
          ),
        );
      }
    });
  });
  const line = stdout.trim().split("\n").at(-1) ?? "";
  let summary: Record<string, unknown>;
  try {
    summary = JSON.parse(line) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`Cannot parse the statsd-gen summary: expected JSON, found "${line.slice(0, 200)}"`, {
      cause: error,
    });
  }
  const sums = JSON.parse(await readFile(run.sumsFile, "utf8")) as Record<string, number>;
  const byType = summary["lines_by_type"] as Record<string, number> | undefined;
  return {
    targetPps: numberField(summary, "target_pps"),
    durationS: numberField(summary, "duration_s"),
    packetsSent: numberField(summary, "packets_sent"),
    packetsTarget: numberField(summary, "packets_target"),
    achievedPps: numberField(summary, "achieved_pps"),
    linesSent: numberField(summary, "lines_sent"),
    counterLines: byType?.["c"] ?? 0,
    counterSumExpected: numberField(summary, "counter_sum_expected"),
    sendErrors: numberField(summary, "send_errors"),
    rateOk: summary["rate_ok"] === true,
    sums: new Map(Object.entries(sums)),
  };
}

function numberField(summary: Record<string, unknown>, key: string): number {
  const value = summary[key];
  if (typeof value !== "number") {
    throw new Error(
      `Cannot read the statsd-gen summary: field "${key}" is not a number, found "${String(value)}"`,
    );
  }
  return value;
}
