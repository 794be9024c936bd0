import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import type { Metric, Point } from "../../model/metric.ts";
import type { Labels, SampleKind } from "../../model/sample.ts";
import type { SelfFamily } from "../../internal/self_stats.ts";
import { seriesKey } from "../../model/series_key.ts";
import { prometheusChunks, renderPrometheus, SKIPPED_SERIES_FAMILY } from "./render.ts";

function metric(name: string, labels: Labels, point: Point, kind?: SampleKind): Metric {
  return {
    name,
    labels,
    key: seriesKey(name, labels),
    kind: kind ?? (point.kind === "summary" ? "timer" : point.kind),
    point,
    timeMs: 1_700_000_000_000,
    intervalMs: 10_000,
    startMs: 1_699_999_000_000,
  };
}

function counter(total: number): Point {
  return { kind: "counter", delta: 1, total, rate: 0.1 };
}

function gauge(value: number): Point {
  return { kind: "gauge", value };
}

function summary(
  totalCount: number,
  totalSum: number,
  quantiles: ReadonlyArray<readonly [number, number]>,
): Point {
  return {
    kind: "summary",
    count: 3,
    sum: 6,
    totalCount,
    totalSum,
    min: 1,
    max: 3,
    mean: 2,
    quantiles: quantiles.map(([q, value]) => ({ q, value })),
  };
}

const SELF: readonly SelfFamily[] = [
  {
    name: "tally_component_received_events_total",
    help: "Events received by the component (lines, value lists, samples)",
    type: "counter",
    series: [
      { labels: [["component_id", "statsd"], ["component_type", "statsd"]], value: 120 },
      { labels: [["component_id", "http"], ["component_type", "http"]], value: 7 },
    ],
  },
  {
    name: "tally_series_live",
    help: "Live series in the aggregator",
    type: "gauge",
    series: [{ labels: [], value: 9 }],
  },
];

/** Every kind, odd names, labels needing escapes, conflicts, duplicates, non-finite values. */
const RICH: readonly Metric[] = [
  metric("api.requests", [["env", "prod"], ["route", "/v1/items"]], counter(42)),
  metric("api.latency", [["env", "prod"]], summary(30, 61.5, [[0.5, 2], [0.9, 2.9], [0.99, 3]])),
  metric("api.requests", [["env", "dev"], ["route", "/v1/items"]], counter(5)),
  metric("jobs_total", [], counter(3)),
  metric("temp-celsius", [["room", 'say "hi"\\ok\nnext']], gauge(-4.5)),
  metric("users.unique", [["site", "ünïcode ✓"]], { kind: "set", count: 17 }),
  metric("5xx.rate", [["http.method", "GET"], ["__name__", "x"], ["1st", "y"]], gauge(0.25)),
  metric("queue.depth", [], gauge(Number.NaN)),
  metric("queue.limit", [], gauge(Number.POSITIVE_INFINITY)),
  metric("queue.floor", [], gauge(Number.NEGATIVE_INFINITY)),
  metric("db.query", [["quantile", "user"]], summary(4, 8, [[0.5, 2]]), "histogram"),
  metric("upload.size", [], summary(0, 0, [[0.5, Number.NaN]]), "distribution"),
  // Conflicts: same Prometheus name, other type; and a gauge on a summary's _count sample.
  metric("jobs_total", [["x", "1"]], gauge(1)),
  metric("queue-depth", [["shard", "1"]], summary(1, 1, [[0.5, 1]])),
  metric("api.latency.count", [], gauge(1)),
  // Duplicate: sanitises to the same series as an earlier one.
  metric("temp_celsius", [["room", 'say "hi"\\ok\nnext']], gauge(99)),
  // A user metric cannot shadow a self family.
  metric("tally_series_live", [], gauge(1_000_000)),
];

function promtool(): string | undefined {
  const probe = spawnSync("promtool", ["--version"], { encoding: "utf8" });
  return probe.error === undefined && probe.status === 0 ? "promtool" : undefined;
}

function familyBlock(text: string, name: string): string[] {
  const lines = text.split("\n");
  const start = lines.indexOf(
    `# TYPE ${name} ${lines.find((l) => l.startsWith(`# TYPE ${name} `))?.split(" ")[3]}`,
  );
  assert.ok(start > 0, `family ${name} present`);
  const out: string[] = [];
  for (let i = start + 1; i < lines.length && !lines[i]!.startsWith("#") && lines[i] !== ""; i++) {
    out.push(lines[i]!);
  }
  return out;
}

