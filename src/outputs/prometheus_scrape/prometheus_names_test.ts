import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  kindBit,
  kindsByName,
  prometheusFamilyName,
  prometheusLabelName,
  prometheusMetricName,
  prometheusType,
} from "./prometheus_names.ts";

describe("prometheusMetricName()", () => {
  it("prometheusMetricName() keeps valid names, colons included", () => {
    assert.equal(prometheusMetricName("http_requests_total"), "http_requests_total");
    assert.equal(prometheusMetricName("job:rate5m"), "job:rate5m");
    assert.equal(prometheusMetricName("_x"), "_x");
  });

  it("prometheusMetricName() replaces each invalid code point with an underscore", () => {
    assert.equal(prometheusMetricName("api.requests-ok"), "api_requests_ok");
    assert.equal(prometheusMetricName("temp °C"), "temp__C");
    assert.equal(prometheusMetricName("a😀b"), "a_b");
  });

  it("prometheusMetricName() prefixes a leading digit and names the empty name", () => {
    assert.equal(prometheusMetricName("5xx.rate"), "_5xx_rate");
    assert.equal(prometheusMetricName(""), "_");
  });
});

describe("prometheusLabelName()", () => {
  it("prometheusLabelName() replaces colons and other invalid characters", () => {
    assert.equal(prometheusLabelName("http.method"), "http_method");
    assert.equal(prometheusLabelName("a:b"), "a_b");
    assert.equal(prometheusLabelName("env"), "env");
  });

  it("prometheusLabelName() never returns a reserved __ name", () => {
    assert.equal(prometheusLabelName("__name__"), "_name__");
    assert.equal(prometheusLabelName("___x"), "_x");
    assert.equal(prometheusLabelName("__"), "_");
    assert.equal(prometheusLabelName(".-x"), "_x");
  });

  it("prometheusLabelName() prefixes a leading digit and names the empty name", () => {
    assert.equal(prometheusLabelName("1st"), "_1st");
    assert.equal(prometheusLabelName(""), "_");
  });
});

describe("prometheusFamilyName()", () => {
  it("prometheusFamilyName() keeps the usual names for a name with one kind", () => {
    for (
      const [kind, want] of [
        ["counter", "api_calls_total"],
        ["cumulative", "api_calls_total"],
        ["gauge", "api_calls"],
        ["timer", "api_calls"],
        ["histogram", "api_calls"],
        ["distribution", "api_calls"],
        ["set", "api_calls"],
      ] as const
    ) {
      assert.equal(prometheusFamilyName("api.calls", kind, kindBit(kind)), want, kind);
    }
  });

  it("prometheusFamilyName() gives every kind of a name its own family", () => {
    const all = kindsByName(
      (["counter", "cumulative", "gauge", "timer", "histogram", "distribution", "set"] as const)
        .map((kind) => ({ name: "x.y", kind })),
    ).get("x.y")!;
    const names = (["counter", "cumulative", "gauge", "timer", "histogram", "distribution", "set"] as const)
      .map((kind) => prometheusFamilyName("x.y", kind, all));
    assert.deepEqual(names, [
      "x_y_total",
      "x_y_cumulative_total",
      "x_y",
      "x_y_timer",
      "x_y_hist",
      "x_y_distribution",
      "x_y_set",
    ]);
  });

  it("prometheusFamilyName() leaves a counter and a timer of one name as they were", () => {
    // Counters are `_total` anyway: the common Etsy pair needs no suffix at all.
    const kinds = kindBit("counter") | kindBit("timer");
    assert.equal(prometheusFamilyName("api.calls", "counter", kinds), "api_calls_total");
    assert.equal(prometheusFamilyName("api.calls", "timer", kinds), "api_calls");
  });

  it("prometheusFamilyName() suffixes the kind of a counter already named _total before the _total", () => {
    const kinds = kindBit("counter") | kindBit("cumulative");
    assert.equal(prometheusFamilyName("jobs_total", "cumulative", kinds), "jobs_cumulative_total");
  });

  it("prometheusType() maps every kind", () => {
    assert.deepEqual(
      (["counter", "cumulative", "gauge", "set", "timer", "histogram", "distribution"] as const).map(
        prometheusType,
      ),
      ["counter", "counter", "gauge", "gauge", "summary", "summary", "summary"],
    );
  });
});
