import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { parseStatsd, parseStatsdRange } from "./statsd.ts";
import type { BadReason, Sample, SampleSink, TallyEvent } from "../model/sample.ts";
import { seriesKey } from "../model/series_key.ts";

/** One sink call, in the order the parser made it. */
type Call =
  | { readonly sample: Omit<Sample, "key"> }
  | { readonly event: TallyEvent }
  | { readonly bad: BadReason };

interface Recorded {
  readonly lines: number;
  readonly calls: Call[];
  readonly samples: Sample[];
  readonly events: TallyEvent[];
  readonly bad: BadReason[];
}

const encoder = new TextEncoder();

/** Parses `input` (text or bytes) and records every sink call; checks every sample's key on the way. */
function run(input: string | Uint8Array): Recorded {
  const bytes = typeof input === "string" ? encoder.encode(input) : input;
  const calls: Call[] = [];
  const samples: Sample[] = [];
  const events: TallyEvent[] = [];
  const bad: BadReason[] = [];
  const sink: SampleSink = {
    sample(sample) {
      assert.equal(sample.key, seriesKey(sample.name, sample.labels), "the key must come from seriesKey");
      const { key: _key, ...rest } = sample;
      calls.push({ sample: rest });
      samples.push({ ...sample });
    },
    event(event) {
      calls.push({ event });
      events.push(event);
    },
    bad(reason) {
      calls.push({ bad: reason });
      bad.push(reason);
    },
  };
  const lines = parseStatsd(bytes, sink);
  return { lines, calls, samples, events, bad };
}

/** Parses one line and returns its only sample, failing when there is not exactly one. */
function one(line: string): Sample {
  const r = run(line);
  assert.deepEqual(r.bad, [], `"${line}" must parse`);
  assert.equal(r.samples.length, 1, `"${line}" must yield one sample`);
  return r.samples[0]!;
}

/** Parses one line and returns the reason it was rejected, failing when it was not. */
function reason(line: string | Uint8Array): BadReason {
  const r = run(line);
  assert.equal(r.lines, 1);
  assert.equal(r.bad.length, 1, `"${String(line)}" must be rejected once`);
  assert.equal(r.samples.length + r.events.length, 0, "a rejected line yields nothing");
  return r.bad[0]!;
}

/** Small deterministic PRNG (mulberry32) so fuzz failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return function next(): number {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Splits bytes into lines exactly as the parser is specified to: `\n`, optional trailing `\r`, empties dropped. */
function splitLines(bytes: Uint8Array): Uint8Array[] {
  const lines: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      let end = i;
      if (end > start && bytes[end - 1] === 0x0d) end--;
      if (end > start) lines.push(bytes.subarray(start, end));
      start = i + 1;
    }
  }
  return lines;
}

/**
 * Asserts the line-level contract on any input: counts match, every line makes at least one sink call
 * (nothing vanishes uncounted), and parsing the chunk equals parsing its lines one by one (a line never
 * affects its neighbours).
 */
function assertLineContract(bytes: Uint8Array): void {
  const whole = run(bytes);
  const lines = splitLines(bytes);
  assert.equal(whole.lines, lines.length);
  const separate: Call[] = [];
  for (const line of lines) {
    const r = run(line);
    assert.equal(r.lines, 1);
    assert.ok(r.calls.length >= 1, "every line yields something or is counted bad");
    separate.push(...r.calls);
  }
  assert.deepEqual(whole.calls, separate);
}

describe("parseStatsd() golden files", () => {
  const dir = fileURLToPath(new URL("./testdata/statsd/", import.meta.url).href);
  const inputs = readdirSync(dir).filter((f) => f.endsWith(".txt")).sort();

  it("parseStatsd() has a golden pair for every dialect", () => {
    for (
      const dialect of [
        "etsy",
        "dogstatsd",
        "dogstatsd_events",
        "influx",
        "graphite",
        "librato",
        "signalfx",
        "partial_lines",
      ]
    ) {
      assert.ok(inputs.includes(`${dialect}.txt`), `missing ${dialect}.txt`);
    }
  });

  for (const input of inputs) {
    const dialect = input.slice(0, -".txt".length);
    it(`parseStatsd() matches ${dialect}.expected.json`, () => {
      const bytes = readFileSync(join(dir, input));
      const expected = JSON.parse(readFileSync(join(dir, `${dialect}.expected.json`), "utf8")) as {
        lines: number;
        calls: Call[];
      };
      const got = run(new Uint8Array(bytes));
      assert.equal(got.lines, expected.lines);
      assert.deepEqual(got.calls, expected.calls);
      assertLineContract(new Uint8Array(bytes));
    });
  }
});

