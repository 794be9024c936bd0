import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { prometheusLabelName, prometheusMetricName } from "./prometheus_names.ts";

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
