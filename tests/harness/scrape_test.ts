import { createServer, type Server } from "node:http";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ExpositionParseError, metricKey, parsePrometheusText, scrape } from "./scrape.ts";

const EXPOSITION = `# HELP tally_statsd_lines_total Lines received.
# TYPE tally_statsd_lines_total counter
tally_statsd_lines_total{component_type="statsd",component_id="udp"} 1027
tally_live_series 12
# a free comment
api_latency{quantile="0.99", path="/a\\"b\\\\c\\nd",} 0.25 1700000000000
req_total{code="200"} 1.5e3
up +Inf
down -Inf
gap NaN
`;

describe("parsePrometheusText()", () => {
  it("parsePrometheusText() keys series by name and sorted labels", () => {
    const values = parsePrometheusText(EXPOSITION);
    assert.equal(values.get('tally_statsd_lines_total{component_id="udp",component_type="statsd"}'), 1027);
    assert.equal(values.get("tally_live_series"), 12);
    assert.equal(values.get('req_total{code="200"}'), 1500);
    assert.equal(values.size, 7);
  });

  it("parsePrometheusText() unescapes label values, drops timestamps and takes a trailing comma", () => {
    const values = parsePrometheusText(EXPOSITION);
    const key = metricKey("api_latency", { quantile: "0.99", path: '/a"b\\c\nd' });
    assert.equal(key, 'api_latency{path="/a\\"b\\\\c\\nd",quantile="0.99"}');
    assert.equal(values.get(key), 0.25);
  });

  it("parsePrometheusText() reads +Inf, -Inf and NaN", () => {
    const values = parsePrometheusText(EXPOSITION);
    assert.equal(values.get("up"), Number.POSITIVE_INFINITY);
    assert.equal(values.get("down"), Number.NEGATIVE_INFINITY);
    assert.ok(Number.isNaN(values.get("gap")));
  });

  it("parsePrometheusText() rejects a duplicate series", () => {
    assert.throws(
      () => parsePrometheusText('a{x="1",y="2"} 1\na{y="2",x="1"} 2\n'),
      (error: unknown) =>
        error instanceof ExpositionParseError && /Duplicate series on line 2/.test(error.message),
    );
  });

  it("parsePrometheusText() rejects malformed lines with the line number", () => {
    const bad = [
      ["a{x=1} 1", /line 1: expected a quoted value for label "x"/],
      ['a{x="1" 1', /line 1: expected "," or "}" after label "x"/],
      ['a{x="1} 1', /line 1: expected a closing quote for label "x"/],
      ["ok 1\na", /line 2: expected a number value/],
      ["a one", /expected a number value/],
      ['a{x="1"}2', /expected a space before the value/],
      ["a 1 2 3", /expected a value and an optional timestamp/],
      ["9a 1", /expected a metric name/],
    ] as const;
    for (const [text, pattern] of bad) {
      assert.throws(() => parsePrometheusText(text), pattern, text);
    }
  });

  it("metricKey() leaves out braces without labels", () => {
    assert.equal(metricKey("tally_up"), "tally_up");
    assert.equal(metricKey("m", { b: "2", a: "1" }), 'm{a="1",b="2"}');
  });
});

describe("scrape()", () => {
  function serve(status: number, body: string): Promise<Server> {
    return new Promise((resolve) => {
      const server = createServer(function answer(_req, res) {
        res.writeHead(status, { "content-type": "text/plain; version=0.0.4" }).end(body);
      });
      server.listen(0, "127.0.0.1", () => resolve(server));
    });
  }

  function base(server: Server): string {
    const address = server.address();
    return `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
  }

  it("scrape() fetches /metrics and parses it", async () => {
    const server = await serve(200, EXPOSITION);
    try {
      const values = await scrape(base(server));
      assert.equal(values.get("tally_live_series"), 12);
    } finally {
      server.close();
    }
  });

  it("scrape() rejects a non-200 answer with the status", async () => {
    const server = await serve(503, "not ready");
    try {
      await assert.rejects(scrape(base(server)), /status 503, body "not ready"/);
    } finally {
      server.close();
    }
  });
});