describe("parseStatsd() Etsy dialect", () => {
  it("parseStatsd() parses counters, gauges, timers, histograms and sets", () => {
    assert.deepEqual(one("hits:3|c"), {
      name: "hits",
      labels: [],
      key: "hits",
      kind: "counter",
      value: 3,
      member: "",
      rate: 1,
      gaugeDelta: false,
      timeMs: 0,
    });
    assert.equal(one("temp:21.5|g").kind, "gauge");
    assert.equal(one("rt:320|ms").kind, "timer");
    assert.equal(one("size:7|h").kind, "histogram");
    const set = one("users:alice|s");
    assert.equal(set.kind, "set");
    assert.equal(set.member, "alice");
    assert.equal(set.value, 0);
  });

  it("parseStatsd() applies sample rate", () => {
    const s = one("hits:1|c|@0.1");
    assert.equal(s.rate, 0.1);
    assert.equal(s.value, 1, "the value is not scaled here; the reducer scales");
    assert.equal(one("hits:1|c|@1").rate, 1);
    assert.equal(one("rt:5|ms|@0.25").rate, 0.25);
  });

  it("parseStatsd() keeps set members and ignores a set's sample rate", () => {
    const s = one("users:bob|s|@0.5");
    assert.equal(s.member, "bob");
    assert.equal(s.rate, 1);
  });

  it("parseStatsd() reads signed gauge values as deltas and plain ones as sets", () => {
    assert.deepEqual([one("g:+4|g").value, one("g:+4|g").gaugeDelta], [4, true]);
    assert.deepEqual([one("g:-4|g").value, one("g:-4|g").gaugeDelta], [-4, true]);
    assert.deepEqual([one("g:4|g").value, one("g:4|g").gaugeDelta], [4, false]);
    assert.equal(one("c:-4|c").gaugeDelta, false, "only gauges have deltas");
    assert.equal(one("c:-4|c").value, -4, "negative counters are allowed");
    assert.equal(one("t:-4|ms").value, -4, "negative timers are allowed");
  });

  it("parseStatsd() splits Etsy multi-value lines into one sample per group", () => {
    const r = run("multi:1|c:2|ms|@0.5:3|g:-1|g");
    assert.deepEqual(
      r.samples.map((s) => [s.kind, s.value, s.rate, s.gaugeDelta]),
      [["counter", 1, 1, false], ["timer", 2, 0.5, false], ["gauge", 3, 1, false], ["gauge", -1, 1, true]],
    );
    assert.ok(r.samples.every((s) => s.name === "multi"));
  });

  it("parseStatsd() keeps the valid groups of a multi-value line and counts each bad one", () => {
    // As Etsy statsd does: a bad group costs only itself (issue 11).
    const r = run("multi:14|c:14");
    assert.deepEqual(r.samples.map((s) => [s.kind, s.value]), [["counter", 14]]);
    assert.deepEqual(r.bad, ["no_value"]);
    const unknown = run("multi:1|c:2|zz:3|ms");
    assert.deepEqual(unknown.samples.map((s) => [s.kind, s.value]), [["counter", 1], ["timer", 3]]);
    assert.deepEqual(unknown.bad, ["unknown_type"]);
    const values = run("multi:1|c:x|ms:1:y:2|g");
    assert.deepEqual(values.samples.map((s) => [s.kind, s.value]), [["counter", 1], ["gauge", 1], [
      "gauge",
      2,
    ]]);
    assert.deepEqual(values.bad, ["bad_value", "bad_value"], "one per invalid value, packed ones included");
    const rate = run("multi:1|c|@7:2|c");
    assert.deepEqual(rate.samples.map((s) => s.value), [2]);
    assert.deepEqual(rate.bad, ["bad_sample_rate"]);
    assert.deepEqual(run("multi:1|c:").bad, ["no_value"]);
    assert.deepEqual(run("multi:1|c:").samples.length, 1);
  });

  it("parseStatsd() ignores blanks around a value and around the type", () => {
    // `name: 3|c` is what a hand-written `echo` sends; Etsy and the Datadog agent take it (issue 11).
    for (const line of ["name: 3|c", "name:3 |c", "name:\t3\t|c", "name:3| c ", "name:  3  |  c"]) {
      const s = one(line);
      assert.deepEqual([s.name, s.kind, s.value], ["name", "counter", 3], JSON.stringify(line));
    }
    assert.deepEqual([one("g: -4|g").value, one("g: -4|g").gaugeDelta], [-4, true]);
    assert.equal(one("s: a b |s").member, " a b ", "set members are kept as sent");
    assert.equal(reason("name: |c"), "bad_value");
    assert.equal(reason("name:3 4|c"), "bad_value");
  });

  it("parseStatsd() handles many lines per packet and CRLF endings", () => {
    const r = run("a:1|c\r\nb:2|g\n\nc:3|ms\r\n\r\n\n");
    assert.equal(r.lines, 3, "empty lines are not counted");
    assert.deepEqual(r.samples.map((s) => s.name), ["a", "b", "c"]);
  });

  it("parseStatsdRange() parses only [from, to) of a larger buffer, as parseStatsd() the datagram alone", () => {
    const datagram = "a:1|c\nb:2|g|#env:x\nc:u1|s\nbad line\nd:3:4|ms";
    const alone = run(datagram);
    const around = encoder.encode(`x:9|c\n${datagram}\ny:8|c`);
    const from = 6;
    const to = from + encoder.encode(datagram).length;
    const samples: Sample[] = [];
    const bad: BadReason[] = [];
    const lines = parseStatsdRange(
      around,
      {
        sample: (sample) => samples.push({ ...sample }),
        event: () => assert.fail("no events here"),
        bad: (reason) => bad.push(reason),
      },
      from,
      to,
    );
    assert.equal(lines, alone.lines);
    assert.deepEqual(samples, alone.samples);
    assert.deepEqual(bad, alone.bad);
    assert.equal(
      parseStatsdRange(around, { sample: () => assert.fail("empty range"), event() {}, bad() {} }, 3, 3),
      0,
    );
  });

  it("parseStatsd() lends each sample for the call only: one object, overwritten by the next value", () => {
    const lent: Sample[] = [];
    const copies: Sample[] = [];
    parseStatsd(encoder.encode("a:1|c|#env:x\nb:-2|g|@0.5|T1700000000\nc:u1|s\nd:3:4|ms"), {
      sample(sample) {
        lent.push(sample);
        copies.push({ ...sample });
      },
      event() {},
      bad: (reason) => assert.fail(`unexpected bad line: ${reason}`),
    });
    assert.equal(lent.length, 5);
    assert.ok(
      lent.every((s) => s === lent[0]),
      "the same object every time: a sink that keeps samples copies them",
    );
    assert.deepEqual(
      copies.map((s) => [s.name, s.labels, s.kind, s.value, s.member, s.rate, s.gaugeDelta, s.timeMs]),
      [
        ["a", [["env", "x"]], "counter", 1, "", 1, false, 0],
        ["b", [], "gauge", -2, "", 0.5, true, 1_700_000_000_000],
        ["c", [], "set", 0, "u1", 1, false, 0],
        ["d", [], "timer", 3, "", 1, false, 0],
        ["d", [], "timer", 4, "", 1, false, 0],
      ],
    );
    assert.deepEqual(copies.map((s) => s.key), copies.map((s) => seriesKey(s.name, s.labels)));
  });

  it("parseStatsd() counts nothing for empty input and blank lines", () => {
    assert.equal(run("").lines, 0);
    assert.equal(run("\n\r\n\n").lines, 0);
    assert.equal(run("a:1|c").lines, 1, "a last line without a newline counts");
  });

  it("parseStatsd() parses decimal floats with exponents exactly like Number(), with -0 read as 0", () => {
    const next = prng(7);
    for (let i = 0; i < 3000; i++) {
      const intDigits = Math.floor(next() * 20);
      const fracDigits = Math.floor(next() * 20);
      let text = next() < 0.3 ? "-" : "";
      for (let k = 0; k < intDigits; k++) text += String(Math.floor(next() * 10));
      if (fracDigits > 0 || intDigits === 0) {
        text += ".";
        for (let k = 0; k < Math.max(fracDigits, intDigits === 0 ? 1 : 0); k++) {
          text += String(Math.floor(next() * 10));
        }
      }
      if (next() < 0.2) text += `e${next() < 0.5 ? "-" : "+"}${Math.floor(next() * 30)}`;
      // The shared number parser (`_text.ts`) turns negative zero into 0: JSON and the store cannot tell
      // them apart, and a "-0" counter or timer value means nothing else.
      const want = Number(text) + 0;
      assert.ok(Object.is(one(`n:${text}|ms`).value, want), `"${text}" must parse as ${want}`);
    }
    assert.equal(one("n:1e3|c").value, 1000);
    assert.equal(one("n:2.5E-3|c").value, 0.0025);
    assert.equal(one("n:.5|c").value, 0.5);
    assert.equal(one("n:5.|c").value, 5);
    assert.equal(one("n:0.1|c").value, 0.1);
    assert.equal(one("n:9007199254740993|c").value, 9007199254740992);
    assert.ok(Object.is(one("n:-0|ms").value, 0));
  });

  it("parseStatsd() keeps names as received", () => {
    assert.equal(one("My App/requests-total.ünïcode:1|c").name, "My App/requests-total.ünïcode");
    assert.equal(one("\ufeffbom:1|c").name, "\ufeffbom", "a leading BOM is not stripped");
    const long = "x".repeat(300);
    assert.equal(one(`${long}:1|c`).name, long);
  });
});

