/**
 * Runs Debian's `wrk` with a Lua script that POSTs one fixed body, and reads its summary.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** What one wrk run measured. */
export interface WrkResult {
  /** Requests per second over the run. */
  readonly requestsPerSecond: number;
  /** Requests completed. */
  readonly requests: number;
  /** Responses that were not 2xx or 3xx (wrk's "Non-2xx or 3xx responses"). */
  readonly non2xx: number;
  /** Socket errors (connect, read, write, timeout). */
  readonly socketErrors: number;
  /** Latency percentiles from `--latency`, ms: 50, 75, 90, 99. */
  readonly latencyMs: Readonly<Record<"p50" | "p75" | "p90" | "p99", number>>;
  /** wrk's whole output. */
  readonly output: string;
}

/** Options for {@link runWrk}. */
export interface WrkOptions {
  /** The URL. */
  readonly url: string;
  /** The body POSTed by every request. */
  readonly body: string;
  /** The directory the Lua script is written to. */
  readonly dir: string;
  /** Threads (`-t`). */
  readonly threads: number;
  /** Connections (`-c`). */
  readonly connections: number;
  /** Duration in seconds (`-d`). */
  readonly seconds: number;
}

/**
 * Runs wrk once.
 *
 * @param options The target, body, directory and load shape.
 * @returns The summary.
 * @throws {Error} When wrk cannot run or its output has no requests/s line.
 */
export function runWrk(options: WrkOptions): Promise<WrkResult> {
  const script = join(options.dir, `post_${Date.now()}.lua`);
  writeFileSync(
    script,
    `wrk.method = "POST"\nwrk.body = ${JSON.stringify(options.body)}\n` +
      `wrk.headers["Content-Type"] = "application/json"\n`,
  );
  const args = [
    "-t",
    String(options.threads),
    "-c",
    String(options.connections),
    "-d",
    `${options.seconds}s`,
    "--latency",
    "-s",
    script,
    options.url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", (error) => reject(new Error(`Cannot run wrk: ${error.message}`, { cause: error })));
    child.on("close", () => {
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
      if (rps === null) {
        reject(new Error(`wrk printed no Requests/sec:\n${output}`));
        return;
      }
      const requests = Number(/(\d+) requests in/.exec(output)?.[1] ?? 0);
      const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0);
      const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
      const socketErrors = errors === null ? 0 : errors.slice(1).reduce((sum, n) => sum + Number(n), 0);
      resolve({
        requestsPerSecond: Number(rps[1]),
        requests,
        non2xx,
        socketErrors,
        latencyMs: {
          p50: percentile(output, "50"),
          p75: percentile(output, "75"),
          p90: percentile(output, "90"),
          p99: percentile(output, "99"),
        },
        output,
      });
    });
  });
}

/** Reads one line of wrk's latency distribution (`  99%    4.12ms`) in ms. */
function percentile(output: string, p: string): number {
  const match = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(output);
  if (match === null) return NaN;
  const value = Number(match[1]);
  return match[2] === "us" ? value / 1000 : match[2] === "s" ? value * 1000 : value;
}
