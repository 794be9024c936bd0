import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { inspect } from "node:util";
import { readCsvCounters } from "./collectd_receiver.ts";
import { parseEtsyCounters } from "./etsy_receiver.ts";
import { processTree, treeMemory, udpPortState } from "../_shared/proc_stats.ts";
import { parseTallyCounters, parseTallyDiagnostics } from "./tally_receiver.ts";

describe("parseTallyCounters()", () => {
  it("maps bench_c_K_total back to bench.c.K and sums label sets", () => {
    const text = [
      "# TYPE bench_c_0_total counter",
      "bench_c_0_total 120",
      'bench_c_3_total{host="a"} 5',
      'bench_c_3_total{host="b"} 7',
      "bench_c_4_rate 1.5",
      "bench_g_1 17",
      "tally_statsd_lines_total 99",
    ].join("\n");
    assert.deepEqual([...parseTallyCounters(text)], [["bench.c.0", 120], ["bench.c.3", 12]]);
  });
});

describe("parseTallyDiagnostics()", () => {
  it("sums packets, drops by reason, bad lines, worker restarts, lines parsed and live series", () => {
    const text = [
      'tally_component_dropped_events_total{component_id="statsd",component_type="statsd",reason="ring_full"} 12',
      'tally_component_dropped_events_total{component_id="statsd",component_type="statsd",reason="kernel"} 3',
      'tally_component_errors_total{component_id="statsd",component_type="statsd",error_type="bad_line"} 1',
      'tally_input_packets_total{component_id="statsd",component_type="statsd",transport="udp"} 500',
      'tally_input_packets_total{component_id="statsd",component_type="statsd",transport="tcp"} 9',
      "tally_worker_restarts_total 2",
      "tally_series_live 1000",
      'tally_component_received_events_total{component_id="statsd",component_type="statsd"} 4000',
    ].join("\n");
    assert.deepEqual(parseTallyDiagnostics(text), {
      dropped_ring_full: 12,
      dropped_kernel: 3,
      bad_lines: 1,
      packets_received: 500,
      worker_restarts: 2,
      series_live: 1000,
      lines_received: 4000,
    });
  });
});

describe("parseEtsyCounters()", () => {
  it("reads the util.inspect output of the management counters command", () => {
    // Built the way Etsy statsd builds it: util.inspect of the counters object, then END.
    const counters: Record<string, number> = {
      "statsd.bad_lines_seen": 0,
      "statsd.packets_received": 10,
    };
    for (let k = 0; k < 500; k++) counters[`bench.c.${k}`] = k * 1000 + 1;
    const reply = `${inspect(counters)}\nEND\n\n`;
    const totals = parseEtsyCounters(reply);
    assert.equal(totals.size, 500);
    assert.equal(totals.get("bench.c.499"), 499_001);
    assert.equal(totals.has("statsd.packets_received"), false);
  });
});

describe("readCsvCounters()", () => {
  it("takes the last row of the newest file per counter", async () => {
    const dir = await mkdtemp(join(tmpdir(), "statsd-bench-csv-"));
    try {
      await writeFile(join(dir, "derive-bench.c.0-2026-01-01"), "epoch,value\n1.0,10\n2.0,25\n");
      await writeFile(join(dir, "derive-bench.c.0-2026-01-02"), "epoch,value\n3.0,40\n");
      await writeFile(join(dir, "derive-bench.c.9-2026-01-02"), "epoch,value\n3.0,7\n");
      await writeFile(join(dir, "gauge-bench.g.1-2026-01-02"), "epoch,value\n3.0,700\n");
      const totals = await readCsvCounters(dir);
      assert.deepEqual([...totals].sort(), [["bench.c.0", 40], ["bench.c.9", 7]]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("returns nothing before the csv plugin wrote its directory", async () => {
    assert.equal((await readCsvCounters(join(tmpdir(), "statsd-bench-absent-dir"))).size, 0);
  });
});

describe("udpPortState()", () => {
  it("sees a bound loopback socket and forgets it once closed", async () => {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
    const port = socket.address().port;
    const bound = udpPortState(port);
    assert.equal(bound.bound, true);
    assert.equal(bound.drops, 0);
    await new Promise<void>((resolve) => socket.close(resolve));
    assert.equal(udpPortState(port).bound, false);
  });
});

describe("treeMemory()", () => {
  it("reads this process's resident memory", () => {
    const pids = processTree(process.pid);
    assert.equal(pids[0], process.pid);
    const memory = treeMemory(pids);
    assert.ok(memory.rssBytes > 1024 * 1024, `rss ${memory.rssBytes}`);
    assert.ok(memory.hwmBytes >= memory.rssBytes, `hwm ${memory.hwmBytes} rss ${memory.rssBytes}`);
  });
});