describe("parseStatsd() DogStatsD dialect", () => {
  it("parseStatsd() reads |# tags, valueless tags and sorts them", () => {
    const s = one("page.views:1|c|#region:eu,env:prod,canary");
    assert.deepEqual(s.labels, [["canary", ""], ["env", "prod"], ["region", "eu"]]);
    assert.equal(s.key, "page.views\x00canary\x01\x02env\x01prod\x02region\x01eu");
  });

  it("parseStatsd() lets the last duplicate tag win", () => {
    assert.deepEqual(one("x:1|c|#b:2,a:1,b:3").labels, [["a", "1"], ["b", "3"]]);
    assert.deepEqual(one("x,a=1:1|c|#a:2").labels, [["a", "2"]], "|# tags come after name tags");
    const many = Array.from({ length: 40 }, (_, i) => `t${i % 20}:${i}`).join(",");
    const labels = one(`x:1|c|#${many}`).labels;
    assert.equal(labels.length, 20);
    assert.deepEqual(labels.find((l) => l[0] === "t3"), ["t3", "23"]);
    assert.ok(labels.every((l, i) => i === 0 || labels[i - 1]![0] < l[0]), "sorted, no duplicates");
  });

  it("parseStatsd() keeps colons in tag values", () => {
    assert.deepEqual(one("x:1|c|#url:http://a:8080/b").labels, [["url", "http://a:8080/b"]]);
  });

  it("parseStatsd() ignores the |c: container id", () => {
    const with_ = one("x:1|c|#env:prod|c:abcdef");
    const without = one("x:1|c|#env:prod");
    assert.equal(with_.key, without.key);
    assert.deepEqual(with_.labels, [["env", "prod"]]);
  });

  it("parseStatsd() reads |T timestamps as milliseconds", () => {
    assert.equal(one("x:1|g|T1656581400").timeMs, 1656581400000);
    assert.equal(one("x:1|g").timeMs, 0);
    assert.equal(reason("x:1|g|T"), "bad_timestamp");
    assert.equal(reason("x:1|g|T1.5"), "bad_timestamp");
  });

  it("parseStatsd() unpacks packed values into one sample each", () => {
    const r = run("lat:1:2.5:-3|d|@0.5|#svc:api");
    assert.deepEqual(r.samples.map((s) => s.value), [1, 2.5, -3]);
    assert.ok(r.samples.every((s) => s.kind === "distribution" && s.rate === 0.5));
    assert.ok(r.samples.every((s) => s.key === "lat\x00svc\x01api"));
    const sets = run("u:a:b|s");
    assert.deepEqual(sets.samples.map((s) => s.member), ["a", "b"]);
  });

  it("parseStatsd() skips unknown fields", () => {
    const s = one("x:1|c|zz|q:1|#a:b||@0.5|e:1|");
    assert.deepEqual(s.labels, [["a", "b"]]);
    assert.equal(s.rate, 0.5);
  });

  it("parseStatsd() emits DogStatsD events with their fields as labels", () => {
    const r = run("_e{5,12}:Title|line1\\nline2|d:100|h:web|k:agg|p:low|s:src|t:error|#a:b,flag");
    assert.deepEqual(r.events, [{
      kind: "event",
      title: "Title",
      text: "line1\nline2",
      timeMs: 100000,
      labels: [
        ["a", "b"],
        ["aggregation_key", "agg"],
        ["alert_type", "error"],
        ["flag", ""],
        ["host", "web"],
        ["priority", "low"],
        ["source_type_name", "src"],
      ],
      status: -1,
    }]);
    assert.equal(r.samples.length, 0);
  });

  it("parseStatsd() measures event title and text lengths in bytes", () => {
    const r = run("_e{6,2}:héllo|ü|#x:y");
    assert.equal(r.events[0]?.title, "héllo");
    assert.equal(r.events[0]?.text, "ü");
    assert.equal(reason("_e{5,1}:héllo|ü"), "bad_event");
  });

  it("parseStatsd() emits a service check as an event and a gauge sample", () => {
    const r = run("_sc|db.up|2|d:10|h:db1|#env:prod|m:down | really\\nm\\: yes");
    assert.deepEqual(r.events, [{
      kind: "service_check",
      title: "db.up",
      text: "down | really\nm: yes",
      timeMs: 10000,
      labels: [["env", "prod"], ["host", "db1"]],
      status: 2,
    }]);
    assert.deepEqual(r.samples.map((s) => [s.name, s.kind, s.value, s.labels, s.timeMs]), [
      ["db.up", "gauge", 2, [["env", "prod"]], 10000],
    ]);
    assert.equal(reason("_sc|db.up|9"), "bad_service_check");
    assert.equal(reason("_sc|db.up"), "bad_service_check");
  });

  it("parseStatsd() treats names that merely start with _e or _sc as metrics", () => {
    assert.equal(one("_errors:1|c").name, "_errors");
    assert.equal(one("_sc:1|c").name, "_sc");
  });
});

