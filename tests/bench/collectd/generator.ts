/**
 * Builds and drives `shared/tools/collectd-gen`, the rate-controlled generator of collectd binary-protocol
 * packets (1452-byte packets, protocol v5 as collectd writes it), and reads its JSON summary: value lists
 * sent, by type, and the exact sums a lossless receiver reproduces. The binary is compiled into a
 * temporary directory at benchmark start and never committed.
 *
 * @module
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the generator's C source lives: `../shared/tools/collectd-gen.c` beside the repository. */
export const COLLECTD_GENERATOR_SOURCE: string = fileURLToPath(
  new URL("../../../../shared/tools/collectd-gen.c", import.meta.url).href,
);

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

const RUNNING = new Set<ChildProcess>();

/**
 * SIGKILLs any generator still running, for an interrupt handler that is about to exit.
 *
 * @returns How many were killed.
 */
export function killAllCollectdGenerators(): number {
  const all = [...RUNNING];
  for (const child of all) child.kill("SIGKILL");
  RUNNING.clear();
  return all.length;
}

/**
 * Compiles the generator with `cc -O2 … -lm` into `dir`.
 *
 * @param dir A temporary directory.
 * @param source The C source, {@link COLLECTD_GENERATOR_SOURCE} by default.
 * @returns The path of the executable.
 * @throws {Error} When the compiler fails; the message carries its output.
 */
export async function buildCollectdGenerator(
  dir: string,
  source: string = COLLECTD_GENERATOR_SOURCE,
): Promise<string> {
  const out = join(dir, "collectd-gen");
  await new Promise<void>((resolve, reject) => {
    execFile("cc", ["-O2", "-o", out, source, "-lm"], function onCompiled(error, _stdout, stderr) {
      if (error === null) resolve();
      else reject(new Error(`Cannot compile "${source}" with cc: ${error.message}\n${stderr}`));
    });
  });
  return out;
}

/**
 * The generator's command-line arguments for one run.
 *
 * @param run What to send and where.
 * @returns The arguments, `-q` included (no progress line on stderr).
 */
export function collectdGeneratorArgs(run: CollectdGeneratorRun): string[] {
  return [
    "-H",
    "127.0.0.1",
    "-p",
    String(run.port),
    "-r",
    String(Math.round(run.pps)),
    "-d",
    String(run.seconds),
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
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(executable, collectdGeneratorArgs(run), { stdio: ["ignore", "pipe", "pipe"] });
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
      reject(new Error(`Cannot run collectd-gen "${executable}": ${error.message}`, { cause: error }));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      RUNNING.delete(child);
      if (code === 0) resolve(Buffer.concat(out).toString());
      else {
        reject(
          new Error(
            `collectd-gen failed with ${signal === null ? `exit code ${code}` : `signal ${signal}`}: ` +
              `"${Buffer.concat(err).toString().trim()}"`,
          ),
        );
      }
    });
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
  const line = stdout.trim().split("\n").at(-1) ?? "";
  let summary: Record<string, unknown>;
  try {
    summary = JSON.parse(line) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`Cannot parse the collectd-gen summary: expected JSON, found "${line.slice(0, 200)}"`, {
      cause: error,
    });
  }
  return {
    targetPps: numberField(summary, "target_pps"),
    durationS: numberField(summary, "duration_s"),
    packetsSent: numberField(summary, "packets_sent"),
    packetsTarget: numberField(summary, "packets_target"),
    achievedPps: numberField(summary, "achieved_pps"),
    bytesSent: numberField(summary, "bytes_sent"),
    maxPacketBytes: numberField(summary, "max_packet_bytes"),
    valueListsSent: numberField(summary, "value_lists_sent"),
    valueListsByType: byType(summary, "value_lists_by_type"),
    identifiersByType: byType(summary, "identifiers_by_type"),
    absoluteSum: numberField(summary, "absolute_sum"),
    counterFinalSum: numberField(summary, "counter_final_sum"),
    deriveFinalSum: numberField(summary, "derive_final_sum"),
    sendErrors: numberField(summary, "send_errors"),
    rateOk: summary["rate_ok"] === true,
  };
}

function byType(summary: Record<string, unknown>, key: string): ByValueType {
  const value = summary[key];
  if (typeof value !== "object" || value === null) {
    throw new Error(
      `Cannot read the collectd-gen summary: field "${key}" is not an object, found "${String(value)}"`,
    );
  }
  const record = value as Record<string, unknown>;
  return {
    counter: numberField(record, "counter", key),
    gauge: numberField(record, "gauge", key),
    derive: numberField(record, "derive", key),
    absolute: numberField(record, "absolute", key),
  };
}

function numberField(summary: Record<string, unknown>, key: string, parent?: string): number {
  const value = summary[key];
  if (typeof value !== "number") {
    throw new Error(
      `Cannot read the collectd-gen summary: field "${parent === undefined ? key : `${parent}.${key}`}" ` +
        `is not a number, found "${String(value)}"`,
    );
  }
  return value;
}
