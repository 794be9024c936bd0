/**
 * Etsy statsd (npm `statsd`, a devDependency) running a backend that makes the requests of CoScale's statsd
 * backend (`coscale-statsd-plugin`), for end-to-end tests of tally's CoScale-compatible API with a real
 * statsd computing the flushes.
 *
 * The plugin itself is not on the npm registry (`npm view coscale-statsd-plugin` finds nothing), so the
 * backend here reproduces its requests from `reference/coscale.md` §4 and the plugin's source as §9 lists it:
 * - `POST /api/v1/app/{appId}/login/` with `accessToken`; the session token in `HTTPAuthorization` after;
 *   a 401 logs in again and resends (once here; the plugin retries without end);
 * - the server `os.hostname()` (`POST servers/`: name, description `Server <host>`, type, source `statsd`),
 *   added to the server group `StatsD` (`POST servergroups/`, `POST servergroups/{g}/servers/{s}/`);
 * - per key a metric `StatsD <key>` (`POST metrics/`: name, description `<key>`, dataType `DOUBLE` or
 *   `HISTOGRAM` for timers, period `60`, unit `''`, subject `SERVER`, source `StatsD`), in the metric group
 *   `StatsD` and one nested group per dot-segment of the key but the last, by `parentId`, joined with
 *   `POST metricgroups/{g}/metrics/{m}/`; ids from a 200 or from a 409 DUPLICATE, cached per process;
 * - every flush one `POST data/` with form field `data` = `[{m, s: "s<server id>", d: [[ts - now, v], …]}]`:
 *   counters as a per-second rate, gauges as they are, timers as `[n, 10, [v(p) for p in 0, 10, … 90, 95, 99,
 *   100]]` with `v(p) = sorted[floor(n·p/100)]` and `v(100)` the maximum; sets ignored; up to 10 points per key
 *   kept while the API cannot be reached;
 * - bodies written with Node's `querystring.stringify`, `Content-Type: application/x-www-form-urlencoded`, no
 *   `Content-Length` (Node sends them chunked, as the plugin's `req.write` does), and every answer parsed as
 *   JSON (the plugin throws on anything else).
 *
 * One deviation, for the test: the plugin reaches only port 80/443 (`coscaleApiHost` has no port), so this
 * backend also reads `coscaleApiPort`.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { udpPortState } from "../bench/_shared/proc_stats.ts";
import { freePort } from "./free_port.ts";
import { REPO_ROOT } from "./spawn_tally.ts";
import { waitFor } from "./wait_for.ts";

/** The backend, CommonJS as Etsy statsd `require`s it. */
const BACKEND_JS = `"use strict";
const http = require("http");
const os = require("os");
const querystring = require("querystring");
const PERCENTILES = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 100];
let host, port, appId, accessToken, flushInterval, token, flushing = false;
const ids = { servers: {}, metrics: {}, groups: {} };
const buffer = { counters: {}, gauges: {}, timers: {} };

function request(method, path, message) {
  return new Promise((resolve, reject) => {
    const headers = {};
    if (token) headers.HTTPAuthorization = token;
    if (method === "POST" || method === "PUT") headers["Content-Type"] = "application/x-www-form-urlencoded";
    const req = http.request({ host, port, path, method, headers }, (res) => {
      const body = [];
      res.on("data", (chunk) => body.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(body).toString();
        try {
          resolve({ status: res.statusCode, json: JSON.parse(text) });
        } catch (error) {
          console.error("coscale backend: not JSON (" + res.statusCode + "): " + text);
          reject(error);
        }
      });
    });
    req.on("error", reject);
    req.write(querystring.stringify(message));
    req.end();
  });
}

async function login() {
  const res = await request("POST", "/api/v1/app/" + appId + "/login/", { accessToken });
  if (res.status === 200) token = res.json.token;
}

async function call(method, path, message) {
  const full = "/api/v1/app/" + appId + "/" + path;
  let res = await request(method, full, message);
  console.log("coscale backend: " + method + " " + path + " " + res.status);
  if (res.status === 401) {
    await login();
    res = await request(method, full, message);
    console.log("coscale backend: " + method + " " + path + " " + res.status);
  }
  return res;
}

async function createOrGet(path, message) {
  const res = await call("POST", path, message);
  if (res.status === 200 || res.json.type === "DUPLICATE") return res.json.id;
  throw new Error("coscale backend: " + path + " answered " + res.status + " " + JSON.stringify(res.json));
}

async function serverId(name) {
  if (ids.servers[name]) return ids.servers[name];
  const res = await call("POST", "servers/", { name, description: "Server " + name, type: "type", source: "statsd" });
  const id = res.json.id;
  if (res.status === 200) {
    const group = await createOrGet("servergroups/", {
      name: "StatsD", description: "Server group for StatsD", type: "type", source: "statsd",
    });
    await call("POST", "servergroups/" + group + "/servers/" + id + "/", "");
  }
  ids.servers[name] = id;
  return id;
}

async function groupId(path) {
  if (ids.groups[path.join("/")]) return ids.groups[path.join("/")];
  const parent = path.length === 1 ? undefined : await groupId(path.slice(0, -1));
  const message = {
    name: path[path.length - 1], description: "Metric group for " + path.join("/"), type: "type",
    source: "StatsD", subject: "SERVER",
  };
  if (parent !== undefined) message.parentId = parent;
  const id = await createOrGet("metricgroups/", message);
  ids.groups[path.join("/")] = id;
  return id;
}

async function metricId(key, dataType) {
  if (ids.metrics[key]) return ids.metrics[key];
  const id = await createOrGet("metrics/", {
    name: "StatsD " + key, description: key, dataType, period: "60", unit: "", subject: "SERVER", source: "StatsD",
  });
  const group = await groupId(["StatsD", ...key.split(".").slice(0, -1)]);
  await call("POST", "metricgroups/" + group + "/metrics/" + id + "/", "");
  ids.metrics[key] = id;
  return id;
}

function percentiles(values) {
  const n = values.length;
  return [n, 10, PERCENTILES.map((p) => n === 0 ? 0 : p >= 100 ? values[n - 1] : values[Math.floor(n * p / 100)])];
}

function keep(type, key, point) {
  const points = buffer[type][key] = buffer[type][key] || [];
  points.push(point);
  if (points.length > 10) points.shift();
}

async function send() {
  const host = os.hostname();
  const data = [];
  for (const type of ["counters", "gauges", "timers"]) {
    for (const key of Object.keys(buffer[type])) {
      const m = await metricId(key, type === "timers" ? "HISTOGRAM" : "DOUBLE");
      data.push({ m, s: "s" + await serverId(host), d: buffer[type][key] });
    }
  }
  if (data.length === 0) return;
  const now = Math.round(Date.now() / 1000);
  const text = JSON.stringify(data, (key, value) => key === "d" ? value.map((p) => [p[0] - now, p[1]]) : value);
  await call("POST", "data/", { data: text });
  // Any answer with a JSON body clears the buffer, as the plugin does.
  buffer.counters = {};
  buffer.gauges = {};
  buffer.timers = {};
}

exports.init = function init(startup, config, events) {
  const url = config.coscaleApiHost;
  host = url.replace(/^https?:\\/\\//, "");
  port = config.coscaleApiPort;
  appId = config.coscaleAppId;
  accessToken = config.coscaleAccessToken;
  flushInterval = config.flushInterval;
  login().catch((error) => console.error("coscale backend: login failed: " + error));
  events.on("flush", function flush(ts, metrics) {
    for (const key in metrics.counters) keep("counters", key, [ts, metrics.counters[key] / (flushInterval / 1000)]);
    for (const key in metrics.gauges) keep("gauges", key, [ts, metrics.gauges[key]]);
    for (const key in metrics.timers) keep("timers", key, [ts, percentiles(metrics.timers[key])]);
    if (flushing) return;
    flushing = true;
    send().catch((error) => console.error("coscale backend: " + error)).finally(() => (flushing = false));
  });
  return true;
};
`;