describe("parseStatsd() name tag dialects", () => {
  it("parseStatsd() reads Influx-style tags in the name", () => {
    const s = one("cpu,host=web1,region=eu:0.5|g");
    assert.equal(s.name, "cpu");
    assert.deepEqual(s.labels, [["host", "web1"], ["region", "eu"]]);
  });

  it("parseStatsd() reads Graphite tags in the name", () => {
    const s = one("disk;rack=a1;dc=1:42|g");
    assert.equal(s.name, "disk");
    assert.deepEqual(s.labels, [["dc", "1"], ["rack", "a1"]]);
  });

  it("parseStatsd() reads Librato tags in the name", () => {
    const s = one("api#host=web1,code=200:1|c");
    assert.equal(s.name, "api");
    assert.deepEqual(s.labels, [["code", "200"], ["host", "web1"]]);
  });

  it("parseStatsd() reads SignalFx tags anywhere in the name", () => {
    assert.deepEqual(
      [one("api.hits[host=web1]:1|c").name, one("api.hits[host=web1]:1|c").labels],
      ["api.hits", [["host", "web1"]]],
    );
    assert.equal(one("na[k=v]me:1|c").name, "name");
    assert.equal(one("[k=v]name:1|c").name, "name");
  });

  it("parseStatsd() merges name tags with |# tags", () => {
    assert.deepEqual(one("api,a=1:1|c|#b:2").labels, [["a", "1"], ["b", "2"]]);
    assert.deepEqual(one("api[a=1]:1|c|#b:2").labels, [["a", "1"], ["b", "2"]]);
  });

  it("parseStatsd() rejects malformed name tags", () => {
    assert.equal(reason("api,host:1|c"), "bad_tags");
    assert.equal(reason("api,=v:1|c"), "bad_tags");
    assert.equal(reason("api[host=web1:1|c"), "bad_tags");
    assert.equal(reason(",a=b:1|c"), "empty_name");
    assert.equal(reason("[a=b]:1|c"), "empty_name");
  });
});

