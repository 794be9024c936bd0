/**
 * Etsy statsd (npm `statsd`, run with `node node_modules/statsd/stats.js CONFIG`) as a benchmark receiver,
 * on a loopback UDP port with its management port on another, no backends. Ready when its UDP port is
 * bound and the management port accepts a connection.
 *
 * Readback: the management port's `counters` command, which prints `util.inspect` of its live counters
 * object. Etsy statsd zeroes (or, with `deleteCounters`, deletes) every counter at each flush, so those
 * values are totals only since the last flush. The config therefore sets `flushInterval` to one hour: no
 * flush happens during a trial (each trial starts a fresh process), and `counters` shows exact totals
 * since start. With no backends a flush would drop the values anyway, so nothing is lost by not flushing.
 *
 * @module
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { etsyStatsdVersion, mgmtCommand } from "../../harness/etsy_statsd.ts";
import { freePort } from "../../harness/free_port.ts";
import { REPO_ROOT } from "../../harness/spawn_tally.ts";
import { GENERATOR_PREFIX } from "./generator.ts";
import { udpPortState } from "../_shared/proc_stats.ts";
import type { Receiver, RunningReceiver } from "./receiver.ts";
import { startReceiver } from "../_shared/start_receiver.ts";

/** Options for {@link etsyReceiver}. */
export interface EtsyReceiverOptions {
  /** The Node.js executable, `node` on PATH by default. */
  readonly node?: string;
  /** The bound on waiting for readiness. */
  readonly readyTimeoutMs?: number;
}

/** Longer than any trial, so counters are never reset while one runs. */
const FLUSH_INTERVAL_MS = 3_600_000;
/** `'bench.c.17': 1234` in `util.inspect` output. */
const COUNTER_ENTRY_REGEXP = new RegExp(`'(${GENERATOR_PREFIX}\\.c\\.\\d+)': ([-0-9.e+]+)`, "g");
/** Etsy's own counters: `'statsd.packets_received': 1234`. */
const SELF_COUNTER_REGEXP = /'statsd\.(packets_received|metrics_received|bad_lines_seen)': (\d+)/g;

/**
 * Describes Etsy statsd as a receiver.
 *
 * @param options The Node.js executable.
 * @returns The receiver.
 */
export function etsyReceiver(options: EtsyReceiverOptions = {}): Receiver {
  const statsJs = join(REPO_ROOT, "node_modules", "statsd", "stats.js");
  return {
    name: "etsy",
    label: `Etsy statsd ${etsyStatsdVersion()} (node ${options.node ?? "node"})`,
    readback:
      `management port "counters" (flushInterval ${FLUSH_INTERVAL_MS} ms, so no reset during a trial)`,
    settleMs: 600,
    start: async function startEtsy(dir: string): Promise<RunningReceiver> {
      const statsdPort = await freePort("udp");
      const mgmtPort = await freePort("tcp");
      const configFile = join(dir, "config.js");
      await writeFile(
        configFile,
        // Etsy statsd evaluates this file as a JavaScript object literal.
        `${
          JSON.stringify({
            address: "127.0.0.1",
            port: statsdPort,
            mgmt_address: "127.0.0.1",
            mgmt_port: mgmtPort,
            backends: [],
            flushInterval: FLUSH_INTERVAL_MS,
            deleteCounters: false,
          })
        }\n`,
      );
      const running = await startReceiver(options.node ?? "node", [statsJs, configFile], {
        cwd: dir,
        port: statsdPort,
        isReady: async function udpBoundAndMgmtAnswers() {
          if (!udpPortState(statsdPort).bound) return false;
          await mgmtCommand(mgmtPort, "health");
          return true;
        },
        readyTimeoutMs: options.readyTimeoutMs,
      });
      return {
        ...running,
        readCounters: async function mgmtCounters() {
          return parseEtsyCounters(await mgmtCommand(mgmtPort, "counters"));
        },
        readDiagnostics: async function mgmtSelfCounters() {
          const reply = await mgmtCommand(mgmtPort, "counters");
          const out: Record<string, number> = {};
          for (const match of reply.matchAll(SELF_COUNTER_REGEXP)) out[match[1] ?? ""] = Number(match[2]);
          return out;
        },
      };
    },
  };
}

/**
 * Picks the generator's counters out of the `counters` reply.
 *
 * @param text The reply, `util.inspect` of the counters object then `END`.
 * @returns `bench.c.K` → total since start.
 */
export function parseEtsyCounters(text: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const match of text.matchAll(COUNTER_ENTRY_REGEXP)) {
    totals.set(match[1] ?? "", Number(match[2]));
  }
  return totals;
}
