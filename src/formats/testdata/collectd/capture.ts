/**
 * Re-captures the golden collectd packets in this folder from the real collectd (Debian `collectd-core`).
 *
 * Not a test: run it by hand when the golden data needs renewing, from the repo root:
 * `./node_modules/.bin/bun src/formats/testdata/collectd/capture.ts`.
 *
 * It starts `/usr/sbin/collectd -f` with a throw-away config in a temp dir: `Interval 1`, the cpu, load,
 * memory and interface (`lo` only) read plugins, the `network` plugin sending to a UDP socket this script
 * owns on 127.0.0.1, the `csv` plugin with `StoreRates false` (the oracle: raw counter/derive values, exact
 * integers) and the `unixsock` plugin, through which it also submits value lists of every data-source type
 * (`PUTVAL`, including a NaN gauge, a negative derive and a counter near 2^64) and one notification per
 * severity (`PUTNOTIF`). After ~3.5 s it stops collectd by PID and writes:
 *
 * - `packet-NN.bin`: each datagram received, byte for byte;
 * - `expected.json`: the csv rows of every identifier (values as the exact decimal text csv printed), the
 *   notifications submitted, and per packet the number of value-list and notification parts, counted by
 *   walking the part headers only (an independent check that the parser misses nothing).
 *
 * @module
 */

