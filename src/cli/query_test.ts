import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Metric, Point } from "../model/metric.ts";
import type { Labels, SampleKind } from "../model/sample.ts";
import { seriesKey } from "../model/series_key.ts";
import { Store } from "../store/store.ts";
import type { SeriesResult } from "../store/point_table.ts";
import type { CliIo } from "./cli_io.ts";
import { query } from "./query.ts";

const MINUTE = 60_000;

function metric(name: string, labels: Labels, kind: SampleKind, point: Point, timeMs: number): Metric {
  return { name, labels, key: seriesKey(name, labels), kind, point, timeMs, intervalMs: 10_000, startMs: 0 };
}

interface Captured {
  readonly io: CliIo;
  readonly out: () => string;
  readonly err: () => string;
}

function capture(cwd: string): Captured {
  let out = "";
  let err = "";
  return {
    io: {
      stdout: (s) => {
        out += s;
      },
      stderr: (s) => {
        err += s;
      },
      env: {},
      cwd,
      shutdown: new AbortController().signal,
    },
    out: () => out,
    err: () => err,
  };
}

describe("query", () => {
  let cwd = "";
  const now = Date.now();

  before(() => {
    cwd = mkdtempSync(join(tmpdir(), "tally-query-"));
    // Data where the default --data-dir finds it: <cwd>/data.
    const store = Store.open(join(cwd, "data"));
    const batch: Metric[] = [];
    for (let i = 0; i < 8; i++) {
      const t = now - (8 - i) * MINUTE;
      batch.push(metric("temp", [["room", "a"]], "gauge", { kind: "gauge", value: i + 1 }, t));
      batch.push(metric("temp", [["room", "kitchen"]], "gauge", { kind: "gauge", value: 20 }, t));
      batch.push(
        metric("hits", [], "counter", { kind: "counter", delta: i * 2, total: i * i, rate: i / 5 }, t),
      );
    }
    batch.push(metric("temp", [["room", "a"]], "gauge", { kind: "gauge", value: 99 }, now - 3 * 60 * MINUTE));
    batch.push(
      metric("api.requests", [], "counter", { kind: "counter", delta: 3, total: 3, rate: 0.3 }, now - MINUTE),
    );
    store.append(batch);
    store.appendEvents([
      {
        kind: "event",
        title: "Deploy",
        text: "v1.2 to prod",
        timeMs: now - 10 * MINUTE,
        endMs: now - 10 * MINUTE + 90_000,
        labels: [["env", "prod"]],
        status: -1,
      },
      { kind: "service_check", title: "disk", text: "", timeMs: now - 5 * MINUTE, labels: [], status: 2 },
    ], now);
    store.close();
  });

  after(() => {
    rmSync(cwd, { recursive: true, force: true });
  });

  it("query() takes the /metrics name of a series and says which stored name it shows", async () => {
    for (const spelling of ["hits_total", "api_requests_total", "api_requests"]) {
      const c = capture(cwd);
      assert.equal(await query([spelling], c.io), 0, c.err());
      const stored = spelling.startsWith("api") ? "api.requests" : "hits";
      assert.equal(c.err(), `Showing "${stored}": "${spelling}" is its name on /metrics\n`);
      assert.match(c.out(), new RegExp(`^${stored.replace(".", "\\.")} +counter `));
    }
  });

  it("query() suggests stored names that look like an unknown one", async () => {
    const c = capture(cwd);
    assert.equal(await query(["tmp"], c.io), 1);
    assert.equal(c.out(), "");
    assert.match(
      c.err(),
      /^No series named "tmp" since 1h in "\.\/data\/tally\.db"; did you mean "temp"\?\n$/,
    );
  });

  it("query() prints each series with its latest value, min, max and a sparkline", async () => {
    const c = capture(cwd);
    assert.equal(await query(["temp"], c.io), 0);
    assert.equal(c.err(), "");
    assert.equal(
      c.out(),
      'temp{room="a"}        gauge  last=8   min=1   max=8   ▁▂▃▄▅▆▇█  (8 points)\n' +
        'temp{room="kitchen"}  gauge  last=20  min=20  max=20  ▄▄▄▄▄▄▄▄  (8 points)\n',
    );
  });

  it("query() widens the range with --since and narrows it with --until", async () => {
    const c = capture(cwd);
    assert.equal(await query(["temp", "--since", "4h", "--until", "2h", "--label", "room=a"], c.io), 0);
    assert.equal(c.out(), 'temp{room="a"}  gauge  last=99  min=99  max=99  ▄  (1 point)\n');
    const d = capture(cwd);
    assert.equal(
      await query(["temp", "--label", "room=b", "--label", "room=kitchen"], d.io),
      0,
      "the last --label wins",
    );
    assert.match(d.out(), /^temp\{room="kitchen"\}/);
  });

  it("query() filters by --label and prints JSON with --json", async () => {
    const c = capture(cwd);
    assert.equal(await query(["hits", "--json", "-l", "x=y"], c.io), 1);
    const d = capture(cwd);
    assert.equal(
      await query(["temp", "--json", "--label", "room=kitchen", "--data-dir", "./data/"], d.io),
      0,
    );
    const series = JSON.parse(d.out()) as SeriesResult[];
    assert.equal(series.length, 1);
    assert.deepEqual(series[0]?.labels, { room: "kitchen" });
    assert.equal(series[0]?.points.length, 8);
    assert.ok(series[0]?.points.every((p) => p.value === 20));
  });

  it("query() prints counters by their window delta", async () => {
    const c = capture(cwd);
    assert.equal(await query(["hits", "--data-dir", join(cwd, "data")], c.io), 0);
    assert.equal(c.out(), "hits  counter  last=14  min=0  max=14  ▁▂▃▄▅▆▇█  (8 points)\n");
  });

  it("query() exits 1 naming the series, range and file when nothing matches", async () => {
    const c = capture(cwd);
    assert.equal(await query(["x"], c.io), 1);
    assert.equal(c.out(), "");
    assert.equal(c.err(), 'No series named "x" since 1h in "./data/tally.db"\n');
    const d = capture(cwd);
    assert.equal(await query(["temp", "--since", "15m", "--label", "room=attic"], d.io), 1);
    assert.equal(
      d.err(),
      'No series named "temp" with labels {room="attic"} since 15m in "./data/tally.db"\n',
    );
  });

  it("query() exits 1 when the store does not exist", async () => {
    const c = capture(cwd);
    assert.equal(await query(["temp", "--data-dir", "elsewhere"], c.io), 1);
    assert.equal(c.err(), 'Cannot open store "elsewhere/tally.db": file not found\n');
  });

  it("query() prints usage and exits 0 with --help", async () => {
    const c = capture(cwd);
    assert.equal(await query(["--help"], c.io), 0);
    assert.match(c.out(), /^Usage: tally query NAME \[options\]/);
    assert.equal(c.err(), "");
  });

  it("query() --events prints events newest first with their start, end and duration", async () => {
    const c = capture(cwd);
    assert.equal(await query(["--events"], c.io), 0);
    const iso = (ms: number) => new Date(ms).toISOString();
    assert.equal(
      c.out(),
      `${iso(now - 5 * MINUTE)}  ${iso(now - 5 * MINUTE)}  0s     service_check  "disk"\n` +
        `${iso(now - 10 * MINUTE)}  ${iso(now - 10 * MINUTE + 90_000)}  1m30s  event          "Deploy"  ` +
        `{env="prod"}  "v1.2 to prod"\n`,
    );
    const json = capture(cwd);
    assert.equal(await query(["--events", "--json", "--since", "7m"], json.io), 0);
    assert.deepEqual(JSON.parse(json.out()).map((e: { title: string; end: number }) => [e.title, e.end]), [
      ["disk", now - 5 * MINUTE],
    ]);
    const none = capture(cwd);
    assert.equal(await query(["--events", "--since", "1m"], none.io), 1);
    assert.match(none.err(), /^No events since 1m in "\.\/data\/tally\.db"\n$/);
  });

  it("query() exits 2 on usage errors", async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /^tally query: Missing series NAME\n\nUsage: tally query/],
      [["a", "b"], /^tally query: Expected one series NAME, got 2: a b\n/],
      [["temp", "--since", "soon"], /^tally query: Invalid --since "soon": expected a duration like "1h"/],
      [["temp", "--until", "later"], /^tally query: Invalid --until "later": /],
      [["temp", "--label", "room"], /^tally query: Invalid --label "room": expected NAME=VALUE\n/],
      [["temp", "--label", "=a"], /^tally query: Invalid --label "=a": expected NAME=VALUE\n/],
      [["temp", "--bogus"], /^tally query: .*bogus/],
      [["temp", "--events"], /^tally query: --events takes no series NAME, got temp\n/],
    ];
    for (const [args, message] of cases) {
      const c = capture(cwd);
      assert.equal(await query(args, c.io), 2, args.join(" "));
      assert.match(c.err(), message, args.join(" "));
      assert.equal(c.out(), "");
    }
  });
});
