import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isMetricType, parseMetricArg } from "./_push_args.ts";

describe("parseMetricArg()", () => {
  it("parseMetricArg() reads NAME=VALUE and the labels after it", () => {
    assert.deepEqual(parseMetricArg("temperature=21.5,room=kitchen,floor=1", "gauge"), {
      kind: "metric",
      metric: { name: "temperature", type: "gauge", value: 21.5, labels: { room: "kitchen", floor: "1" } },
    });
    assert.deepEqual(parseMetricArg("deploys=1", "counter"), {
      kind: "metric",
      metric: { name: "deploys", type: "counter", value: 1 },
    });
  });

  it("parseMetricArg() takes negative, signed and exponent values", () => {
    const values = ["-5", "+2", "1e3", "-2.5E-2", ".5", "7."].map((v) => {
      const parsed = parseMetricArg(`x=${v}`, "gauge");
      return parsed.kind === "metric" ? parsed.metric.value : parsed.message;
    });
    assert.deepEqual(values, [-5, 2, 1000, -0.025, 0.5, 7]);
  });

  it("parseMetricArg() keeps escaped commas and equals signs, and a label value's further equals signs", () => {
    const parsed = parseMetricArg("disk\\=used=3,path=/a\\,b,query=x=y,back=\\\\", "gauge");
    assert.deepEqual(parsed, {
      kind: "metric",
      metric: {
        name: "disk=used",
        type: "gauge",
        value: 3,
        labels: { path: "/a,b", query: "x=y", back: "\\" },
      },
    });
  });

  it("parseMetricArg() takes any non-empty member for a set", () => {
    assert.deepEqual(parseMetricArg("users=alice,site=eu", "set"), {
      kind: "metric",
      metric: { name: "users", type: "set", value: "alice", labels: { site: "eu" } },
    });
    assert.deepEqual(parseMetricArg("users=", "set"), {
      kind: "error",
      message: 'Invalid metric "users=": a set member cannot be empty',
    });
  });

  it("parseMetricArg() keeps a label named __proto__ as a label", () => {
    const parsed = parseMetricArg("x=1,__proto__=p", "gauge");
    assert.equal(parsed.kind, "metric");
    if (parsed.kind !== "metric") return;
    assert.deepEqual(Object.keys(parsed.metric.labels ?? {}), ["__proto__"]);
    assert.equal(JSON.stringify(parsed.metric.labels), '{"__proto__":"p"}');
  });

  it("parseMetricArg() names what is wrong", () => {
    const cases: [string, string][] = [
      [
        "deploys",
        'Invalid metric "deploys": "deploys" is not NAME=VALUE (expected NAME=VALUE[,LABEL=VALUE...])',
      ],
      ["=1", 'Invalid metric "=1": the name is empty (expected NAME=VALUE[,LABEL=VALUE...])'],
      ["x=abc", 'Invalid metric "x=abc": the value "abc" is not a finite number'],
      ["x=NaN", 'Invalid metric "x=NaN": the value "NaN" is not a finite number'],
      ["x=Infinity", 'Invalid metric "x=Infinity": the value "Infinity" is not a finite number'],
      ["x=1e999", 'Invalid metric "x=1e999": the value "1e999" is not a finite number'],
      ["x=", 'Invalid metric "x=": the value "" is not a finite number'],
      ["x=1,env", 'Invalid metric "x=1,env": "env" is not NAME=VALUE (expected NAME=VALUE[,LABEL=VALUE...])'],
      ["x=1,=a", 'Invalid metric "x=1,=a": a label name is empty'],
      ["x=1,a=1,a=2", 'Invalid metric "x=1,a=1,a=2": label "a" is given twice'],
    ];
    for (const [arg, message] of cases) {
      assert.deepEqual(parseMetricArg(arg, "gauge"), { kind: "error", message });
    }
  });
});

describe("isMetricType()", () => {
  it("isMetricType() knows the push API's types", () => {
    assert.deepEqual(
      ["counter", "gauge", "timer", "histogram", "distribution", "set", "Gauge", "c", ""].map(isMetricType),
      [true, true, true, true, true, true, false, false, false],
    );
  });
});