import { spawn, spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const COLLECTD = "/usr/sbin/collectd";
const HOST = "tally-golden";
const OUT_DIR = fileURLToPath(new URL(".", import.meta.url).href);
const CAPTURE_MS = 3500;

/** The value lists submitted through unixsock: identifier → value text (csv prints these back). */
const PUTVALS: ReadonlyArray<readonly [identifier: string, values: string]> = [
  [`${HOST}/golden-types/counter-big`, "18446744073709551615"],
  [`${HOST}/golden-types/counter-small`, "1234567890123"],
  [`${HOST}/golden-types/derive-negative`, "-42"],
  [`${HOST}/golden-types/absolute-delta`, "7"],
  [`${HOST}/golden-types/gauge-nan`, "U"],
  [`${HOST}/golden-types/gauge-pi`, "3.25"],
  [`${HOST}/golden-multi/if_octets-eth9`, "1000:2000"],
];

/** The notifications submitted through unixsock, one per severity. */
const PUTNOTIFS: ReadonlyArray<Readonly<Record<string, string>>> = [
  { severity: "failure", plugin: "golden", type: "gauge", type_instance: "disk", message: "disk on fire" },
  { severity: "warning", plugin: "golden", plugin_instance: "a-b", type: "load", message: "load is high" },
  { severity: "okay", plugin: "golden", message: "all good again" },
];

function config(dir: string, port: number): string {
  return `Hostname "${HOST}"
FQDNLookup false
Interval 1
BaseDir "${dir}"
PIDFile "${dir}/collectd.pid"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "${dir}/collectd.log"
</Plugin>
LoadPlugin cpu
LoadPlugin load
LoadPlugin memory
LoadPlugin interface
<Plugin interface>
  Interface "lo"
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "${dir}/csv"
  StoreRates false
</Plugin>
LoadPlugin unixsock
<Plugin unixsock>
  SocketFile "${dir}/unixsock"
</Plugin>
LoadPlugin network
<Plugin network>
  Server "127.0.0.1" "${port}"
</Plugin>
`;
}

/** Sends unixsock commands one by one, each waiting for its status line. */
async function unixsock(path: string, commands: readonly string[]): Promise<string[]> {
  const socket = createConnection(path);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const replies: string[] = [];
  let buffered = "";
  const waiters: Array<(line: string) => void> = [];
  socket.on("data", (chunk: Buffer) => {
    buffered += chunk.toString("utf8");
    let nl = buffered.indexOf("\n");
    while (nl >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      waiters.shift()?.(line);
      nl = buffered.indexOf("\n");
    }
  });
  for (const command of commands) {
    const reply = new Promise<string>((resolve) => waiters.push(resolve));
    socket.write(command + "\n");
    replies.push(await reply);
  }
  socket.end();
  return replies;
}

/** Counts value-list and notification parts by walking part headers only (no decoding). */
function countParts(bytes: Uint8Array): { valueLists: number; notifications: number } {
  let valueLists = 0;
  let notifications = 0;
  let p = 0;
  while (p + 4 <= bytes.length) {
    const type = (bytes[p]! << 8) | bytes[p + 1]!;
    const length = (bytes[p + 2]! << 8) | bytes[p + 3]!;
    if (length < 4 || p + length > bytes.length) throw new Error(`Cannot walk packet: bad part at ${p}`);
    if (type === 0x0006) valueLists++;
    if (type === 0x0100) notifications++;
    p += length;
  }
  return { valueLists, notifications };
}

/** Reads every csv file: identifier → header names and rows of [epoch text, ...value texts]. */
function readCsv(root: string): Record<string, { names: string[]; rows: string[][] }> {
  const out: Record<string, { names: string[]; rows: string[][] }> = {};
  for (const host of readdirSync(root)) {
    for (const pluginDir of readdirSync(join(root, host))) {
      for (const file of readdirSync(join(root, host, pluginDir))) {
        // <type[-instance]>-YYYY-MM-DD
        const typeDir = file.replace(/-\d{4}-\d{2}-\d{2}$/, "");
        const identifier = `${host}/${pluginDir}/${typeDir}`;
        const lines = readFileSync(join(root, host, pluginDir, file), "utf8").trim().split("\n");
        const names = lines[0]!.split(",").slice(1);
        const entry = out[identifier] ?? { names, rows: [] };
        for (const line of lines.slice(1)) entry.rows.push(line.split(","));
        out[identifier] = entry;
      }
    }
  }
  return out;
}

async function main(): Promise<void> {
  if (!existsSync(COLLECTD)) throw new Error(`Cannot capture: "${COLLECTD}" is not installed`);
  const dir = mkdtempSync(join(tmpdir(), "tally-collectd-capture-"));
  const socket = createSocket("udp4");
  const packets: Uint8Array[] = [];
  socket.on("message", (message: Buffer) => packets.push(new Uint8Array(message)));
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  const port = socket.address().port;
  writeFileSync(join(dir, "collectd.conf"), config(dir, port));
  const child = spawn(COLLECTD, ["-f", "-C", join(dir, "collectd.conf")], { stdio: "inherit" });
  try {
    const sock = join(dir, "unixsock");
    for (let i = 0; i < 50 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1200));
    const now = Math.floor(Date.now() / 1000);
    const commands = [
      ...PUTVALS.map(([id, values]) => `PUTVAL ${id} interval=1 N:${values}`),
      ...PUTNOTIFS.map((n) =>
        `PUTNOTIF time=${now} host=${HOST} ` +
        Object.entries(n).filter(([k]) => k !== "message").map(([k, v]) => `${k}=${v}`).join(" ") +
        ` message="${n.message}"`
      ),
    ];
    const replies = await unixsock(sock, commands);
    for (const [i, reply] of replies.entries()) {
      if (!reply.startsWith("0 ")) {
        throw new Error(`Cannot submit "${commands[i]}": collectd said "${reply}"`);
      }
    }
    await new Promise((r) => setTimeout(r, CAPTURE_MS));
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    socket.close();
  }
  for (const file of readdirSync(OUT_DIR)) {
    if (/^packet-\d+\.bin$/.test(file)) rmSync(join(OUT_DIR, file));
  }
  const counts = packets.map((packet, i) => {
    const file = `packet-${String(i).padStart(2, "0")}.bin`;
    writeFileSync(join(OUT_DIR, file), packet);
    return { file, bytes: packet.length, ...countParts(packet) };
  });
  const csv = readCsv(join(dir, "csv"));
  const version = spawnSync(COLLECTD, ["-h"], { encoding: "utf8" }).stdout.match(/^collectd [0-9][^\s,]*/m)
    ?.[0];
  writeFileSync(
    join(OUT_DIR, "expected.json"),
    JSON.stringify(
      {
        collectd: version ?? "collectd 5.12",
        host: HOST,
        packets: counts,
        putvals: PUTVALS,
        notifications: PUTNOTIFS,
        csv,
      },
      null,
      1,
    ) + "\n",
  );
  console.log(
    `captured ${packets.length} packets (${
      counts.reduce((n, c) => n + c.valueLists, 0)
    } value lists) in ${dir}`,
  );
  if (statSync(dir).isDirectory()) rmSync(dir, { recursive: true, force: true });
}

await main();