describe("parseStatsd() bad input", () => {
  it("parseStatsd() names the reason for each malformed line", () => {
    const cases: Array<[string, BadReason]> = [
      ["nocolon", "no_value"],
      ["name:1", "no_value"],
      ["name|c", "no_value"],
      [":1|c", "empty_name"],
      ["x:|c", "bad_value"],
      ["x:NaN|g", "bad_value"],
      ["x:Inf|g", "bad_value"],
      ["x:-Infinity|g", "bad_value"],
      ["x:1e999|g", "bad_value"],
      ["x:0x1f|c", "bad_value"],
      ["x:1..2|c", "bad_value"],
      ["x:1|c|@0", "bad_sample_rate"],
      ["x:1|c|@1.01", "bad_sample_rate"],
      ["x:1|c|@-1", "bad_sample_rate"],
      ["x:1|c|@", "bad_sample_rate"],
      ["x:1|c|@NaN", "bad_sample_rate"],
      ["x:1|c|#:v", "bad_tags"],
      ["x:1|c|#a,:v", "bad_tags"],
      ["_e{5}:title|", "bad_event"],
      ["_e{5,1}:title|", "bad_event"],
      ["_e{5,1}:titlee|x", "bad_event"],
    ];
    for (const [line, why] of cases) assert.equal(reason(line), why, `"${line}"`);
  });

  it("parseStatsd() rejects every unknown type letter instead of counting it", () => {
    const known = new Set(["c", "g", "h", "s", "d"]);
    for (let code = 0x21; code < 0x7f; code++) {
      const letter = String.fromCharCode(code);
      if (known.has(letter) || letter === "|" || letter === ":") continue;
      assert.equal(reason(`x:1|${letter}`), "unknown_type", `type "${letter}"`);
    }
    for (const type of ["", "m", "sm", "mss", "kv", "C", "MS", "cc", "ms2"]) {
      assert.equal(reason(`x:1|${type}`), "unknown_type", `type "${type}"`);
    }
  });

  it("parseStatsd() rejects invalid UTF-8 and keeps the neighbouring lines", () => {
    const invalid = [
      [0xff],
      [0x80],
      [0xc0, 0x80],
      [0xc3],
      [0xe2, 0x82],
      [0xe0, 0x80, 0x80],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xf5, 0x80, 0x80, 0x80],
      [0xf0, 0x9f, 0x98],
    ];
    for (const seq of invalid) {
      const bytes = new Uint8Array([
        ...encoder.encode("before:1|c\nbad"),
        ...seq,
        ...encoder.encode(":1|c\nafter:2|c\nset:"),
        ...seq,
        ...encoder.encode("|s\n"),
      ]);
      const r = run(bytes);
      assert.equal(r.lines, 4);
      assert.deepEqual(r.bad, ["invalid_utf8", "invalid_utf8"], `sequence ${seq.join(",")}`);
      assert.deepEqual(r.samples.map((s) => [s.name, s.value]), [["before", 1], ["after", 2]]);
    }
    assert.equal(one("emoji.😀:1|c|#é:ü").name, "emoji.😀");
    assert.equal(one("u:😀|s").member, "😀");
  });

  it("parseStatsd() rejects lines over 64 KiB and keeps their neighbours", () => {
    const huge = `big:1|c|#k:${"v".repeat(70_000)}`;
    const r = run(`a:1|c\n${huge}\nb:2|c`);
    assert.equal(r.lines, 3);
    assert.deepEqual(r.bad, ["too_long"]);
    assert.deepEqual(r.samples.map((s) => s.name), ["a", "b"]);
    const exact = `e:1|c|#k:${"v".repeat(65536 - "e:1|c|#k:".length)}`;
    assert.equal(encoder.encode(exact).length, 65536);
    assert.equal(one(exact).labels[0]![1].length, 65536 - "e:1|c|#k:".length);
  });

  it("parseStatsd() parses a full 64 KiB datagram of many lines", () => {
    const lines: string[] = [];
    let size = 0;
    for (let i = 0;; i++) {
      const line = `load.test.${i % 500}:${i}|c|#shard:${i % 7}`;
      if (size + line.length + 1 > 65536) break;
      lines.push(line);
      size += line.length + 1;
    }
    const bytes = encoder.encode(lines.join("\n"));
    assert.ok(bytes.length > 65000 && bytes.length <= 65536);
    const r = run(bytes);
    assert.equal(r.lines, lines.length);
    assert.equal(r.samples.length, lines.length);
    assert.equal(r.samples.reduce((sum, s) => sum + s.value, 0), (lines.length * (lines.length - 1)) / 2);
    assert.deepEqual(r.samples[3]!.labels, [["shard", "3"]]);
  });

  it("parseStatsd() packs thousands of values in one line", () => {
    const values = Array.from({ length: 10_000 }, (_, i) => i).join(":");
    const r = run(`packed:${values}|d`);
    assert.equal(r.samples.length, 10_000);
    assert.equal(r.samples[9999]!.value, 9999);
  });

  it("parseStatsd() survives every truncation of valid lines", () => {
    const samples = [
      "a.b,x=1;y=2:1.5e2|ms|@0.5|#k:v,flag|c:cid|T1700000000",
      "s[k=v]x:member|s",
      "multi#a=b:1|c:2|ms:3|g",
      "_e{5,4}:title|text|d:1|h:h|#a:b",
      "_sc|check|1|d:1|h:h|#a:b|m:msg",
      "p:1:2:3|d|#é:ü",
    ];
    for (const line of samples) {
      const bytes = encoder.encode(line);
      for (let cut = 0; cut <= bytes.length; cut++) {
        const chunk = new Uint8Array([...bytes.subarray(0, cut), 0x0a, ...encoder.encode("ok:1|c")]);
        const r = run(chunk);
        assert.equal(r.lines, cut === 0 ? 1 : 2);
        assert.deepEqual(r.samples.at(-1)?.name, "ok", `neighbour kept after cut ${cut} of "${line}"`);
      }
    }
  });

  it("parseStatsd() never throws on random bytes and counts every line", () => {
    const next = prng(42);
    for (let iteration = 0; iteration < 1500; iteration++) {
      const bytes = new Uint8Array(Math.floor(next() * 300));
      for (let i = 0; i < bytes.length; i++) {
        // Bias towards newlines so chunks hold several lines.
        bytes[i] = next() < 0.05 ? 0x0a : Math.floor(next() * 256);
      }
      assertLineContract(bytes);
    }
  });

  it("parseStatsd() never throws on random StatsD-shaped text", () => {
    const next = prng(1234);
    const atoms = [
      "a",
      "b.c",
      ":",
      "|",
      "c",
      "g",
      "ms",
      "h",
      "s",
      "d",
      "@",
      "0.5",
      "@0.1",
      "#",
      "k:v",
      ",",
      ";",
      "=",
      "[",
      "]",
      "T",
      "17",
      "-",
      "+",
      "1",
      "2.5",
      "e3",
      "_e{",
      "_sc|",
      "}",
      "{",
      "\n",
      "\r\n",
      "m:",
      "h:",
      "é",
      "\u{1F600}",
      "\\n",
      "NaN",
      "x:",
    ];
    for (let iteration = 0; iteration < 3000; iteration++) {
      let text = "";
      const n = Math.floor(next() * 16);
      for (let k = 0; k < n; k++) text += atoms[Math.floor(next() * atoms.length)];
      const bytes = encoder.encode(text);
      // Occasionally corrupt one byte to reach the UTF-8 validator from odd positions.
      if (bytes.length > 0 && next() < 0.1) {
        bytes[Math.floor(next() * bytes.length)] = 0x80 + Math.floor(next() * 128);
      }
      assertLineContract(bytes);
    }
  });
});