/** Options of {@link startCoscaleStatsd}. */
export interface CoscaleStatsdOptions {
  /** tally's HTTP port. */
  readonly apiPort: number;
  /** `coscaleAccessToken`: tally's `http.token`. */
  readonly accessToken: string;
  /** `coscaleAppId`. */
  readonly appId: string;
  /** statsd's `flushInterval` in ms. */
  readonly flushIntervalMs: number;
}

/** A running Etsy statsd with the CoScale backend. */
export interface RunningCoscaleStatsd {
  /** The UDP port it receives StatsD lines on, 127.0.0.1. */
  readonly port: number;
  /** What it printed so far (the backend logs each request's method, path and status). */
  output(): string;
  /** Stops it (SIGTERM, then SIGKILL) and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Starts Etsy statsd with the CoScale backend pointed at tally, and waits until it receives.
 *
 * @param options tally's port, the access token, the app id and the flush interval.
 * @returns The running statsd.
 * @throws {Error} When it does not start (its output is in the message).
 */
export async function startCoscaleStatsd(options: CoscaleStatsdOptions): Promise<RunningCoscaleStatsd> {
  const dir = await mkdtemp(join(tmpdir(), "tally-coscale-statsd-"));
  const port = await freePort("udp");
  const backend = join(dir, "coscale_backend.js");
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
        mgmt_port: await freePort("tcp"),
        backends: [backend],
        flushInterval: options.flushIntervalMs,
        deleteIdleStats: true,
        coscaleApiHost: "http://127.0.0.1",
        coscaleApiPort: options.apiPort,
        coscaleAppId: options.appId,
        coscaleAccessToken: options.accessToken,
        automaticConfigReload: false,
      })
    }\n`,
  );
  const child = spawn("node", [join(REPO_ROOT, "node_modules", "statsd", "stats.js"), configFile], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("error", (error) => {
      exit = `spawn error: ${error.message}`;
      resolve();
    });
    child.once("close", (code, signal) => {
      exit = `code ${code}, signal ${signal}`;
      resolve();
    });
  });
  const stop = async (): Promise<void> => {
    if (exit === undefined && child.pid !== undefined) {
      signalGroup(child.pid, "SIGTERM");
      const timer = setTimeout(() => signalGroup(child.pid!, "SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(() => {
      if (exit !== undefined) throw new Error(`Etsy statsd exited (${exit}):\n${output}`);
      return udpPortState(port).bound;
    }, { timeoutMs: 20_000, intervalMs: 20, what: "Etsy statsd to listen" });
  } catch (error) {
    await stop();
    throw new Error(`Cannot start Etsy statsd with the CoScale backend: ${String(error)}`, { cause: error });
  }
  return { port, output: () => output, stop };
}

function signalGroup(pid: number, signal: "SIGTERM" | "SIGKILL"): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}