describe("renderPrometheus()", () => {
  const text = renderPrometheus(RICH, SELF);

  it("renderPrometheus() writes counters as cumulative _total families", () => {
    assert.match(text, /^# HELP api_requests_total tally counter api\.requests$/m);
    assert.match(text, /^# TYPE api_requests_total counter$/m);
    assert.deepEqual(familyBlock(text, "api_requests_total"), [
      'api_requests_total{env="prod",route="/v1/items"} 42',
      'api_requests_total{env="dev",route="/v1/items"} 5',
    ]);
  });

  it("renderPrometheus() writes cumulative series as counters whose _total is the source's last value", () => {
    const out = renderPrometheus(
      [metric(
        "if_octets.rx",
        [["host", "a"]],
        { kind: "counter", delta: 30, total: 123456, rate: 3 },
        "cumulative",
      )],
      [],
    );
    assert.match(out, /^# HELP if_octets_rx_total tally cumulative if_octets\.rx$/m);
    assert.deepEqual(familyBlock(out, "if_octets_rx_total"), ['if_octets_rx_total{host="a"} 123456']);
  });

  it("renderPrometheus() writes a signed cumulative series as a gauge of the source's total", () => {
    const out = renderPrometheus(
      [metric(
        "bank.balance",
        [["host", "a"]],
        { kind: "counter", delta: -40, total: 90, rate: -4 },
        "signed_cumulative",
      )],
      [],
    );
    assert.match(out, /^# TYPE bank_balance gauge$/m);
    assert.deepEqual(familyBlock(out, "bank_balance"), ['bank_balance{host="a"} 90']);
  });

  it("renderPrometheus() does not double a _total suffix", () => {
    assert.deepEqual(familyBlock(text, "jobs_total"), ["jobs_total 3"]);
    assert.doesNotMatch(text, /jobs_total_total/);
  });

  it("renderPrometheus() writes timers, histograms and distributions as summaries", () => {
    assert.match(text, /^# TYPE api_latency summary$/m);
    assert.deepEqual(familyBlock(text, "api_latency"), [
      'api_latency{env="prod",quantile="0.5"} 2',
      'api_latency{env="prod",quantile="0.9"} 2.9',
      'api_latency{env="prod",quantile="0.99"} 3',
      'api_latency_sum{env="prod"} 61.5',
      'api_latency_count{env="prod"} 30',
    ]);
    assert.match(text, /^# HELP db_query tally histogram db\.query$/m);
    assert.deepEqual(familyBlock(text, "upload_size"), [
      'upload_size{quantile="0.5"} NaN',
      "upload_size_sum 0",
      "upload_size_count 0",
    ]);
  });

  it("renderPrometheus() renames a user quantile label on summaries", () => {
    assert.deepEqual(familyBlock(text, "db_query"), [
      'db_query{exported_quantile="user",quantile="0.5"} 2',
      'db_query_sum{exported_quantile="user"} 8',
      'db_query_count{exported_quantile="user"} 4',
    ]);
  });

  it("renderPrometheus() writes sets as gauges of the distinct count", () => {
    assert.match(text, /^# TYPE users_unique gauge$/m);
    assert.deepEqual(familyBlock(text, "users_unique"), ['users_unique{site="ünïcode ✓"} 17']);
  });

  it("renderPrometheus() sanitises metric and label names", () => {
    assert.deepEqual(familyBlock(text, "_5xx_rate"), [
      '_5xx_rate{_1st="y",_name__="x",http_method="GET"} 0.25',
    ]);
    assert.match(text, /^# TYPE temp_celsius gauge$/m);
  });

  it("renderPrometheus() escapes label values and help text", () => {
    assert.deepEqual(familyBlock(text, "temp_celsius"), [
      'temp_celsius{room="say \\"hi\\"\\\\ok\\nnext"} -4.5',
    ]);
    const help = renderPrometheus([metric("a\\b\nc", [], gauge(1))], []);
    assert.match(help, /^# HELP a_b_c tally gauge a\\\\b\\nc$/m);
  });

  it("renderPrometheus() formats NaN and infinities", () => {
    assert.deepEqual(familyBlock(text, "queue_depth"), ["queue_depth NaN"]);
    assert.deepEqual(familyBlock(text, "queue_limit"), ["queue_limit +Inf"]);
    assert.deepEqual(familyBlock(text, "queue_floor"), ["queue_floor -Inf"]);
  });

  it("renderPrometheus() keeps the first type of a name and counts the conflicting series", () => {
    assert.equal(text.match(/^# TYPE queue_depth /gm)?.length, 1);
    assert.doesNotMatch(text, /shard="1"|x="1"/);
    assert.doesNotMatch(text, /^# TYPE api_latency_count/m);
    assert.doesNotMatch(text, /1000000/);
    assert.match(text, new RegExp(`^${SKIPPED_SERIES_FAMILY}\\{reason="name_conflict"\\} 4$`, "m"));
    assert.match(text, new RegExp(`^${SKIPPED_SERIES_FAMILY}\\{reason="duplicate_series"\\} 1$`, "m"));
    assert.doesNotMatch(text, / 99$/m);
  });

  it("renderPrometheus() groups each family's series and writes one HELP and TYPE per family", () => {
    const types = text.split("\n").filter((l) => l.startsWith("# TYPE ")).map((l) => l.split(" ")[2]);
    assert.equal(new Set(types).size, types.length);
    const helps = text.split("\n").filter((l) => l.startsWith("# HELP ")).length;
    assert.equal(helps, types.length);
    // Each sample line belongs to the family declared last above it.
    let current = "";
    for (const line of text.split("\n")) {
      if (line.startsWith("# TYPE ")) current = line.split(" ")[2]!;
      else if (line !== "" && !line.startsWith("#")) {
        const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0];
        assert.ok([current, `${current}_sum`, `${current}_count`].includes(name), `${name} under ${current}`);
      }
    }
  });

  it("renderPrometheus() appends self families after user families", () => {
    const lines = text.split("\n");
    const self = lines.indexOf("# TYPE tally_component_received_events_total counter");
    const lastUser = lines.indexOf("# TYPE upload_size summary");
    assert.ok(self > lastUser);
    assert.deepEqual(familyBlock(text, "tally_component_received_events_total"), [
      'tally_component_received_events_total{component_id="statsd",component_type="statsd"} 120',
      'tally_component_received_events_total{component_id="http",component_type="http"} 7',
    ]);
    assert.deepEqual(familyBlock(text, "tally_series_live"), ["tally_series_live 9"]);
  });

  it("renderPrometheus() writes no timestamps", () => {
    for (const line of text.split("\n")) {
      if (line === "" || line.startsWith("#")) continue;
      const tail = line.slice(line.lastIndexOf("}") + 1).trim().split(" ");
      assert.equal(tail.length, line.includes("{") ? 1 : 2, line);
    }
  });

  it("renderPrometheus() renders an empty input as just the skipped-series family", () => {
    assert.equal(
      renderPrometheus([], []).split("\n").filter((l) => !l.startsWith("#") && l !== "").length,
      2,
    );
  });

  const tool = promtool();
  it(
    "renderPrometheus() output passes promtool check metrics",
    { skip: tool === undefined ? "promtool not found (Debian package prometheus)" : false },
    () => {
      const result = spawnSync(tool!, ["check", "metrics"], { input: text, encoding: "utf8" });
      assert.equal(result.error, undefined);
      assert.equal(`${result.stdout}${result.stderr}`.trim(), "");
      assert.equal(result.status, 0);
    },
  );
});

describe("renderPrometheus() with names used as several kinds", () => {
  // Etsy setups send `db.query:1|c`, `db.query:12|ms`, `db.query:3|g` and `db.query:u1|s` under one name:
  // each kind is its own series, and each gets a family of its own (issue 11).
  const MIXED: readonly Metric[] = [
    metric("db.query", [["env", "prod"]], summary(4, 40, [[0.5, 10]])),
    metric("db.query", [["env", "prod"]], counter(7)),
    metric("db.query", [["env", "dev"]], gauge(3)),
    metric("db.query", [], { kind: "set", count: 2 }, "set"),
    metric("db.query", [], summary(1, 5, [[0.5, 5]]), "histogram"),
    metric("api.calls", [], counter(1)),
    metric("api.calls", [], summary(2, 4, [[0.5, 2]])),
  ];
  const text = renderPrometheus(MIXED, []);

  it("renderPrometheus() writes every kind of a name under its own family and skips nothing", () => {
    assert.deepEqual(familyBlock(text, "db_query"), ['db_query{env="dev"} 3']);
    assert.deepEqual(familyBlock(text, "db_query_total"), ['db_query_total{env="prod"} 7']);
    assert.deepEqual(familyBlock(text, "db_query_timer"), [
      'db_query_timer{env="prod",quantile="0.5"} 10',
      'db_query_timer_sum{env="prod"} 40',
      'db_query_timer_count{env="prod"} 4',
    ]);
    assert.deepEqual(familyBlock(text, "db_query_set"), ["db_query_set 2"]);
    assert.deepEqual(familyBlock(text, "db_query_hist"), [
      'db_query_hist{quantile="0.5"} 5',
      "db_query_hist_sum 5",
      "db_query_hist_count 1",
    ]);
    assert.match(text, /^# HELP db_query_timer tally timer db\.query$/m);
    assert.match(text, new RegExp(`^${SKIPPED_SERIES_FAMILY}\\{reason="name_conflict"\\} 0$`, "m"));
    assert.match(text, new RegExp(`^${SKIPPED_SERIES_FAMILY}\\{reason="duplicate_series"\\} 0$`, "m"));
  });

  it("renderPrometheus() keeps the plain names of a counter and a timer sharing a name", () => {
    assert.deepEqual(familyBlock(text, "api_calls_total"), ["api_calls_total 1"]);
    assert.deepEqual(familyBlock(text, "api_calls"), [
      'api_calls{quantile="0.5"} 2',
      "api_calls_sum 4",
      "api_calls_count 2",
    ]);
  });

  it("renderPrometheus() names families the same whatever order the series come in", () => {
    assert.equal(
      renderPrometheus([...MIXED].reverse(), []).split("\n").filter((l) => l.startsWith("# TYPE")).sort()
        .join(),
      text.split("\n").filter((l) => l.startsWith("# TYPE")).sort().join(),
    );
  });

  const tool = promtool();
  it(
    "renderPrometheus() output with mixed kinds passes promtool check metrics",
    { skip: tool === undefined ? "promtool not found (Debian package prometheus)" : false },
    () => {
      const result = spawnSync(tool!, ["check", "metrics"], { input: text, encoding: "utf8" });
      assert.equal(`${result.stdout}${result.stderr}`.trim(), "");
      assert.equal(result.status, 0);
    },
  );
});

describe("prometheusChunks()", () => {
  const METRICS: readonly Metric[] = [
    // A gauge taking a summary's `_sum` before the summary comes, and a summary before a gauge on its `_count`.
    metric("rt_sum", [], gauge(1)),
    metric("rt", [], summary(2, 8, [[0.5, 4]])),
    metric("lat", [], summary(1, 3, [[0.5, 3]])),
    metric("lat_count", [], gauge(9)),
    // Many series of one family, one repeated under a name that sanitises alike.
    ...Array.from({ length: 50 }, (_, i) => metric("jobs.done", [["shard", String(i)]], counter(i))),
    metric("jobs_done", [["shard", "7"]], counter(700)),
    metric("q", [], gauge(0.5)),
  ];
  const whole = renderPrometheus(METRICS, []);

  it("joined, its chunks are the whole render, whatever the chunk size", () => {
    for (const size of [1, 7, 64, 1000, 1 << 20]) {
      const chunks = [...prometheusChunks(METRICS, [], size)];
      assert.equal(chunks.join(""), whole, `chunks of ${size}`);
      // Each chunk but the last ends on a line and holds at least the size asked (one line may pass it).
      for (const chunk of chunks.slice(0, -1)) {
        assert.ok(chunk.endsWith("\n") && chunk.length >= size, `a chunk of ${chunk.length} for ${size}`);
      }
    }
    assert.equal([...prometheusChunks(METRICS, [], 1 << 20)].length, 1);
  });

  it("a summary's _sum and _count are taken whichever comes first, and the later one is skipped", () => {
    assert.deepEqual(familyBlock(whole, "rt_sum"), ["rt_sum 1"]);
    assert.doesNotMatch(whole, /^# TYPE rt summary/m);
    assert.match(whole, /^# TYPE lat summary/m);
    assert.doesNotMatch(whole, /^lat_count 9$/m);
    assert.match(whole, new RegExp(`^${SKIPPED_SERIES_FAMILY}\\{reason="name_conflict"\\} 2$`, "m"));
  });

  it("a family's series stay together, in input order, and a repeated series is counted once", () => {
    const block = familyBlock(whole, "jobs_done_total");
    assert.equal(block.length, 50);
    assert.deepEqual(block.slice(0, 2), ['jobs_done_total{shard="0"} 0', 'jobs_done_total{shard="1"} 1']);
    assert.ok(block.includes('jobs_done_total{shard="7"} 7'));
    assert.match(whole, new RegExp(`^${SKIPPED_SERIES_FAMILY}\\{reason="duplicate_series"\\} 1$`, "m"));
  });
});
