/**
 * The compiled `dist/tally` forwarding InfluxDB line protocol to Debian's InfluxDB 1.6 (`influxd`) and
 * VictoriaMetrics 1.79 (`/write`), each started here on loopback ports and stopped by PID. tally's store is
 * the oracle: every point a flush stored went into the outboxes first, so each receiver must end up with
 * exactly the stored points, same timestamps, same values.
 *
 * - values: StatsD counters, gauges, timers and an event for a few 1 s windows, read back through each
 *   receiver's own query API (InfluxQL `/query`; VictoriaMetrics' `/api/v1/export`): delta counters into
 *   InfluxDB, cumulative into VictoriaMetrics, gauges, summary percentiles, counts and sums;
 * - escaping: names, tags and strings with commas, spaces, equals signs, quotes, backslashes and newlines,
 *   written by the encoder to both receivers and read back;
 * - outage: InfluxDB is down while tally flushes, tally is killed with SIGKILL and started again, then
 *   InfluxDB comes up: every point arrives, none missing, none with a changed timestamp.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Metric } from "../../src/model/metric.ts";
import type { Labels } from "../../src/model/sample.ts";
import { seriesKey } from "../../src/model/series_key.ts";
import { createInfluxEncoder } from "../../src/outputs/influx/encode.ts";
import { freePort } from "../harness/free_port.ts";
import {
  delivered,
  forwardingSuite,
  nextWindow,
  selfMetric,
  sendDuringOutage,
  sendStatsd,
  storePoints,
} from "../harness/forwarding.ts";
import { type Influxd, influxdMissing, startInfluxd } from "../harness/influxd.ts";
import { startVictoriaMetrics, type Tsdb, tsdbMissing, VICTORIA_METRICS_BINARY } from "../harness/tsdb.ts";
import { waitFor } from "../harness/wait_for.ts";

const WINDOWS = 3;
const missing = influxdMissing() ?? tsdbMissing(VICTORIA_METRICS_BINARY, "-version");

describe("e2e: influx from dist/tally to InfluxDB 1.6 and VictoriaMetrics 1.79", () => {
  const suite = forwardingSuite("tally-e2e-influx-", missing);
  const startTally = suite.startTally;

  function daemon<T extends Influxd | Tsdb>(start: Promise<T>): Promise<T> {
    return suite.keep(start, (started) => started.stop());
  }

  it("stores what tally aggregated: delta and cumulative counters, gauges, summary percentiles, events", async (t) => {
    if (missing !== undefined) return t.skip(missing);
    const influxd = await daemon(
      startInfluxd(join(suite.root, "values", "influxd"), { databases: ["tally"] }),
    );
    const vm = await daemon(startVictoriaMetrics(join(suite.root, "values", "vm")));
    const tally = await startTally(
      "values",
      `[outputs.influxdb]\ntype = "influx"\nurl = "${influxd.url}"\ndatabase = "tally"\n\n` +
        `[outputs.vm]\ntype = "influx"\nurl = "${vm.url}"\ndatabase = "tally"\ntemporality = "cumulative"\n` +
        `precision = "us"\ncompression = "none"\nevents_measurement = ""\n`,
    );
    for (let w = 0; w < WINDOWS; w++) {
      const lines = [`e2e.hits:${w + 1}|c|#route:/a b`, `e2e.temp:${20 + w * 0.5}|g`];
      for (let v = 1; v <= 20; v++) lines.push(`e2e.lat:${v * (w + 1)}|ms`);
      if (w === 1) lines.push("_e{6,11}:Deploy|v2 released|#env:prod");
      await nextWindow();
      await sendStatsd(tally.statsdPort!, lines);
    }
    const hits = await storePoints(tally, "e2e.hits", WINDOWS);
    const temp = await storePoints(tally, "e2e.temp", WINDOWS);
    const lat = await storePoints(tally, "e2e.lat", WINDOWS);
    await delivered(tally, ["influxdb", "vm"]);

    // InfluxDB: delta counters (the window's sum), Telegraf's timer fields, the metric_type tag.
    const rows = async (query: string, count: number) =>
      await waitFor(async () => {
        const [series] = await influxd.query(query, "tally");
        return series !== undefined && series.values.length >= count ? series.values : undefined;
      }, { timeoutMs: 15_000, what: `${count} rows of ${query}` });
    assert.deepEqual(
      await rows(`SELECT "value", "metric_type", "route" FROM "e2e.hits"`, hits.length),
      hits.map((p) => [p.t, p.value, "counter", "/a b"]),
    );
    assert.deepEqual(
      await rows(`SELECT "value" FROM "e2e.temp" WHERE "metric_type" = 'gauge'`, temp.length),
      temp.map((p) => [p.t, p.value]),
    );
    assert.deepEqual(
      await rows(
        `SELECT "count", "sum", "mean", "lower", "upper", "50_percentile", "99_percentile" FROM "e2e.lat"`,
        lat.length,
      ),
      lat.map((p) => {
        const f = p.fields!;
        return [p.t, f["count"], f["sum"], f["mean"], f["min"], f["max"], f["p50"], f["p99"]];
      }),
    );
    const [fieldKeys] = await influxd.query(`SHOW FIELD KEYS FROM "e2e.lat"`, "tally");
    assert.ok(fieldKeys!.values.every(([, type]) => type === "float"), "every field is a float");
    const [events] = await influxd.query(`SELECT "title", "text", "kind", "env" FROM "events"`, "tally");
    assert.deepEqual(events!.values.map((row) => row.slice(1)), [["Deploy", "v2 released", "event", "prod"]]);

    // VictoriaMetrics: cumulative totals, microsecond precision; measurement_field names, tags as labels.
    const samples = async (name: string, count: number) =>
      await waitFor(async () => {
        const found = await vm.series(`{__name__="${name}",db="tally"}`);
        return found.length === 1 && found[0]!.samples.length >= count ? found[0]! : undefined;
      }, { timeoutMs: 15_000, what: `${count} samples of ${name}` });
    const vmHits = await samples("e2e.hits_value", hits.length);
    assert.deepEqual(vmHits.labels, {
      __name__: "e2e.hits_value",
      db: "tally",
      metric_type: "counter",
      route: "/a b",
    });
    assert.deepEqual(
      vmHits.samples.map((s) => [s.timestampMs, s.value]),
      hits.map((p) => [p.t, p.fields!["total"]]),
    );
    assert.deepEqual(
      (await samples("e2e.temp_value", temp.length)).samples.map((s) => [s.timestampMs, s.value]),
      temp.map((p) => [p.t, p.value]),
    );
    const fields = [["99_percentile", "p99"], ["count", "totalCount"], ["sum", "totalSum"]] as const;
    for (const [field, stored] of fields) {
      assert.deepEqual(
        (await samples(`e2e.lat_${field}`, lat.length)).samples.map((s) => [s.timestampMs, s.value]),
        lat.map((p) => [p.t, p.fields![stored]]),
        field,
      );
    }
    assert.deepEqual(await vm.series('{__name__=~"events.*"}'), [], "no events to VictoriaMetrics");
    assert.equal(await selfMetric(tally, "tally_output_failed_batches_total"), 0);
  });

  it("escapes names, tags and strings so that both receivers read them back", async (t) => {
    if (missing !== undefined) return t.skip(missing);
    const influxd = await daemon(
      startInfluxd(join(suite.root, "escaping", "influxd"), { databases: ["esc"] }),
    );
    const vm = await daemon(startVictoriaMetrics(join(suite.root, "escaping", "vm")));
    const timeMs = Math.floor(Date.now() / 1000) * 1000;
    const gauge = (name: string, labels: Labels): Metric => ({
      name,
      labels,
      key: seriesKey(name, labels),
      kind: "gauge",
      point: { kind: "gauge", value: 1 },
      timeMs,
      intervalMs: 1000,
      startMs: timeMs,
    });
    const metrics = [
      gauge("disk free,root dir", [["mount point", "/var, /tmp"], ["opts=ro", "a=b"]]),
      gauge("win\\path", [["dir", "C:\\Temp"], ["mix", "a\\,b"], ["quote", 'say "hi"']]),
      gauge("multi\nline", [["end", "slash\\"]]),
    ];
    const events = [{
      kind: "event" as const,
      title: 'Deploy "v2"',
      text: "rolled out\nto 3 hosts, C:\\app\\",
      timeMs,
      labels: [["where", "edge 1,a=b"]] as Labels,
      status: -1,
    }];
    const encoder = createInfluxEncoder({
      api: "v1",
      precision: "ms",
      temporality: "delta",
      compression: "none",
      eventsMeasurement: "tally events",
      maxBatchLines: 100,
      maxBatchBytes: 1 << 20,
    });
    const [batch] = encoder.encode({ windowMs: timeMs, metrics, events }).batches;
    for (const url of [`${influxd.url}/write?db=esc&precision=ms`, `${vm.url}/write?db=esc&precision=ms`]) {
      const response = await fetch(url, {
        method: "POST",
        body: new Blob([batch!.body as Uint8Array<ArrayBuffer>]),
      });
      assert.equal(response.status, 204, `${url}: ${await response.text()}`);
    }
    const [measurements] = await influxd.query("SHOW MEASUREMENTS", "esc");
    assert.deepEqual(measurements!.values.map(([name]) => name), [
      "disk free,root dir",
      "multi\\nline",
      "tally events",
      "win\\path",
    ]);
    const tags = await influxd.query("SHOW TAG VALUES WITH KEY =~ /.*/", "esc");
    assert.deepEqual(tags.map((s) => [s.name, s.values]), [
      ["disk free,root dir", [["metric_type", "gauge"], ["mount point", "/var, /tmp"], ["opts=ro", "a=b"]]],
      // InfluxDB 1.x cannot parse a backslash that ends a tag value: for api v1 it is dropped.
      ["multi\\nline", [["end", "slash"], ["metric_type", "gauge"]]],
      ["tally events", [["where", "edge 1,a=b"]]],
      // A backslash before an escaped character is doubled: InfluxDB 1.x keeps both, the others read one.
      ["win\\path", [["dir", "C:\\Temp"], ["metric_type", "gauge"], ["mix", "a\\\\,b"], [
        "quote",
        'say "hi"',
      ]]],
    ]);
    const [event] = await influxd.query(`SELECT "title", "text" FROM "tally events"`, "esc");
    assert.deepEqual(event!.values[0]!.slice(1), ['Deploy "v2"', "rolled out\\nto 3 hosts, C:\\app\\"]);
    const labels = await waitFor(async () => {
      const found = await vm.series('{db="esc"}');
      return found.length >= 3 ? found.map((s) => s.labels) : undefined;
    }, { what: "the escaping series in VictoriaMetrics" });
    assert.deepEqual(labels.filter((l) => !l["__name__"]!.startsWith("tally events")), [
      {
        __name__: "disk free,root dir_value",
        db: "esc",
        metric_type: "gauge",
        "mount point": "/var, /tmp",
        "opts=ro": "a=b",
      },
      { __name__: "multi\\nline_value", db: "esc", end: "slash", metric_type: "gauge" },
      {
        __name__: "win\\path_value",
        db: "esc",
        dir: "C:\\Temp",
        metric_type: "gauge",
        mix: "a\\,b",
        quote: 'say "hi"',
      },
    ]);
  });

  it("authenticates with HTTP Basic as InfluxDB 1.x takes it; a wrong password is refused and logged", async (t) => {
    if (missing !== undefined) return t.skip(missing);
    const admin = { username: "edge", password: "s3cret:pw" };
    const influxd = await daemon(
      startInfluxd(join(suite.root, "auth", "influxd"), { databases: ["tally"], admin }),
    );
    const output = (id: string, password: string) =>
      `[outputs.${id}]\ntype = "influx"\nurl = "${influxd.url}"\ndatabase = "tally"\nusername = "edge"\n` +
      `password = "${password}"\n\n`;
    const tally = await startTally("auth", output("good", admin.password) + output("bad", "wrong"));
    await sendStatsd(tally.statsdPort!, ["e2e.auth.level:7|g"]);
    const [stored] = await storePoints(tally, "e2e.auth.level", 1);
    await delivered(tally, ["good"]);
    await waitFor(
      async () => (await selfMetric(tally, "tally_output_failed_batches_total", { component_id: "bad" })) > 0,
      { what: "the refused batch" },
    );
    const [series] = await influxd.query(`SELECT "value" FROM "e2e.auth.level"`, "tally");
    assert.deepEqual(series!.values, [[stored!.t, 7]]);
    assert.match(
      tally.stderr(),
      /msg="Receiver rejected a batch; dropped it" .*component_id=bad.*status=401/,
    );
  });

  it("counts a partial write line by line: what InfluxDB stored as sent, the conflicting line as rejected", async (t) => {
    if (missing !== undefined) return t.skip(missing);
    const influxd = await daemon(
      startInfluxd(join(suite.root, "partial", "influxd"), { databases: ["tally"] }),
    );
    // A string field first: tally's float for the same field is then a field type conflict.
    const seeded = await fetch(`${influxd.url}/write?db=tally`, {
      method: "POST",
      body: 'e2e.clash value="text"',
    });
    assert.equal(seeded.status, 204);
    const tally = await startTally(
      "partial",
      `[outputs.influxdb]\ntype = "influx"\nurl = "${influxd.url}"\ndatabase = "tally"\ncompression = "none"\n`,
    );
    await nextWindow();
    await sendStatsd(tally.statsdPort!, ["e2e.clash:5|g", "e2e.fine:7|g"]);
    await waitFor(
      async () => (await selfMetric(tally, "tally_output_failed_batches_total", { reason: "rejected" })) > 0,
      { timeoutMs: 15_000, what: "the partial write" },
    );
    await waitFor(
      async () =>
        (await selfMetric(tally, "tally_output_queued_batches", { component_id: "influxdb" })) === 0,
      { timeoutMs: 15_000, what: "an empty outbox" },
    );
    const received = await selfMetric(tally, "tally_component_received_events_total", {
      component_id: "influxdb",
    });
    const sent = await selfMetric(tally, "tally_component_sent_events_total", { component_id: "influxdb" });
    const refused = await selfMetric(tally, "tally_component_dropped_events_total", { reason: "rejected" });
    assert.ok(refused >= 1 && sent >= 1, `sent ${sent}, refused ${refused}`);
    assert.equal(sent + refused, received, "each line counted once, as sent or as refused");
    assert.match(
      tally.stderr(),
      /msg="Receiver rejected a batch; dropped it" .*samples=1 stored=1 .*partial write/,
    );
    const [fine] = await influxd.query(`SELECT "value" FROM "e2e.fine"`, "tally");
    assert.equal(fine?.values[0]?.[1], 7);
  });

  it("delivers every point with its timestamp after an outage that spans a kill -9", async (t) => {
    if (missing !== undefined) return t.skip(missing);
    const port = await freePort("tcp");
    const dir = join(suite.root, "outage", "influxd");
    // The database exists before the outage, as it would in production; InfluxDB is then down.
    await (await startInfluxd(dir, { port, databases: ["tally"] })).stop();
    const dataDir = join(suite.root, "outage", "data");
    const output =
      `[outputs.influxdb]\ntype = "influx"\nurl = "http://127.0.0.1:${port}"\ndatabase = "tally"\n` +
      `min_backoff = "100ms"\nmax_backoff = "500ms"\n`;
    const first = await startTally("outage", output, dataDir);
    const { hits, level } = await sendDuringOutage(first, WINDOWS);
    process.kill(first.pid, "SIGKILL");
    await first.exited;
    const second = await startTally("outage", output, dataDir);
    const influxd = await daemon(startInfluxd(dir, { port }));
    await delivered(second, ["influxdb"]);
    const [storedHits] = await influxd.query(`SELECT "value" FROM "e2e.out.hits"`, "tally");
    assert.deepEqual(storedHits!.values, hits.map((p) => [p.t, p.value]));
    const [storedLevel] = await influxd.query(`SELECT "value" FROM "e2e.out.level"`, "tally");
    assert.deepEqual(storedLevel!.values, level.map((p) => [p.t, p.value]));
    assert.equal(await selfMetric(second, "tally_output_failed_batches_total"), 0);
  });
});