describe("parseStatsd() series identities", () => {
  it("parseStatsd() gives equal series the same key and different series different keys", () => {
    const r = run("x:1|c|#a:1,b:2\nx:2|c|#b:2,a:1\nx,b=2:3|c|#a:1\nx:4|c|#a:1\nx:5|c|#a:1,b:3");
    const keys = r.samples.map((s) => s.key);
    assert.equal(keys[0], keys[1]);
    assert.equal(keys[0], keys[2]);
    assert.notEqual(keys[0], keys[3]);
    assert.notEqual(keys[0], keys[4]);
  });

  it("parseStatsd() keeps identities right across many distinct series", () => {
    // More series than the identity cache's first table holds, so it grows on the way (starting over past
    // its most entries is the memo test's, in _statsd_identity_test.ts).
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) lines.push(`svc.${i}:${i}|c|#shard:${i % 13}`);
    const text = lines.join("\n");
    for (let pass = 0; pass < 2; pass++) {
      const r = run(text);
      assert.equal(r.samples.length, lines.length);
      for (let i = 0; i < lines.length; i += 97) {
        const s = r.samples[i]!;
        assert.equal(s.name, `svc.${i}`);
        assert.deepEqual(s.labels, [["shard", String(i % 13)]]);
        assert.equal(s.value, i);
      }
    }
  });

  it("parseStatsd() keeps long identities right when the cache's byte slab refills", () => {
    const pad = "p".repeat(400);
    for (let pass = 0; pass < 2; pass++) {
      const lines = Array.from({ length: 3000 }, (_, i) => `long.${i}:1|c|#pad:${pad},i:${i}`);
      const r = run(lines.join("\n"));
      assert.equal(r.samples.length, 3000);
      for (let i = 0; i < 3000; i += 101) {
        assert.equal(r.samples[i]!.name, `long.${i}`);
        assert.deepEqual(r.samples[i]!.labels, [["i", String(i)], ["pad", pad]]);
      }
    }
  });

  it("parseStatsd() reads the bytes again when a caller reuses its buffer", () => {
    const buffer = encoder.encode("aaa:1|c|#x:y");
    assert.deepEqual([run(buffer).samples[0]!.name, run(buffer).samples[0]!.labels], ["aaa", [["x", "y"]]]);
    buffer.set(encoder.encode("bbb:1|c|#x:z"));
    assert.deepEqual([run(buffer).samples[0]!.name, run(buffer).samples[0]!.labels], ["bbb", [["x", "z"]]]);
  });

  it("parseStatsd() decodes identities of lines with long value sections and non-ASCII text", () => {
    const values = Array.from({ length: 600 }, (_, i) => i % 10).join(":");
    const r = run(`wide,k=v:${values}|d|#a:b`);
    assert.equal(r.samples.length, 600);
    assert.deepEqual(r.samples[599]!.labels, [["a", "b"], ["k", "v"]]);
    const u = one("größe,ort=köln:1|g|#zone:süd");
    assert.equal(u.name, "größe");
    assert.deepEqual(u.labels, [["ort", "köln"], ["zone", "süd"]]);
  });

  it("parseStatsd() rejects names and tags holding the series-key separator bytes", () => {
    assert.equal(reason("a\x00b:1|c"), "bad_tags");
    assert.equal(reason("a,k=\x01:1|c"), "bad_tags");
    assert.equal(reason("a:1|c|#k:\x02"), "bad_tags");
    assert.equal(reason("a:1|c|#k:v|#j:\x00"), "bad_tags");
    assert.equal(reason("_sc|a\x01|0"), "bad_service_check");
    assert.equal(one("a\x03b:1|c|#k:\t").name, "a\x03b", "other control bytes are kept as received");
  });

  it("parseStatsd() does not confuse where the name ends and the tags start", () => {
    const a = one("ab:1|c|#c");
    const b = one("a:1|c|#bc");
    assert.notEqual(a.key, b.key);
    assert.equal(a.name, "ab");
    assert.equal(b.name, "a");
  });
});
