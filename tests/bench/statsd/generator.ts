/**
 * Builds and drives `shared/tools/statsd-gen`, the rate-controlled StatsD load generator, and reads its
 * JSON summary and its per-name counter sums (`-o`), which are the exact totals a correct receiver must
 * reproduce. The binary is compiled into a temporary directory at benchmark start and never committed.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import {
  compileGenerator,
  generatorSource,
  numberField,
  parseSummaryLine,
  runGeneratorProcess,
  targetArgs,
} from "../_shared/generator.ts";

/** Where the generator's C source lives: `../shared/tools/statsd-gen.c` beside the repository. */
export const GENERATOR_SOURCE: string = generatorSource("statsd-gen.c");

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

/**
 * Compiles the generator with `cc -O2 … -lm` into `dir`.
 *
 * @param dir A temporary directory.
 * @returns The path of the executable.
 * @throws {Error} When the compiler fails; the message carries its output.
 */
export function buildGenerator(dir: string): Promise<string> {
  return compileGenerator(dir, GENERATOR_SOURCE);
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
    ...targetArgs(run),
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
  const stdout = await runGeneratorProcess(executable, args, {
    name: "statsd-gen",
    seconds: run.seconds,
    onSpawn: run.onSpawn,
  });
  const summary = parseSummaryLine(stdout, "statsd-gen");
  const sums = JSON.parse(await readFile(run.sumsFile, "utf8")) as Record<string, number>;
  const byType = summary["lines_by_type"] as Record<string, number> | undefined;
  return {
    targetPps: numberField(summary, "target_pps", "statsd-gen"),
    durationS: numberField(summary, "duration_s", "statsd-gen"),
    packetsSent: numberField(summary, "packets_sent", "statsd-gen"),
    packetsTarget: numberField(summary, "packets_target", "statsd-gen"),
    achievedPps: numberField(summary, "achieved_pps", "statsd-gen"),
    linesSent: numberField(summary, "lines_sent", "statsd-gen"),
    counterLines: byType?.["c"] ?? 0,
    counterSumExpected: numberField(summary, "counter_sum_expected", "statsd-gen"),
    sendErrors: numberField(summary, "send_errors", "statsd-gen"),
    rateOk: summary["rate_ok"] === true,
    sums: new Map(Object.entries(sums)),
  };
}
