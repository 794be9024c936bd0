/**
 * Test support: runs the real collectd (Debian `collectd-core`, `/usr/sbin/collectd`) in the foreground
 * with a config of the test's making, in a temp dir, on loopback, and stops it by PID; and talks to its
 * `unixsock` plugin.
 *
 * @module
 */

import { spawn, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";

/** Where Debian installs the daemon. */
export const COLLECTD_BINARY = "/usr/sbin/collectd";

/** How long collectd may take to start or stop before the test fails. */
const WAIT_MS = 10_000;

/**
 * Says why collectd cannot run here, or `undefined` when it can: tests skip with this message.
 *
 * @returns The reason, or `undefined`.
 */
export function collectdMissing(): string | undefined {
  if (!existsSync(COLLECTD_BINARY)) {
    return `${COLLECTD_BINARY} is not installed (Debian package collectd-core)`;
  }
  const probe = spawnSync(COLLECTD_BINARY, ["-h"], { encoding: "utf8" });
  return probe.error === undefined ? undefined : `${COLLECTD_BINARY} does not run: ${probe.error.message}`;
}

/** A running collectd: a resource; `stop()` kills it by PID and waits for its exit. */
export class CollectdProcess {
  readonly #child: ChildProcess;
  readonly #log: string;
  readonly #exited: Promise<void>;

  /**
   * @param child The spawned collectd.
   * @param log The path of its log file.
   */
  constructor(child: ChildProcess, log: string) {
    this.#child = child;
    this.#log = log;
    this.#exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once("exit", () => resolve());
    });
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /**
   * What collectd logged so far.
   *
   * @returns The log text.
   */
  log(): string {
    try {
      return readFileSync(this.#log, "utf8");
    } catch {
      return "";
    }
  }

  /**
   * Sends `signal` (SIGTERM by default; SIGKILL 10 s later if it is still running) to this PID and waits
   * for the exit. Safe to call twice.
   *
   * @param signal The signal; SIGKILL simulates a crash (collectd leaves its unixsock file behind).
   * @returns Resolves once the process is gone.
   */
  async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    const child = this.#child;
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), WAIT_MS);
      await this.#exited;
      clearTimeout(timer);
    }
    await this.#exited;
  }
}

/** Options for {@link startCollectd}. */
export interface StartCollectdOptions {
  /** collectd's `Hostname`, the host part of every identifier it dispatches; `tallytest` by default. */
  readonly hostname?: string;
}

/**
 * Writes `collectd.conf` in `dir` (global settings for a quiet, local, 1 s collectd plus `body`) and
 * starts collectd on it; resolves once collectd logged that its initialisation is complete.
 *
 * @param dir A temp dir the test owns (config, log, PID file, unixsock).
 * @param body The plugin part of the config (`LoadPlugin …`, `<Plugin …>` blocks).
 * @param options The host name.
 * @returns The running daemon.
 * @throws {Error} When collectd exits or does not get ready in 10 s; the message carries its log.
 */
export async function startCollectd(
  dir: string,
  body: string,
  options: StartCollectdOptions = {},
): Promise<CollectdProcess> {
  const log = join(dir, "collectd.log");
  writeFileSync(log, "");
  const config = join(dir, "collectd.conf");
  writeFileSync(
    config,
    [
      `Hostname "${options.hostname ?? "tallytest"}"`,
      "FQDNLookup false",
      "Interval 1",
      `BaseDir "${dir}"`,
      `PIDFile "${join(dir, "collectd.pid")}"`,
      'PluginDir "/usr/lib/collectd"',
      'TypesDB "/usr/share/collectd/types.db"',
      "LoadPlugin logfile",
      `<Plugin logfile>\n  LogLevel info\n  File "${log}"\n</Plugin>`,
      body,
      "",
    ].join("\n"),
  );
  const child = spawn(COLLECTD_BINARY, ["-f", "-C", config], { stdio: "ignore" });
  const daemon = new CollectdProcess(child, log);
  const deadline = Date.now() + WAIT_MS;
  while (!daemon.log().includes("Initialization complete")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await daemon.stop();
      throw new Error(`Cannot start collectd: it did not get ready; its log:\n${daemon.log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return daemon;
}

/**
 * Sends one command to a collectd `unixsock` plugin (`collectd-unixsock(5)`) on a fresh connection and
 * reads the whole reply: the status line, and for a positive status `N Values found` that many lines more.
 *
 * @param path The plugin's `SocketFile`.
 * @param command One command line without its newline, e.g. `GETVAL "host/load/load"` or `PUTNOTIF …`.
 * @returns The reply lines, status line first.
 * @throws {Error} When the socket cannot be reached, closes early or answers nothing within 5 s.
 */
export function unixsockCommand(path: string, command: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let text = "";
    const timer = setTimeout(
      () => finish(new Error(`No reply from collectd unixsock "${path}" to "${command}"`)),
      5000,
    );
    function finish(error: Error | undefined, lines?: string[]): void {
      clearTimeout(timer);
      socket.destroy();
      if (error === undefined) resolve(lines ?? []);
      else reject(error);
    }
    socket.on("connect", () => socket.write(`${command}\n`));
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
      const lines = text.split("\n");
      const status = Number.parseInt(lines[0] ?? "", 10);
      // Complete when the status line and, for a positive status, that many lines have arrived.
      if (lines.length > 1 && Number.isInteger(status) && lines.length - 2 >= Math.max(0, status)) {
        finish(undefined, lines.slice(0, 1 + Math.max(0, status)));
      }
    });
    socket.on(
      "error",
      (error) => finish(new Error(`Cannot talk to collectd unixsock "${path}": ${error.message}`)),
    );
    socket.on(
      "close",
      () =>
        finish(new Error(`collectd unixsock "${path}" closed before replying to "${command}": "${text}"`)),
    );
  });
}
