/**
 * The compiled `dist/tally` forwarding over remote-write to Debian's Prometheus 2.42
 * (`--web.enable-remote-write-receiver`) and VictoriaMetrics 1.79, each started here on a loopback port
 * and stopped by PID. tally's own store is the oracle: every point a flush stored went into the outboxes
 * first, so each receiver must end up with exactly the stored points, same timestamps, same values.
 *
 * - values: StatsD counters, gauges and timers for a few 1 s windows, read back through each receiver's
 *   query API (raw samples, `irate()` of the counter, summary quantiles, `_sum`, `_count`);
 * - outage: the receiver is down while tally flushes, tally is killed with SIGKILL and started again, then
 *   the receiver comes up: every point arrives, none missing, none moved (Prometheus refuses samples out
 *   of order, so it also holds the order per series);
 * - cap: a 64 KiB outbox evicts the oldest windows and says how much;
 * - torn write: the newest outbox segment loses its tail to a "crash"; tally skips it, says so, and
 *   delivers the rest.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../harness/free_port.ts";
import {
  delivered,
  forwardingSuite,
  nextWindow,
  selfMetric as metric,
  sendDuringOutage,
  sendStatsd,
  storePoints,
} from "../harness/forwarding.ts";
import {
  PROMETHEUS_BINARY,
  startPrometheus,
  startVictoriaMetrics,
  tsdbMissing,
  VICTORIA_METRICS_BINARY,
} from "../harness/tsdb.ts";
import type { StoredSeries, Tsdb } from "../harness/tsdb.ts";
import { waitFor } from "../harness/wait_for.ts";

const WINDOWS = 4;
const missing = tsdbMissing(VICTORIA_METRICS_BINARY, "-version") ?? tsdbMissing(PROMETHEUS_BINARY);

describe("e2e: remote_write from dist/tally to Prometheus 2.42 and VictoriaMetrics 1.79", () => {
  const suite = forwardingSuite("tally-e2e-rw-", missing);
  const startTally = suite.startTally;

  function output(id: string, url: string, extra = ""): string {
    return `[outputs.${id}]\ntype = "remote_write"\nurl = "${url}"\nmin_backoff = "100ms"\nmax_backoff = "500ms"\n` +
      `external_labels = { site = "e2e" }\n${extra}\n`;
  }

  function daemon(start: Promise<Tsdb>): Promise<Tsdb> {
    return suite.keep(start, (started) => started.stop());
  }

  it("stores exactly what tally aggregated: counter totals and rates, gauges, summary quantiles", async (t) => {
    if (missing !== undefined) return t.skip(missing);
    const vm = await daemon(startVictoriaMetrics(join(suite.root, "values", "vm")));
    const prom = await daemon(startPrometheus(join(suite.root, "values", "prom")));
    const tally = await startTally(
      "values",
      output("vm", vm.writeUrl) + output("prom", prom.writeUrl),
    );
    for (let w = 0; w < WINDOWS; w++) {
      const lines = [`e2e.hits:${w + 1}|c`, `e2e.hits:2|c`, `e2e.temp:${20 + w * 0.5}|g`];
      for (let v = 1; v <= 20; v++) lines.push(`e2e.lat:${v * (w + 1)}|ms`);
      await nextWindow();
      await sendStatsd(tally.statsdPort!, lines);
    }
    const hits = await storePoints(tally, "e2e.hits", WINDOWS);
    const temp = await storePoints(tally, "e2e.temp", WINDOWS);
    const lat = await storePoints(tally, "e2e.lat", WINDOWS);
    await delivered(tally, ["vm", "prom"]);

    for (const receiver of [vm, prom]) {
      const site = { site: "e2e" };
      assert.deepEqual(
        await samplesOf(receiver, "e2e_hits_total", site, hits.length),
        hits.map((p) => [p.t, p.fields!["total"]]),
      );
      assert.deepEqual(
        await samplesOf(receiver, "e2e_temp", site, temp.length),
        temp.map((p) => [p.t, p.value]),
      );
      for (const [quantile, field] of [["0.5", "p50"], ["0.99", "p99"]] as const) {
        assert.deepEqual(
          await samplesOf(receiver, "e2e_lat", { ...site, quantile }, lat.length),
          lat.map((p) => [p.t, p.fields![field]]),
        );
      }
      assert.deepEqual(
        await samplesOf(receiver, "e2e_lat_sum", site, lat.length),
        lat.map((p) => [p.t, p.fields!["totalSum"]]),
      );
      assert.deepEqual(
        await samplesOf(receiver, "e2e_lat_count", site, lat.length),
        lat.map((p) => [p.t, p.fields!["totalCount"]]),
      );
      // The receiver's per-second rate between the last two points is the increase tally counted over
      // them; with consecutive windows it is the rate tally stored for the last one.
      const last = hits.at(-1)!;
      const previous = hits.at(-2)!;
      const expected = (last.fields!["total"]! - previous.fields!["total"]!) / ((last.t - previous.t) / 1000);
      if (last.t - previous.t === 1000) assert.equal(expected, last.fields!["rate"]);
      const [rate] = await receiver.instant('irate(e2e_hits_total{site="e2e"}[1m])', last.t);
      assert.ok(rate !== undefined, "irate has a value");
      assert.ok(Math.abs(rate.value - expected) < 1e-9, `irate ${rate.value} vs ${expected}`);
    }
  });

  it("delivers every point in order with its timestamp after an outage that spans a kill -9", async (t) => {
    if (missing !== undefined) return t.skip(missing);
    const port = await freePort("tcp");
    const url = `http://127.0.0.1:${port}/api/v1/write`;
    const dataDir = join(suite.root, "outage", "data");
    const first = await startTally("outage", output("prom", url, 'stall_after = "2s"'), dataDir);
    const { hits, level } = await sendDuringOutage(first, WINDOWS);
    // Four seconds without a delivery and data waiting: /readyz names the output.
    const readyz = await fetch(`${first.url}/readyz`);
    assert.equal(readyz.status, 503);
    assert.match(await readyz.text(), /^not ready\noutput remote_write "prom" has not delivered for \d+ s/);
    process.kill(first.pid, "SIGKILL");
    await first.exited;
    const second = await startTally("outage", output("prom", url), dataDir);
    const prom = await daemon(startPrometheus(join(suite.root, "outage", "prom"), { port }));
    await delivered(second, ["prom"]);
    assert.deepEqual(
      await samplesOf(prom, "e2e_out_hits_total", { site: "e2e" }, hits.length),
      hits.map((p) => [p.t, p.fields!["total"]]),
    );
    assert.deepEqual(
      await samplesOf(prom, "e2e_out_level", { site: "e2e" }, level.length),
      level.map((p) => [p.t, p.value]),
    );
    assert.equal(await metric(second, "tally_output_failed_batches_total", { reason: "rejected" }), 0);
    assert.equal((await fetch(`${second.url}/readyz`)).status, 200);
  });

  it("evicts the oldest batches past a small cap and says how many samples it dropped", async (t) => {
    if (missing !== undefined) return t.skip(missing);
    const port = await freePort("tcp");
    const url = `http://127.0.0.1:${port}/api/v1/write`;
    const tally = await startTally("cap", output("vm", url, 'outbox_max_size = "64KiB"'));
    const series = 300;
    const firstWindow = Math.floor(Date.now() / 1000) * 1000;
    for (let w = 0; w < 6; w++) {
      // Random names so snappy cannot shrink the batches below the cap.
      const lines = Array.from(
        { length: series },
        (_, i) => `e2e.cap.${randomName()}:${w}|g|#i:${i},r:${randomName()}${randomName()}${randomName()}`,
      );
      await nextWindow();
      await sendStatsd(tally.statsdPort!, lines);
    }
    await waitFor(async () => (await metric(tally, "tally_output_evicted_batches_total")) > 0, {
      timeoutMs: 15_000,
      what: "an eviction",
    });
    const evictedSamples = await metric(tally, "tally_component_dropped_events_total", { reason: "evicted" });
    assert.ok(evictedSamples >= series, `${evictedSamples} samples evicted`);
    assert.match(
      tally.stderr(),
      /msg="Outbox full; evicted the oldest batches" .*batches=\d+ samples=\d+ bytes=\d+/,
    );
    const vm = await daemon(startVictoriaMetrics(join(suite.root, "cap", "vm"), { port }));
    await delivered(tally, ["vm"]);
    const received = await metric(tally, "tally_component_received_events_total", { component_id: "vm" });
    const sent = await metric(tally, "tally_component_sent_events_total", { component_id: "vm" });
    // Read again: the last windows may have been flushed, and evicted more, after the first eviction.
    const evictedInAll = await metric(tally, "tally_component_dropped_events_total", { reason: "evicted" });
    assert.equal(sent + evictedInAll, received, "every sample was either delivered or counted as evicted");
    // VictoriaMetrics holds what was sent; and, at least once, perhaps the batch that was on the wire when
    // the cap evicted it: its request is aborted then, but the receiver may have stored it already.
    let seen = -1;
    const stored = await waitFor(async () => {
      const found = await vm.series('{__name__=~"e2e_cap_.*"}');
      seen = found.reduce((sum, s) => sum + s.samples.length, 0);
      return seen >= sent ? found : undefined;
    }, { timeoutMs: 15_000, what: `${sent} samples in VictoriaMetrics` }).catch((error: Error) => {
      throw new Error(`${error.message}; it holds ${seen}`, { cause: error });
    });
    assert.ok(seen <= received, `VictoriaMetrics holds ${seen} samples, tally took ${received}`);
    // The oldest windows went first: what arrived is the newest ones.
    const times = [...new Set(stored.flatMap((s) => s.samples.map((p) => p.timestampMs)))].sort();
    assert.ok(times.length >= 1 && times.length < 6, `windows delivered: ${times.length}`);
    assert.ok(times[0]! > firstWindow, "the first window was evicted");
  });

  it("skips a torn newest segment after a crash, says so, and delivers what came before", async (t) => {
    if (missing !== undefined) return t.skip(missing);
    const port = await freePort("tcp");
    const url = `http://127.0.0.1:${port}/api/v1/write`;
    const dataDir = join(suite.root, "torn", "data");
    const first = await startTally("torn", output("vm", url), dataDir);
    for (let w = 0; w < 3; w++) {
      await nextWindow();
      await sendStatsd(first.statsdPort!, [`e2e.torn.level:${w + 1}|g`]);
    }
    const level = await storePoints(first, "e2e.torn.level", 3);
    process.kill(first.pid, "SIGKILL");
    await first.exited;
    const outbox = join(dataDir, "outbox", "vm");
    const newest = readdirSync(outbox).filter((name) => name.endsWith(".seg")).sort().at(-1)!;
    truncateSync(join(outbox, newest), statSync(join(outbox, newest)).size - 5);
    const vm = await daemon(startVictoriaMetrics(join(suite.root, "torn", "vm"), { port }));
    const second = await startTally("torn", output("vm", url), dataDir);
    await delivered(second, ["vm"]);
    assert.match(second.stderr(), /msg="Skipped unreadable outbox data" .*reason=truncated/);
    assert.ok((await metric(second, "tally_output_skipped_bytes_total", { reason: "truncated" })) > 0);
    // Every window but the torn last batch arrived, with its timestamp and value.
    const expected = level.slice(0, -1).map((p) => [p.t, p.value]);
    const got = await samplesOf(vm, "e2e_torn_level", { site: "e2e" }, expected.length);
    assert.deepEqual(got.slice(0, expected.length), expected);
  });
});

/** The samples of one series as `[timestampMs, value]`, once the receiver has at least `count`. */
async function samplesOf(
  receiver: Tsdb,
  name: string,
  labels: Readonly<Record<string, string>>,
  count: number,
): Promise<Array<[number, number]>> {
  const selector = `{${
    Object.entries({ __name__: name, ...labels }).map(([k, v]) => `${k}="${v}"`).join(",")
  }}`;
  const series = await waitFor(async () => {
    const found: StoredSeries[] = await receiver.series(selector);
    return found.length === 1 && found[0]!.samples.length >= count ? found[0]! : undefined;
  }, { timeoutMs: 15_000, what: `${count} samples of ${selector} at ${receiver.url}` });
  return series.samples.map((s) => [s.timestampMs, s.value]);
}

function randomName(): string {
  return Math.random().toString(36).slice(2, 12);
}
