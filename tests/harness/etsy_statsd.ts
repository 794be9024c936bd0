/**
 * Etsy statsd (npm `statsd`, a devDependency, run with `node node_modules/statsd/stats.js CONFIG`) as a real
 * peer for tests: on loopback UDP and management ports, with a flush interval of an hour so that no flush
 * happens on its own, and a small backend that writes what the flush hands it to a JSON file.
 *
 * {@link RunningEtsyStatsd.flush} ends the process with SIGTERM: Etsy's SIGTERM handler calls
 * `process.exit()`, and its `exit` handler runs one last flush synchronously, which the backend writes with
 * `writeFileSync` before the process is gone. That flush is the one window the caller reads.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { createConnection } from "node:net";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { udpPortState } from "../bench/_shared/proc_stats.ts";
import { freePort } from "./free_port.ts";
import { REPO_ROOT } from "./spawn_tally.ts";
import { waitFor } from "./wait_for.ts";

/** What one Etsy flush holds, as its backend received it (its own `statsd.*` metrics included). */
export interface EtsyFlush {
  /** Counter key → the window's sum of `value / rate`. */
  readonly counters: Readonly<Record<string, number>>;
  /** Gauge key → the value at the flush. */
  readonly gauges: Readonly<Record<string, number>>;
  /** Set key → the distinct members of the window. */
  readonly sets: Readonly<Record<string, readonly string[]>>;
  /** Timer key → the window's observations, sorted ascending. */
  readonly timers: Readonly<Record<string, readonly number[]>>;
  /** Timer key → the window's observation count, each weighted `1 / rate`. */
  readonly timerCounters: Readonly<Record<string, number>>;
  /** Timer key → Etsy's statistics (`count`, `sum`, `upper`, `lower`, `mean`, `median`, `upper_90`, …). */
  readonly timerData: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** What Etsy counted about its input so far (its management port's `counters`). */
export interface EtsyReceived {
  /** Datagrams received. */
  readonly packets: number;
  /** Non-empty lines received. */
  readonly metrics: number;
  /** Bad value groups seen. */
  readonly badLines: number;
}

/** Options for {@link startEtsyStatsd}. */
export interface EtsyStatsdOptions {
  /** The percentiles Etsy computes (`percentThreshold`), e.g. `[50, 90, 95, 99]`. */
  readonly percentiles: readonly number[];
  /** The Node.js executable, `node` on PATH by default. */
  readonly node?: string;
}

/** A running Etsy statsd. */
export interface RunningEtsyStatsd {
  /** The UDP port it receives on, 127.0.0.1. */
  readonly port: number;
  /** The process id. */
  readonly pid: number;
  /** Reads its self-counters from the management port. */
  received(): Promise<EtsyReceived>;
  /**
   * How many bad values Etsy logged per line (its `Bad line: … in msg "LINE"` log lines; one per bad value
   * group, so a multi-value line can count more than once). Complete only after {@link flush}: until the
   * process is gone, its last lines may still be in the pipe.
   */
  badLines(): Map<string, number>;
  /**
   * Ends the process with SIGTERM, which makes it flush once more, and returns that flush.
   *
   * @throws {Error} When the process left no flush behind.
   */
  flush(): Promise<EtsyFlush>;
  /** Stops the process if it still runs and removes its directory; safe to call twice. */
  stop(): Promise<void>;
}

/** Longer than any test, so the only flush is the one SIGTERM forces. */
const FLUSH_INTERVAL_MS = 3_600_000;
/** The wait after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5000;
/** Etsy's log line for a bad value group: `… - DEBUG: Bad line: 1,x in msg "a:1|x"`. */
const BAD_LINE_REGEXP = /Bad line: .* in msg "(.*)"$/gm;
/** The management reply to `counters` ends with this. */
const MGMT_END = "\nEND\n\n";
/** Etsy's own counters in the `counters` reply: `'statsd.packets_received': 1234`. */
const SELF_COUNTER_REGEXP = /'statsd\.(packets_received|metrics_received|bad_lines_seen)': (\d+)/g;

/**
 * The backend Etsy loads: on each flush it writes the window's raw and computed metrics as JSON.
 * CommonJS, since Etsy `require`s it; listeners registered at init run before Etsy's own reset.
 */
const BACKEND_JS = `"use strict";
const fs = require("fs");
exports.init = function init(startup, config, events) {
  events.on("flush", function writeFlush(ts, metrics) {
    const sets = {};
    for (const key in metrics.sets) sets[key] = metrics.sets[key].values();
    const timers = {};
    for (const key in metrics.timers) timers[key] = metrics.timers[key].slice().sort((a, b) => a - b);
    fs.writeFileSync(config.differentialOut, JSON.stringify({
      counters: metrics.counters,
      gauges: metrics.gauges,
      sets,
      timers,
      timerCounters: metrics.timer_counters,
      timerData: metrics.timer_data,
    }));
  });
  return true;
};
`;

/**
 * Starts Etsy statsd on free loopback ports and waits until its UDP port is bound and its management port
 * answers.
 *
 * @param options The percentiles and the Node.js executable.
 * @returns The running process.
 * @throws {Error} When it does not start (its output tail is in the message).
 */
export async function startEtsyStatsd(options: EtsyStatsdOptions): Promise<RunningEtsyStatsd> {
  const dir = await mkdtemp(join(tmpdir(), "tally-etsy-"));
  const port = await freePort("udp");
  const mgmtPort = await freePort("tcp");
  const out = join(dir, "flush.json");
  const backend = join(dir, "differential_backend.js");
  await writeFile(backend, BACKEND_JS);
  const configFile = join(dir, "config.js");
  // Etsy statsd evaluates this file as a JavaScript object literal.
  await writeFile(
    configFile,
    `${
      JSON.stringify({
        address: "127.0.0.1",
        port,
        mgmt_address: "127.0.0.1",
        mgmt_port: mgmtPort,
        backends: [backend],
        flushInterval: FLUSH_INTERVAL_MS,
        percentThreshold: options.percentiles,
        differentialOut: out,
        automaticConfigReload: false,
      })
    }\n`,
  );
  const statsJs = join(REPO_ROOT, "node_modules", "statsd", "stats.js");
  // Its own process group, so that stop() can signal anything it forked.
  const child = spawn(options.node ?? "node", [statsJs, configFile], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => output += chunk);
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => output += chunk);
  let exit: string | undefined;
  const exited = new Promise<string>((resolve) => {
    child.once("error", (error) => resolve(exit = `spawn error: ${error.message}`));
    // "close", not "exit": it waits for the output pipes too, so every log line has been read.
    child.once("close", (code, signal) => resolve(exit = `code ${code}, signal ${signal}`));
  });
  let removed = false;
  const stop = async (): Promise<string> => {
    if (exit === undefined && child.pid !== undefined) {
      signalGroup(child.pid, "SIGTERM");
      const timer = setTimeout(() => signalGroup(child.pid!, "SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }
    return await exited;
  };
  try {
    await waitFor(async function udpBoundAndMgmtAnswers() {
      if (exit !== undefined) throw new Error(`Etsy statsd exited (${exit}):\n${output}`);
      if (!udpPortState(port).bound) return false;
      await mgmtCommand(mgmtPort, "health");
      return true;
    }, { timeoutMs: 20_000, intervalMs: 20, what: "Etsy statsd to listen" });
  } catch (error) {
    await stop();
    await rm(dir, { recursive: true, force: true });
    throw new Error(`Cannot start Etsy statsd: ${String(error)}\noutput:\n${output}`, { cause: error });
  }
  return {
    port,
    pid: child.pid ?? -1,
    received: async function received(): Promise<EtsyReceived> {
      const reply = await mgmtCommand(mgmtPort, "counters");
      const found: Record<string, number> = {};
      for (const match of reply.matchAll(SELF_COUNTER_REGEXP)) found[match[1] ?? ""] = Number(match[2]);
      return {
        packets: found["packets_received"] ?? 0,
        metrics: found["metrics_received"] ?? 0,
        badLines: found["bad_lines_seen"] ?? 0,
      };
    },
    badLines: function badLines(): Map<string, number> {
      const counts = new Map<string, number>();
      for (const match of output.matchAll(BAD_LINE_REGEXP)) {
        const line = match[1] ?? "";
        counts.set(line, (counts.get(line) ?? 0) + 1);
      }
      return counts;
    },
    flush: async function flush(): Promise<EtsyFlush> {
      const how = await stop();
      let text: string;
      try {
        text = await readFile(out, "utf8");
      } catch (error) {
        throw new Error(
          `Cannot read Etsy statsd's last flush "${out}": ${
            String(error)
          } (exit: ${how})\noutput:\n${output}`,
          { cause: error },
        );
      }
      return JSON.parse(text) as EtsyFlush;
    },
    stop: async function stopEtsy(): Promise<void> {
      await stop();
      if (!removed) {
        removed = true;
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

function signalGroup(pid: number, signal: "SIGTERM" | "SIGKILL"): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * The version of the installed Etsy statsd package.
 *
 * @returns The version, e.g. `0.9.0`.
 */
export function etsyStatsdVersion(): string {
  const pkg = JSON.parse(
    readFileSync(join(REPO_ROOT, "node_modules", "statsd", "package.json"), "utf8"),
  ) as { version?: unknown };
  return typeof pkg.version === "string" ? pkg.version : "unknown";
}

/**
 * Sends one management command to Etsy statsd and returns the reply up to `END` (or its first line, for
 * `health`).
 *
 * @param port The management port.
 * @param command `counters` or `health`.
 * @returns The reply.
 * @throws {Error} When the connection fails or no complete reply comes within 5 s.
 */
export function mgmtCommand(port: number, command: "counters" | "health"): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let reply = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`Cannot read Etsy statsd "${command}" on port ${port}: no complete reply in 5000 ms`));
    }, 5000);
    socket.setEncoding("utf8");
    socket.once("connect", () => socket.write(`${command}\n`));
    socket.on("data", (chunk: string) => {
      reply += chunk;
      // "health" answers one line ("health: up"); "counters" ends with END and a blank line.
      if (command === "health" ? reply.includes("\n") : reply.endsWith(MGMT_END)) {
        clearTimeout(timer);
        socket.end();
        resolve(reply);
      }
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
