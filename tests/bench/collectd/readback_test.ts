import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { collectdGeneratorArgs, parseCollectdGeneratorSummary } from "./generator.ts";
import { countFromRows, parseTallyCount, readCollectdStats, readCsvRows } from "./receivers.ts";

const dir = mkdtempSync(join(tmpdir(), "tally-bench-collectd-readback-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("collectd benchmark readback", () => {
  it("parseTallyCount() takes the collectd input's parsed value lists and the generator's sums", () => {
    const text = [
      "# TYPE tally_component_received_events_total counter",
      'tally_component_received_events_total{component_id="collectd",component_type="collectd"} 1172622',
      'tally_component_received_events_total{component_id="statsd",component_type="statsd"} 5',
      'tally_input_packets_total{component_id="collectd",component_type="collectd",transport="udp"} 30000',
      'tally_component_dropped_events_total{component_id="collectd",component_type="collectd",reason="kernel"} 3',
      'tally_component_dropped_events_total{component_id="collectd",component_type="collectd",reason="ring_full"} 0',
      'tally_component_errors_total{component_id="collectd",component_type="collectd",error_type="bad_line"} 2',
      'collectd_bench_absolute_total{bench="g0",instance="benchhost",type="m3"} 10',
      'collectd_bench_absolute_total{bench="g0",instance="benchhost",type="m7"} 32',
      'collectd_bench_absolute_total{bench="g0",instance="otherhost",type="m7"} 1000',
      'collectd_bench_counter_total{bench="g0",instance="benchhost",type="m0"} 7',
      'collectd_bench_derive_total{bench="g0",instance="benchhost",type="m2"} 9',
      'collectd_bench_gauge{bench="g0",instance="benchhost",type="m1"} 1.5',
    ].join("\n");
    assert.deepEqual(parseTallyCount(text), {
      valueLists: 1172622,
      diagnostics: {
        absolute_sum: 42,
        counter_final_sum: 7,
        derive_final_sum: 9,
        packets: 30000,
        dropped_kernel: 3,
        dropped_ring_full: 0,
        bad_lines: 2,
      },
    });
  });

  it("readCollectdStats() reads the last complete csv row of each statistic, the newest day winning", async () => {
    const host = join(dir, "stats");
    mkdirSync(join(host, "network"), { recursive: true });
    mkdirSync(join(host, "collectd-write_queue"), { recursive: true });
    writeFileSync(
      join(host, "network", "total_values-dispatch-accepted-2026-11-23"),
      "epoch,value\n1795500000.000,999999\n",
    );
    writeFileSync(
      join(host, "network", "total_values-dispatch-accepted-2026-11-24"),
      // The last line is still being written: no newline yet.
      "epoch,value\n1795538623.247,184242\n1795538624.247,384551\n1795538625.247,61",
    );
    writeFileSync(join(host, "network", "if_packets-2026-11-24"), "epoch,rx,tx\n1795538624.247,15984,0\n");
    writeFileSync(
      join(host, "collectd-write_queue", "queue_length-2026-11-24"),
      "epoch,value\n1795538624.247,7.000000\n",
    );
    assert.deepEqual(await readCollectdStats(host), {
      valueLists: 384551,
      diagnostics: { packets: 15984, write_queue_length: 7 },
    });
    assert.deepEqual(await readCsvRows(host, "network/total_values-dispatch-accepted", 1), [
      { epochMs: 1795500000000, value: 999999 },
      { epochMs: 1795538623247, value: 184242 },
      { epochMs: 1795538624247, value: 384551 },
    ]);
    assert.deepEqual(await readCollectdStats(join(dir, "missing")), { valueLists: 0, diagnostics: {} });
  });

  it("countFromRows() interpolates the running total at a moment between the rows around it", () => {
    const rows = [{ epochMs: 1000, value: 0 }, { epochMs: 2000, value: 200 }, { epochMs: 3000, value: 600 }];
    assert.equal(countFromRows(rows, 2500), 400);
    assert.equal(countFromRows(rows, 2000), 200);
    assert.equal(countFromRows(rows, 500), 0, "before the first row: the first row");
    assert.equal(countFromRows(rows, 3001), undefined, "not known until a later row exists");
  });

  it("parseCollectdGeneratorSummary() reads collectd-gen's JSON line and the arguments name the run", () => {
    const line = JSON.stringify({
      tool: "collectd-gen",
      target_pps: 10000,
      duration_s: 3,
      packets_sent: 30000,
      packets_target: 30000,
      achieved_pps: 10000.3,
      bytes_sent: 43220648,
      max_packet_bytes: 1448,
      send_errors: 0,
      value_lists_sent: 1172622,
      value_lists_by_type: { counter: 293301, gauge: 293301, derive: 293010, absolute: 293010 },
      identifiers_by_type: { counter: 250, gauge: 250, derive: 250, absolute: 250 },
      absolute_sum: 879319,
      counter_final_sum: 879904,
      derive_final_sum: 879029,
      rate_ok: true,
    });
    const summary = parseCollectdGeneratorSummary(`ring of 103 packets\n${line}\n`);
    assert.equal(summary.valueListsSent, 1172622);
    assert.equal(summary.valueListsByType.derive, 293010);
    assert.equal(summary.identifiersByType.gauge, 250);
    assert.equal(summary.absoluteSum, 879319);
    assert.equal(summary.rateOk, true);
    assert.throws(() => parseCollectdGeneratorSummary("{}"), /field "target_pps" is not a number/);
    assert.throws(() => parseCollectdGeneratorSummary("oops"), /expected JSON, found "oops"/);
    assert.deepEqual(
      collectdGeneratorArgs({ port: 4000, pps: 1999.6, seconds: 5, names: 1000, maxPacketBytes: 1452 }),
      [
        "-H",
        "127.0.0.1",
        "-p",
        "4000",
        "-r",
        "2000",
        "-d",
        "5",
        "-n",
        "1000",
        "-M",
        "1452",
        "-q",
      ],
    );
  });
});
