/**
 * Builds and drives `shared/tools/collectd-gen`, the rate-controlled generator of collectd binary-protocol
 * packets (1452-byte packets, protocol v5 as collectd writes it), and reads its JSON summary: value lists
 * sent, by type, and the exact sums a lossless receiver reproduces. The binary is compiled into a
 * temporary directory at benchmark start and never committed.
 *
 * @module
 */
import {
  compileGenerator,
  generatorSource,
  numberField,
  parseSummaryLine,
  runGeneratorProcess,
  targetArgs,
} from "../_shared/generator.ts";

/** Where the generator's C source lives: `../shared/tools/collectd-gen.c` beside the repository. */
export const COLLECTD_GENERATOR_SOURCE: string = generatorSource("collectd-gen.c");

const GENERATOR_NAME = "collectd-gen";

/** The host part the generator writes, hence the `instance` label tally gives its series. */
export const GENERATOR_HOST = "benchhost";

/** One load run: what to send and where. */
export interface CollectdGeneratorRun {
  /** The receiver's UDP port on 127.0.0.1. */
  readonly port: number;
  /** The target rate in packets per second. */
  readonly pps: number;
  /** How long to send, in seconds. */
  readonly seconds: number;
  /** Distinct value lists (identifiers). */
  readonly names: number;
  /** Largest packet payload, bytes (`-M`, 1452 as collectd's default `MaxPacketSize`). */
  readonly maxPacketBytes: number;
  /** Called with the generator's PID once it is spawned, e.g. to sample its CPU time. */
  readonly onSpawn?: (pid: number) => void;
}

/** Value-list counts per value type. */
export interface ByValueType {
  /** COUNTER. */
  readonly counter: number;
  /** GAUGE. */
  readonly gauge: number;
  /** DERIVE. */
  readonly derive: number;
  /** ABSOLUTE. */
  readonly absolute: number;
}

/** The generator's summary (the fields the benchmark uses). */
export interface CollectdGeneratorSummary {
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
  /** Bytes sent (UDP payload). */
  readonly bytesSent: number;
  /** The largest packet it built, bytes. */
  readonly maxPacketBytes: number;
  /** Value lists sent, all types. */
  readonly valueListsSent: number;
  /** Value lists sent per type. */
  readonly valueListsByType: ByValueType;
  /** Identifiers per type. */
  readonly identifiersByType: ByValueType;
  /** Sum of every ABSOLUTE value sent: what a lossless receiver's ABSOLUTE totals add up to. */
  readonly absoluteSum: number;
  /** Sum over COUNTER identifiers of the last value sent (the running totals start at 0). */
  readonly counterFinalSum: number;
  /** Sum over DERIVE identifiers of the last value sent. */
  readonly deriveFinalSum: number;
  /** `sendmmsg` failures (e.g. ECONNREFUSED while nothing listened). */
  readonly sendErrors: number;
  /** Whether it reached the target rate within 1 %. */
  readonly rateOk: boolean;
}

/**
 * Compiles the generator with `cc -O2 … -lm` into `dir`.
 *
 * @param dir A temporary directory.
 * @param source The C source, {@link COLLECTD_GENERATOR_SOURCE} by default.
 * @returns The path of the executable.
 * @throws {Error} When the compiler fails; the message carries its output.
 */
export function buildCollectdGenerator(
  dir: string,
  source: string = COLLECTD_GENERATOR_SOURCE,
): Promise<string> {
  return compileGenerator(dir, source);
}

/**
 * The generator's command-line arguments for one run.
 *
 * @param run What to send and where.
 * @returns The arguments, `-q` included (no progress line on stderr).
 */
export function collectdGeneratorArgs(run: CollectdGeneratorRun): string[] {
  return [
    ...targetArgs(run),
    "-n",
    String(run.names),
    "-M",
    String(run.maxPacketBytes),
    "-q",
  ];
}

/**
 * Runs the generator once and waits for its summary.
 *
 * @param executable The path from {@link buildCollectdGenerator}.
 * @param run What to send and where.
 * @returns Its summary.
 * @throws {Error} When it exits non-zero, overruns its duration by 30 s, or prints no JSON summary.
 */
export async function runCollectdGenerator(
  executable: string,
  run: CollectdGeneratorRun,
): Promise<CollectdGeneratorSummary> {
  const stdout = await runGeneratorProcess(executable, collectdGeneratorArgs(run), {
    name: GENERATOR_NAME,
    seconds: run.seconds,
    onSpawn: run.onSpawn,
  });
  return parseCollectdGeneratorSummary(stdout);
}

/**
 * Parses the JSON line collectd-gen prints on exit.
 *
 * @param stdout Its standard output; the last line is the summary.
 * @returns The summary.
 * @throws {Error} When the last line is no JSON object or a field is missing.
 */
export function parseCollectdGeneratorSummary(stdout: string): CollectdGeneratorSummary {
  const summary = parseSummaryLine(stdout, GENERATOR_NAME);
  return {
    targetPps: numberField(summary, "target_pps", GENERATOR_NAME),
    durationS: numberField(summary, "duration_s", GENERATOR_NAME),
    packetsSent: numberField(summary, "packets_sent", GENERATOR_NAME),
    packetsTarget: numberField(summary, "packets_target", GENERATOR_NAME),
    achievedPps: numberField(summary, "achieved_pps", GENERATOR_NAME),
    bytesSent: numberField(summary, "bytes_sent", GENERATOR_NAME),
    maxPacketBytes: numberField(summary, "max_packet_bytes", GENERATOR_NAME),
    valueListsSent: numberField(summary, "value_lists_sent", GENERATOR_NAME),
    valueListsByType: byType(summary, "value_lists_by_type"),
    identifiersByType: byType(summary, "identifiers_by_type"),
    absoluteSum: numberField(summary, "absolute_sum", GENERATOR_NAME),
    counterFinalSum: numberField(summary, "counter_final_sum", GENERATOR_NAME),
    deriveFinalSum: numberField(summary, "derive_final_sum", GENERATOR_NAME),
    sendErrors: numberField(summary, "send_errors", GENERATOR_NAME),
    rateOk: summary["rate_ok"] === true,
  };
}

function byType(summary: Record<string, unknown>, key: string): ByValueType {
  const value = summary[key];
  if (typeof value !== "object" || value === null) {
    throw new Error(
      `Cannot read the ${GENERATOR_NAME} summary: field "${key}" is not an object, found "${String(value)}"`,
    );
  }
  const record = value as Record<string, unknown>;
  return {
    counter: numberField(record, "counter", GENERATOR_NAME, key),
    gauge: numberField(record, "gauge", GENERATOR_NAME, key),
    derive: numberField(record, "derive", GENERATOR_NAME, key),
    absolute: numberField(record, "absolute", GENERATOR_NAME, key),
  };
}
