import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import { createCollectdFormat } from "./collectd.ts";
import { encodeCollectdParts } from "./_collectd_parts.ts";
import type { CollectdPart, CollectdValue } from "./_collectd_parts.ts";
import { BUILTIN_TYPES_DB } from "./_types_db_builtin.ts";
import { collectdLabels, collectdMetricName } from "./collectd_naming.ts";
import { parseTypesDb } from "./types_db.ts";
import type { BadReason, Sample, SampleSink, TallyEvent } from "../model/sample.ts";
import { seriesKey } from "../model/series_key.ts";

const HOST = 0x0000;
const TIME = 0x0001;
const PLUGIN = 0x0002;
const PLUGIN_INSTANCE = 0x0003;
const TYPE = 0x0004;
const TYPE_INSTANCE = 0x0005;
const VALUES = 0x0006;
const INTERVAL = 0x0007;
const TIME_HR = 0x0008;
const INTERVAL_HR = 0x0009;
const MESSAGE = 0x0100;
const SEVERITY = 0x0101;
const SIGNATURE = 0x0200;
const ENCRYPTION = 0x0210;

const parse = createCollectdFormat({ typesDb: BUILTIN_TYPES_DB });
const TESTDATA = fileURLToPath(new URL("./testdata/collectd/", import.meta.url).href);

interface Recorded {
  readonly records: number;
  readonly samples: Sample[];
  readonly events: TallyEvent[];
  readonly bad: BadReason[];
}

/** Parses bytes (or parts) and records every sink call, checking each sample's key and label order. */
function run(input: Uint8Array | readonly CollectdPart[], format = parse): Recorded {
  const bytes = input instanceof Uint8Array ? input : encodeCollectdParts(input);
  const samples: Sample[] = [];
  const events: TallyEvent[] = [];
  const bad: BadReason[] = [];
  const sink: SampleSink = {
    sample(sample) {
      assert.equal(sample.key, seriesKey(sample.name, sample.labels), "the key must come from seriesKey");
      for (let i = 1; i < sample.labels.length; i++) {
        assert.ok(sample.labels[i - 1]![0] < sample.labels[i]![0], "labels sorted, no duplicates");
      }
      samples.push({ ...sample });
    },
    event(event) {
      events.push(event);
    },
    bad(reason) {
      bad.push(reason);
    },
  };
  const records = format(bytes, sink);
  return { records, samples, events, bad };
}

function str(type: number, text: string): CollectdPart {
  return { kind: "string", type, text };
}
function num(type: number, value: bigint | number): CollectdPart {
  return { kind: "number", type, value: BigInt(value) };
}
function values(...list: CollectdValue[]): CollectdPart {
  return { kind: "values", values: list };
}
function gauge(value: number): CollectdValue {
  return { code: 1, value };
}
function raw(...bytes: number[]): CollectdPart {
  return { kind: "raw", bytes: new Uint8Array(bytes) };
}

/** host, time_hr (2^-30 s), plugin/type identity: what collectd puts before its first value list. */
function identity(
  plugin: string,
  pluginInstance: string,
  type: string,
  typeInstance: string,
): CollectdPart[] {
  return [
    str(PLUGIN, plugin),
    str(PLUGIN_INSTANCE, pluginInstance),
    str(TYPE, type),
    str(TYPE_INSTANCE, typeInstance),
  ];
}
const T0_S = 1_700_000_000n;
const PREAMBLE: CollectdPart[] = [str(HOST, "web1"), num(TIME_HR, T0_S << 30n), num(INTERVAL_HR, 10n << 30n)];

describe("parseCollectd() values", () => {
  it("parseCollectd() decodes a gauge as a little-endian double", () => {
    // 3.25 = 0x400A000000000000; on the wire little-endian: 00 00 00 00 00 00 0A 40.
    const r = run([
      ...PREAMBLE,
      ...identity("golden", "", "gauge", "pi"),
      raw(0x00, 0x06, 0x00, 0x0f, 0x00, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0x0a, 0x40),
    ]);
    assert.deepEqual(r.bad, []);
    assert.equal(r.samples.length, 1);
    const s = r.samples[0]!;
    assert.equal(s.kind, "gauge");
    assert.equal(s.value, 3.25);
    assert.equal(s.name, "collectd_golden_gauge");
    assert.deepEqual(s.labels, [["golden", "pi"], ["instance", "web1"]]);
    assert.equal(s.timeMs, 1_700_000_000_000);
    assert.equal(s.rate, 1);
    assert.equal(s.gaugeDelta, false);
  });

  it("parseCollectd() decodes a counter as a big-endian u64 and makes it cumulative", () => {
    // 0x0000000100000002 = 4294967298
    const r = run([
      ...PREAMBLE,
      ...identity("golden", "", "counter", ""),
      raw(0x00, 0x06, 0x00, 0x0f, 0x00, 0x01, 0x00, 0, 0, 0, 1, 0, 0, 0, 2),
    ]);
    assert.deepEqual(r.bad, []);
    assert.equal(r.samples[0]!.kind, "cumulative");
    assert.equal(r.samples[0]!.value, 4294967298);
    assert.equal(r.samples[0]!.name, "collectd_golden_counter");
  });

  it("parseCollectd() decodes a derive as a big-endian signed i64", () => {
    // -42 = 0xFFFFFFFFFFFFFFD6
    const r = run([
      ...PREAMBLE,
      ...identity("golden", "", "derive", ""),
      raw(0x00, 0x06, 0x00, 0x0f, 0x00, 0x01, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xd6),
    ]);
    assert.equal(r.samples[0]!.kind, "cumulative");
    assert.equal(r.samples[0]!.value, -42);
  });

  it("parseCollectd() decodes an absolute as a big-endian u64 delta (a counter sample)", () => {
    const r = run([
      ...PREAMBLE,
      ...identity("golden", "", "absolute", ""),
      raw(0x00, 0x06, 0x00, 0x0f, 0x00, 0x01, 0x03, 0, 0, 0, 0, 0, 0, 0, 7),
    ]);
    assert.equal(r.samples[0]!.kind, "counter");
    assert.equal(r.samples[0]!.value, 7);
  });

  it("parseCollectd() keeps 64-bit extremes as the nearest double", () => {
    const r = run([
      ...PREAMBLE,
      ...identity("golden", "", "counter", "max"),
      values({ code: 0, value: 0xffffffffffffffffn }),
      str(TYPE, "derive"),
      str(TYPE_INSTANCE, "min"),
      values({ code: 2, value: -(1n << 63n) }),
      str(TYPE_INSTANCE, "big"),
      values({ code: 2, value: (1n << 53n) + 1n }),
    ]);
    assert.deepEqual(r.samples.map((s) => s.value), [2 ** 64, -(2 ** 63), 2 ** 53]);
  });

  it("parseCollectd() names every data source of a multi-value type from types.db", () => {
    const r = run([
      ...PREAMBLE,
      ...identity("load", "", "load", ""),
      values(gauge(0.5), gauge(0.25), gauge(0.125)),
      ...identity("interface", "eth0", "if_octets", ""),
      values({ code: 2, value: 100n }, { code: 2, value: 200n }),
    ]);
    assert.deepEqual(r.bad, []);
    assert.deepEqual(
      r.samples.map((s) => [s.name, s.kind, s.value]),
      [
        ["collectd_load_shortterm", "gauge", 0.5],
        ["collectd_load_midterm", "gauge", 0.25],
        ["collectd_load_longterm", "gauge", 0.125],
        ["collectd_interface_if_octets_rx", "cumulative", 100],
        ["collectd_interface_if_octets_tx", "cumulative", 200],
      ],
    );
    assert.deepEqual(r.samples[3]!.labels, [["instance", "web1"], ["interface", "eth0"]]);
    assert.equal(r.samples[3]!.labels, r.samples[4]!.labels, "one value list shares its labels");
  });

  it("parseCollectd() takes the kind from the wire type code, the names from types.db", () => {
    // types.db says if_octets is DERIVE; a sender whose types.db said COUNTER sends code 0.
    const r = run([
      ...PREAMBLE,
      ...identity("interface", "", "if_octets", ""),
      values({ code: 0, value: 1n }, gauge(2)),
    ]);
    assert.deepEqual(r.samples.map((s) => [s.name, s.kind]), [
      ["collectd_interface_if_octets_rx", "cumulative"],
      ["collectd_interface_if_octets_tx", "gauge"],
    ]);
  });

  it("parseCollectd() skips NaN gauges without counting them", () => {
    const r = run([
      ...PREAMBLE,
      ...identity("load", "", "load", ""),
      values(gauge(NaN), gauge(1), gauge(NaN)),
      ...identity("golden", "", "gauge", "nan"),
      values(gauge(NaN)),
    ]);
    assert.equal(r.records, 2);
    assert.deepEqual(r.bad, []);
    assert.deepEqual(r.samples.map((s) => [s.name, s.value]), [["collectd_load_midterm", 1]]);
  });

  it("parseCollectd() rejects a value list with an infinite gauge as a whole", () => {
    const r = run([
      ...PREAMBLE,
      ...identity("load", "", "load", ""),
      values(gauge(1), gauge(Infinity), gauge(2)),
    ]);
    assert.deepEqual(r.bad, ["bad_value"]);
    assert.equal(r.samples.length, 0);
  });

  it("parseCollectd() rejects an unknown value type code and goes on", () => {
    const r = run([
      ...PREAMBLE,
      ...identity("golden", "", "gauge", ""),
      values({ code: 7, value: 1n }),
      values(gauge(5)),
    ]);
    assert.deepEqual(r.bad, ["bad_value"]);
    assert.deepEqual(r.samples.map((s) => s.value), [5]);
    assert.equal(r.records, 2);
  });
});

describe("parseCollectd() parts and state", () => {
  it("parseCollectd() carries parts over from one value list to the next within a packet", () => {
    const r = run([
      ...PREAMBLE,
      ...identity("cpu", "0", "cpu", "user"),
      values({ code: 2, value: 10n }),
      str(TYPE_INSTANCE, "system"),
      values({ code: 2, value: 20n }),
      str(PLUGIN_INSTANCE, "1"),
      values({ code: 2, value: 30n }),
    ]);
    assert.deepEqual(r.samples.map((s) => [s.name, s.labels, s.value]), [
      ["collectd_cpu", [["cpu", "0"], ["instance", "web1"], ["type", "user"]], 10],
      ["collectd_cpu", [["cpu", "0"], ["instance", "web1"], ["type", "system"]], 20],
      ["collectd_cpu", [["cpu", "1"], ["instance", "web1"], ["type", "system"]], 30],
    ]);
  });

  it("parseCollectd() starts every packet with empty state", () => {
    run([...PREAMBLE, ...identity("cpu", "0", "cpu", "user"), values({ code: 2, value: 1n })]);
    const r = run([values({ code: 2, value: 1n })]);
    assert.deepEqual(r.bad, ["empty_name"]);
    const r2 = run([str(PLUGIN, "golden"), str(TYPE, "gauge"), values(gauge(1))]);
    assert.deepEqual(r2.samples[0]!.labels, [], "no host, no instance label");
    assert.equal(r2.samples[0]!.timeMs, 0, "no time part: arrival time");
  });

  it("parseCollectd() clears an instance with an empty string part", () => {
    const r = run([
      ...PREAMBLE,
      ...identity("df", "root", "df_complex", "used"),
      values(gauge(1)),
      str(PLUGIN_INSTANCE, ""),
      values(gauge(2)),
    ]);
    assert.deepEqual(r.samples.map((s) => s.labels), [
      [["df", "root"], ["instance", "web1"], ["type", "used"]],
      [["df", "used"], ["instance", "web1"]],
    ]);
  });

  it("parseCollectd() reads time in seconds and time_hr in 2^-30 s, the later part winning", () => {
    const r = run([
      str(HOST, "h"),
      ...identity("golden", "", "gauge", ""),
      num(TIME, 1_700_000_001n),
      values(gauge(1)),
      // 1.5 s past T0 in 2^-30 s units; 0.000999 s more is floored away.
      num(TIME_HR, (T0_S << 30n) + (1n << 29n) + 1072668n),
      values(gauge(2)),
      num(TIME, 0n),
      values(gauge(3)),
    ]);
    assert.deepEqual(r.samples.map((s) => s.timeMs), [1_700_000_001_000, 1_700_000_000_500, 0]);
  });

  it("parseCollectd() rejects value lists whose time is out of range", () => {
    const r = run([
      ...PREAMBLE,
      ...identity("golden", "", "gauge", ""),
      num(TIME, 1n << 60n),
      values(gauge(1)),
      num(TIME, 1n),
      values(gauge(2)),
    ]);
    assert.deepEqual(r.bad, ["bad_timestamp"]);
    assert.deepEqual(r.samples.map((s) => s.timeMs), [1000]);
  });

  it("parseCollectd() accepts interval parts and skips signature and unknown parts", () => {
    const signature = new Uint8Array(4 + 32 + 5);
    new DataView(signature.buffer).setUint16(0, SIGNATURE);
    new DataView(signature.buffer).setUint16(2, signature.length);
    const r = run([
      { kind: "raw", bytes: signature },
      ...PREAMBLE,
      num(INTERVAL, 10n),
      raw(0x07, 0x77, 0x00, 0x06, 0xaa, 0xbb), // unknown part type 0x0777
      raw(0x07, 0x78, 0x00, 0x04), // unknown, empty payload
      ...identity("golden", "", "gauge", ""),
      values(gauge(1)),
    ]);
    assert.deepEqual(r.bad, []);
    assert.equal(r.samples.length, 1);
    assert.equal(r.records, 1);
  });

  it("parseCollectd() counts an encryption part as bad and parses on", () => {
    const r = run([
      raw(0x02, 0x10, 0x00, 0x08, 1, 2, 3, 4),
      ...PREAMBLE,
      ...identity("golden", "", "gauge", ""),
      values(gauge(1)),
    ]);
    assert.deepEqual(r.bad, ["bad_frame"]);
    assert.equal(r.samples.length, 1);
    assert.equal(r.records, 2);
  });

  it("parseCollectd() reads strings up to their first NUL", () => {
    const r = run([
      ...PREAMBLE,
      ...identity("golden", "", "gauge", ""),
      raw(0x00, 0x05, 0x00, 0x0a, 0x61, 0x62, 0x00, 0x63, 0x64, 0x00), // type_instance "ab\0cd\0"
      values(gauge(1)),
    ]);
    assert.deepEqual(r.samples[0]!.labels, [["golden", "ab"], ["instance", "web1"]]);
  });

  it("parseCollectd() decodes UTF-8 strings and rejects value lists using invalid UTF-8", () => {
    const r = run([
      ...PREAMBLE,
      ...identity("golden", "", "gauge", "café"),
      values(gauge(1)),
      raw(0x00, 0x05, 0x00, 0x07, 0x61, 0xff, 0x00), // type_instance "a\xff"
      values(gauge(2)),
      values(gauge(3)),
      str(TYPE_INSTANCE, "ok"),
      values(gauge(4)),
    ]);
    assert.deepEqual(r.bad, ["invalid_utf8", "invalid_utf8"]);
    assert.deepEqual(r.samples.map((s) => [s.labels[0], s.value]), [[["golden", "café"], 1], [[
      "golden",
      "ok",
    ], 4]]);
  });

  it("parseCollectd() rejects value lists whose strings hold series-key separators", () => {
    const r = run([
      ...PREAMBLE,
      ...identity("golden", "", "gauge", "a\x01b"),
      values(gauge(1)),
      str(TYPE_INSTANCE, "fine"),
      values(gauge(2)),
    ]);
    assert.deepEqual(r.bad, ["bad_tags"]);
    assert.deepEqual(r.samples.map((s) => s.value), [2]);
  });

  it("parseCollectd() tells unknown types, data-source count mismatches and empty names apart", () => {
    const r = run([
      ...PREAMBLE,
      ...identity("golden", "", "no_such_type", ""),
      values(gauge(1)),
      str(TYPE, "load"),
      values(gauge(1), gauge(2)),
      values(),
      str(PLUGIN, ""),
      values(gauge(1), gauge(2), gauge(3)),
      str(PLUGIN, "load"),
      values(gauge(1), gauge(2), gauge(3)),
    ]);
    assert.deepEqual(r.bad, ["unknown_type", "type_mismatch", "type_mismatch", "empty_name"]);
    assert.equal(r.samples.length, 3);
    assert.equal(r.records, 5);
  });

  it("parseCollectd() parses a packet that is a subarray of a larger buffer", () => {
    const packet = encodeCollectdParts([
      ...PREAMBLE,
      ...identity("load", "", "load", ""),
      values(gauge(1), gauge(2), gauge(3)),
    ]);
    const big = new Uint8Array(packet.length + 13);
    big.fill(0xee);
    big.set(packet, 7);
    const r = run(big.subarray(7, 7 + packet.length));
    assert.deepEqual(r.bad, []);
    assert.deepEqual(r.samples.map((s) => s.value), [1, 2, 3]);
    assert.equal(r.samples[0]!.timeMs, 1_700_000_000_000);
  });

  it("parseCollectd() memoises identities yet stays correct past the memo bound", () => {
    const parts: CollectdPart[] = [...PREAMBLE, str(PLUGIN, "golden"), str(TYPE, "gauge")];
    for (let i = 0; i < 40; i++) parts.push(str(TYPE_INSTANCE, `m${i % 4}`), values(gauge(i)));
    const r = run(parts);
    assert.equal(r.samples.length, 40);
    assert.equal(r.samples[0]!.key, r.samples[4]!.key);
    assert.equal(r.samples[0]!.labels, r.samples[4]!.labels, "a memoised identity shares its labels");
    const format = createCollectdFormat({ typesDb: BUILTIN_TYPES_DB });
    for (let round = 0; round < 2; round++) {
      const many: CollectdPart[] = [...PREAMBLE, str(PLUGIN, "golden"), str(TYPE, "gauge")];
      for (let i = 0; i < 20_000; i++) {
        many.push(str(TYPE_INSTANCE, `m${i}`), values(gauge(i)));
        if (many.length > 3000) {
          const got = run(many, format);
          for (const s of got.samples) assert.deepEqual(s.labels[0], ["golden", `m${s.value}`]);
          many.length = 0;
          many.push(...PREAMBLE, str(PLUGIN, "golden"), str(TYPE, "gauge"));
        }
      }
    }
  });
});

describe("parseCollectd() memos", () => {
  it("parseCollectd() gives the samples of one series one memo, not enumerable, and other series others", () => {
    const format = createCollectdFormat({ typesDb: BUILTIN_TYPES_DB });
    const seen: Array<{ key: string; memo: unknown; enumerable: boolean }> = [];
    const sink: SampleSink = {
      sample(sample) {
        seen.push({ key: sample.key, memo: sample.memo, enumerable: Object.keys(sample).includes("memo") });
      },
      event: () => assert.fail("no events"),
      bad: (reason) => assert.fail(`no bad value lists (${reason})`),
    };
    for (let round = 0; round < 2; round++) {
      const parts: CollectdPart[] = [...PREAMBLE, str(PLUGIN, "interface"), str(PLUGIN_INSTANCE, "eth0")];
      for (let i = 0; i < 6; i++) {
        parts.push(
          str(TYPE, i % 2 === 0 ? "if_octets" : "if_packets"),
          values({ code: 0, value: BigInt(i) }, { code: 0, value: BigInt(2 * i) }),
        );
      }
      format(encodeCollectdParts(parts), sink);
    }
    assert.equal(seen.length, 24);
    assert.ok(seen.every((s) => s.memo !== undefined && !s.enumerable));
    const memoByKey = new Map<string, unknown>();
    for (const { key, memo } of seen) {
      if (!memoByKey.has(key)) memoByKey.set(key, memo);
      assert.equal(memo, memoByKey.get(key), `one memo for ${JSON.stringify(key)}`);
    }
    assert.equal(memoByKey.size, 4);
    assert.equal(new Set(memoByKey.values()).size, 4);
  });
});

describe("parseCollectd() notifications", () => {
  function notification(
    severity: number,
    extra: CollectdPart[] = [],
    message = "disk on fire",
  ): CollectdPart[] {
    return [
      num(TIME_HR, T0_S << 30n),
      num(SEVERITY, severity),
      str(HOST, "web1"),
      ...extra,
      str(MESSAGE, message),
    ];
  }

  it("parseCollectd() turns a notification into an event with the status scale", () => {
    const r = run([
      ...notification(1, [
        str(PLUGIN, "df"),
        str(PLUGIN_INSTANCE, "root"),
        str(TYPE, "percent"),
        str(TYPE_INSTANCE, "used"),
      ]),
    ]);
    assert.deepEqual(r.events, [{
      kind: "event",
      title: "disk on fire",
      text: "disk on fire",
      timeMs: 1_700_000_000_000,
      labels: [
        ["instance", "web1"],
        ["plugin", "df"],
        ["plugin_instance", "root"],
        ["severity", "failure"],
        ["type", "percent"],
        ["type_instance", "used"],
      ],
      status: 2,
    }]);
    assert.equal(r.records, 1);
    assert.deepEqual(run(notification(2)).events.map((e) => [e.status, e.labels]), [[1, [
      ["instance", "web1"],
      ["severity", "warning"],
    ]]]);
    assert.deepEqual(run(notification(4)).events.map((e) => e.status), [0]);
  });

  it("parseCollectd() rejects notifications with an unknown severity or an empty message", () => {
    for (const severity of [0, 3, 5, 2 ** 32]) {
      const r = run(notification(severity));
      assert.deepEqual(r.bad, ["bad_event"], `severity ${severity}`);
      assert.equal(r.events.length, 0);
    }
    assert.deepEqual(run(notification(1, [], "")).bad, ["bad_event"]);
    assert.deepEqual(run([str(MESSAGE, "no severity")]).bad, ["bad_event"]);
  });

  it("parseCollectd() gives a notification without a time the arrival time", () => {
    const r = run([num(SEVERITY, 4), str(MESSAGE, "ok")]);
    assert.equal(r.events[0]!.timeMs, 0);
    assert.deepEqual(r.events[0]!.labels, [["severity", "okay"]]);
  });

  it("parseCollectd() handles notifications and value lists in one packet", () => {
    const r = run([
      ...PREAMBLE,
      ...identity("golden", "", "gauge", ""),
      values(gauge(1)),
      num(SEVERITY, 2),
      str(MESSAGE, "hot"),
      values(gauge(2)),
    ]);
    assert.equal(r.records, 3);
    assert.deepEqual(r.samples.map((s) => s.value), [1, 2]);
    assert.equal(r.events[0]!.title, "hot");
  });
});

describe("parseCollectd() malformed packets", () => {
  /** Asserts the bytes yield the value lists before the damage, then exactly one bad for the rest. */
  function damaged(parts: CollectdPart[], reason: BadReason, samplesBefore: number): void {
    const r = run(parts);
    assert.deepEqual(r.bad, [reason]);
    assert.equal(r.samples.length, samplesBefore);
    assert.equal(r.events.length, 0);
  }
  const GOOD: CollectdPart[] = [...PREAMBLE, ...identity("golden", "", "gauge", ""), values(gauge(1))];

  it("parseCollectd() ignores an empty packet", () => {
    assert.deepEqual(run(new Uint8Array(0)), { records: 0, samples: [], events: [], bad: [] });
  });

  it("parseCollectd() counts trailing bytes shorter than a part header once", () => {
    damaged([...GOOD, raw(0x00)], "malformed_part", 1);
    damaged([...GOOD, raw(0x00, 0x06, 0x00)], "malformed_part", 1);
    damaged([raw(0xff)], "malformed_part", 0);
  });

  it("parseCollectd() counts a part length below the header size once (no endless loop)", () => {
    for (const length of [0, 1, 2, 3]) {
      damaged([...GOOD, raw(0x00, 0x02, 0x00, length), ...GOOD], "malformed_part", 1);
    }
  });

  it("parseCollectd() counts a part length past the end once and keeps what came before", () => {
    damaged([...GOOD, raw(0x00, 0x04, 0x00, 0x40, 0x61, 0x00)], "malformed_part", 1);
    damaged([...GOOD, raw(0x00, 0x06, 0xff, 0xff, 0x00, 0x01)], "malformed_part", 1);
  });

  it("parseCollectd() counts strings without a terminating NUL or with an empty payload", () => {
    damaged([...GOOD, raw(0x00, 0x04, 0x00, 0x07, 0x61, 0x62, 0x63), ...GOOD], "malformed_part", 1);
    damaged([...GOOD, raw(0x00, 0x00, 0x00, 0x04), ...GOOD], "malformed_part", 1);
  });

  it("parseCollectd() counts over-long strings as too_long", () => {
    damaged([...GOOD, str(HOST, "h".repeat(128)), ...GOOD], "too_long", 1);
    const r = run([...GOOD, str(HOST, "h".repeat(127)), values(gauge(2))]);
    assert.deepEqual(r.bad, []);
    damaged([num(SEVERITY, 1), str(MESSAGE, "m".repeat(256))], "too_long", 0);
    assert.equal(run([num(SEVERITY, 1), str(MESSAGE, "m".repeat(255))]).events.length, 1);
  });

  it("parseCollectd() counts number parts that are not 12 bytes", () => {
    for (const type of [TIME, TIME_HR, INTERVAL, INTERVAL_HR, SEVERITY]) {
      damaged([...GOOD, raw(type >> 8, type & 0xff, 0x00, 0x08, 0, 0, 0, 1), ...GOOD], "malformed_part", 1);
    }
  });

  it("parseCollectd() counts a values part whose count disagrees with its length once", () => {
    // count 2 but room for 1
    damaged(
      [...GOOD, raw(0x00, 0x06, 0x00, 0x0f, 0x00, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f), ...GOOD],
      "malformed_part",
      1,
    );
    // huge count, short part
    damaged(
      [...GOOD, raw(0x00, 0x06, 0x00, 0x0f, 0xff, 0xff, 0x01, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f)],
      "malformed_part",
      1,
    );
    // count 0 but bytes follow
    damaged([...GOOD, raw(0x00, 0x06, 0x00, 0x08, 0x00, 0x00, 0x01, 0x02)], "malformed_part", 1);
    // shorter than the count field
    damaged([...GOOD, raw(0x00, 0x06, 0x00, 0x05, 0x00)], "malformed_part", 1);
  });

  it("parseCollectd() counts one record per malformed remainder", () => {
    const r = run([...GOOD, raw(0x00, 0x02, 0x00, 0x00), ...GOOD]);
    assert.equal(r.records, 2, "one value list plus the remainder");
    const v = run([...GOOD, raw(0x00, 0x06, 0x00, 0x07, 0x00, 0x01, 0x01)]);
    assert.equal(v.records, 2, "a malformed values part is itself the record");
    assert.deepEqual(v.bad, ["malformed_part"]);
  });
});

describe("parseCollectd() golden packets from collectd 5.12", () => {
  // Captured by testdata/collectd/capture.ts from /usr/sbin/collectd (cpu, load, memory, interface, plus
  // PUTVAL/PUTNOTIF through unixsock); the oracle is collectd's own csv plugin on the same run.
  interface Expected {
    readonly collectd: string;
    readonly host: string;
    readonly packets: ReadonlyArray<{ file: string; valueLists: number; notifications: number }>;
    readonly notifications: ReadonlyArray<Readonly<Record<string, string>>>;
    readonly csv: Readonly<Record<string, { names: string[]; rows: string[][] }>>;
  }
  const expected = JSON.parse(readFileSync(join(TESTDATA, "expected.json"), "utf8")) as Expected;
  // The capture used the system's types.db; the built-in table must name these types the same way.
  const typesDb = parseTypesDb(BUILTIN_TYPES_DB).types;
  const format = createCollectdFormat({ typesDb: BUILTIN_TYPES_DB });
  const decoded = expected.packets.map((p) => ({
    ...p,
    ...run(new Uint8Array(readFileSync(join(TESTDATA, p.file))), format),
  }));

  interface OracleSeries {
    readonly identifier: string;
    readonly kind: string;
    /** [epoch ms, value text as csv printed it] */
    readonly rows: Array<[number, string]>;
  }

  /** The csv oracle keyed by the series key the naming convention gives each data source. */
  function oracle(): Map<string, OracleSeries> {
    const bySeries = new Map<string, OracleSeries>();
    for (const [identifier, { names, rows }] of Object.entries(expected.csv)) {
      // host/plugin[-plugin_instance]/type[-type_instance]: collectd forbids "-" in plugin and type names.
      const [host, pluginPart, typePart] = identifier.split("/") as [string, string, string];
      const [plugin, ...pi] = pluginPart.split("-");
      const [type, ...ti] = typePart.split("-");
      const id = {
        host,
        plugin: plugin!,
        pluginInstance: pi.join("-"),
        type: type!,
        typeInstance: ti.join("-"),
      };
      const sources = typesDb.get(id.type);
      assert.ok(sources, `type "${id.type}" is in the built-in table`);
      assert.deepEqual(sources.map((ds) => ds.name), names, `data sources of "${id.type}"`);
      const labels = collectdLabels(id);
      names.forEach((ds, i) => {
        const type = sources[i]!.type;
        bySeries.set(seriesKey(collectdMetricName(id, ds), labels), {
          identifier,
          kind: type === "GAUGE" ? "gauge" : type === "ABSOLUTE" ? "counter" : "cumulative",
          rows: rows.map((row) => [Math.round(Number(row[0]) * 1000), row[i + 1]!]),
        });
      });
    }
    return bySeries;
  }

  it("parseCollectd() decodes every captured packet to exactly what collectd's csv plugin wrote", () => {
    assert.match(expected.collectd, /^collectd 5\.12/);
    const bySeries = oracle();
    /** `identifier@row` → data sources decoded for that value list. */
    const valueListsSeen = new Map<string, number>();
    let valueLists = 0;
    for (const packet of decoded) {
      assert.deepEqual(packet.bad, [], packet.file);
      assert.equal(packet.records, packet.valueLists + packet.notifications, `${packet.file}: records`);
      assert.equal(packet.events.length, packet.notifications, `${packet.file}: notifications`);
      valueLists += packet.valueLists;
      for (const s of packet.samples) {
        const series = bySeries.get(s.key);
        assert.ok(series, `${packet.file}: ${s.name} ${JSON.stringify(s.labels)} is in the csv`);
        assert.equal(s.kind, series.kind, `${s.name}: kind`);
        // csv prints the time with %.3f (rounded); the format floors to whole ms.
        const index = series.rows.findIndex(([ms]) => Math.abs(ms - s.timeMs) <= 1);
        assert.ok(index >= 0, `${packet.file}: ${s.name} at ${s.timeMs} is in the csv`);
        const text = series.rows[index]![1];
        // Integers (counter, derive, absolute) are exact; csv prints gauges with %f (6 decimals).
        if (/^-?\d+$/.test(text)) assert.equal(s.value, Number(text), `${s.name}: exact integer`);
        else assert.ok(Math.abs(s.value - Number(text)) <= 5e-7, `${s.name}: ${s.value} vs csv "${text}"`);
        const vl = `${series.identifier}@${index}`;
        valueListsSeen.set(vl, (valueListsSeen.get(vl) ?? 0) + 1);
      }
    }
    // Every data source of every value list came through once; a value list of only NaN gauges
    // ("nan" in csv) yields nothing.
    for (const [vl, count] of valueListsSeen) {
      const [identifier, index] = vl.split("@") as [string, string];
      const row = expected.csv[identifier]!.rows[Number(index)]!;
      assert.equal(count, row.slice(1).filter((v) => v !== "nan").length, `${vl}: every data source once`);
    }
    const nanOnly = Object.values(expected.csv).flatMap((c) => c.rows).filter((row) =>
      row.slice(1).every((v) => v === "nan")
    );
    assert.equal(valueListsSeen.size, valueLists - nanOnly.length, "every value list decoded");
    assert.ok(valueLists >= 100, "the capture holds enough value lists to mean something");
  });

  it("parseCollectd() decodes the value types of the putvals exactly", () => {
    const golden = decoded.flatMap((p) => p.samples).filter((s) => s.name.startsWith("collectd_golden"));
    assert.deepEqual(
      golden.map((s) => [s.name, s.labels.map((l) => l[1]).join(","), s.kind, s.value]).sort(),
      [
        ["collectd_golden_absolute", "types,tally-golden,delta", "counter", 7],
        ["collectd_golden_counter", "types,tally-golden,big", "cumulative", 18446744073709551615],
        ["collectd_golden_counter", "types,tally-golden,small", "cumulative", 1234567890123],
        ["collectd_golden_derive", "types,tally-golden,negative", "cumulative", -42],
        ["collectd_golden_gauge", "types,tally-golden,pi", "gauge", 3.25],
        ["collectd_golden_if_octets_rx", "multi,tally-golden,eth9", "cumulative", 1000],
        ["collectd_golden_if_octets_tx", "multi,tally-golden,eth9", "cumulative", 2000],
      ],
    );
  });

  it("parseCollectd() turns collectd's notifications into events", () => {
    const events = decoded.flatMap((p) => p.events);
    const status: Record<string, number> = { failure: 2, warning: 1, okay: 0 };
    assert.deepEqual(
      events.map((e) => [e.title, e.text, e.status, e.labels]).sort(),
      expected.notifications.map((n) => {
        const labels: Array<[string, string]> = [["instance", expected.host], ["severity", n.severity!]];
        for (const k of ["plugin", "plugin_instance", "type", "type_instance"]) {
          if (n[k]) labels.push([k, n[k]]);
        }
        labels.sort((a, b) => (a[0] < b[0] ? -1 : 1));
        return [n.message, n.message, status[n.severity!], labels];
      }).sort(),
    );
    for (const e of events) assert.ok(e.timeMs > 1_600_000_000_000, "notifications carry collectd's time");
  });
});

describe("parseCollectd() fuzz", () => {
  /** Small deterministic PRNG (mulberry32) so a failure reproduces from its seed and iteration. */
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

  const STRING_TYPES = new Set([HOST, PLUGIN, PLUGIN_INSTANCE, TYPE, TYPE_INSTANCE, MESSAGE]);
  const NUMBER_TYPES = new Set([TIME, TIME_HR, INTERVAL, INTERVAL_HR, SEVERITY]);

  /**
   * The reference: walks part headers by the protocol's structural rules only (written apart from the
   * parser) and says how many records the parser must report and whether the packet is malformed.
   */
  function reference(bytes: Uint8Array): { records: number; malformed: boolean } {
    let records = 0;
    let p = 0;
    while (p < bytes.length) {
      if (bytes.length - p < 4) return { records: records + 1, malformed: true };
      const type = (bytes[p]! << 8) | bytes[p + 1]!;
      const length = (bytes[p + 2]! << 8) | bytes[p + 3]!;
      if (length < 4 || p + length > bytes.length) return { records: records + 1, malformed: true };
      let ok = true;
      if (STRING_TYPES.has(type)) {
        const max = type === MESSAGE ? 256 : 128;
        ok = length >= 5 && length - 4 <= max && bytes[p + length - 1] === 0;
        if (type === MESSAGE) records++;
        if (!ok) return { records: type === MESSAGE ? records : records + 1, malformed: true };
      } else if (NUMBER_TYPES.has(type)) {
        if (length !== 12) return { records: records + 1, malformed: true };
      } else if (type === VALUES) {
        records++;
        if (length < 6 || length !== 6 + 9 * ((bytes[p + 4]! << 8) | bytes[p + 5]!)) {
          return { records, malformed: true };
        }
      } else if (type === ENCRYPTION) {
        records++;
      }
      p += length;
    }
    return { records, malformed: false };
  }

  function seeds(): Uint8Array[] {
    const golden = readdirSync(TESTDATA).filter((f) => f.endsWith(".bin")).map((f) =>
      new Uint8Array(readFileSync(join(TESTDATA, f)))
    );
    const built = encodeCollectdParts([
      ...PREAMBLE,
      ...identity("load", "", "load", ""),
      values(gauge(1), gauge(NaN), gauge(3)),
      ...identity("interface", "eth0", "if_octets", ""),
      values({ code: 0, value: 1n }, { code: 2, value: -1n }),
      str(TYPE, "absolute"),
      values({ code: 3, value: 5n }),
      num(SEVERITY, 2),
      str(MESSAGE, "warm"),
      num(TIME, 1_700_000_000n),
      raw(0x02, 0x10, 0x00, 0x06, 0x00, 0x00),
    ]);
    return [...golden, built];
  }

  /** One mutated or random packet. */
  function mutate(next: () => number, base: readonly Uint8Array[]): Uint8Array {
    const pick = (n: number): number => Math.floor(next() * n);
    const kind = pick(8);
    if (kind === 0) {
      // pure random bytes, sometimes starting with a plausible header
      const out = new Uint8Array(pick(200));
      for (let i = 0; i < out.length; i++) out[i] = pick(256);
      if (out.length >= 4 && next() < 0.5) {
        out[0] = 0;
        out[1] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9][pick(10)]!;
        out[2] = 0;
        out[3] = pick(out.length + 4);
      }
      return out;
    }
    const src = base[pick(base.length)]!;
    const out = src.slice();
    // Part offsets, to aim mutations at headers.
    const offsets: number[] = [];
    for (let p = 0; p + 4 <= out.length;) {
      offsets.push(p);
      const length = (out[p + 2]! << 8) | out[p + 3]!;
      if (length < 4) break;
      p += length;
    }
    const at = offsets[pick(offsets.length)] ?? 0;
    switch (kind) {
      case 1: // truncate
        return out.subarray(0, pick(out.length + 1));
      case 2: // flip a few random bytes
        for (let k = 1 + pick(4); k > 0; k--) out[pick(out.length)] = pick(256);
        return out;
      case 3: { // a part length past the end, zero, or below the header
        const length = [0, 1, 3, 4, out.length - at + 1 + pick(50), 0xffff, pick(0x10000)][pick(7)]!;
        if (at + 4 <= out.length) {
          out[at + 2] = length >> 8;
          out[at + 3] = length & 0xff;
        }
        return out;
      }
      case 4: { // a huge or wrong value count in some values part
        const valuesAt = offsets.filter((p) => out[p] === 0 && out[p + 1] === 6);
        const v = valuesAt[pick(valuesAt.length)];
        if (v !== undefined && v + 6 <= out.length) {
          const count = [0, 0xffff, pick(0x10000), ((out[v + 4]! << 8) | out[v + 5]!) + 1][pick(4)]!;
          out[v + 4] = count >> 8;
          out[v + 5] = count & 0xff;
        }
        return out;
      }
      case 5: { // a random part spliced in at a part boundary
        const length = pick(40);
        const part = new Uint8Array(length);
        for (let i = 0; i < length; i++) part[i] = pick(256);
        if (length >= 4) {
          part[0] = next() < 0.5 ? 0 : 1;
          part[1] = pick(12);
          part[2] = 0;
          part[3] = next() < 0.7 ? length : pick(256);
        }
        const joined = new Uint8Array(out.length + length);
        joined.set(out.subarray(0, at));
        joined.set(part, at);
        joined.set(out.subarray(at), at + length);
        return joined;
      }
      case 6: { // remove a NUL terminator or change a value type code
        if (at + 4 < out.length) {
          const length = (out[at + 2]! << 8) | out[at + 3]!;
          const last = at + length - 1;
          if (last < out.length && last > at + 4) out[last] = pick(256);
        }
        return out;
      }
      default: { // two packets glued, the first cut short
        const other = base[pick(base.length)]!;
        const cut = pick(out.length + 1);
        const joined = new Uint8Array(cut + other.length);
        joined.set(out.subarray(0, cut));
        joined.set(other, cut);
        return joined;
      }
    }
  }

  it("parseCollectd() survives random and mutated packets, counting every bad one", () => {
    // 200 000 packets take 1-3 s on a busy 2-core box, within bun test's default 5 s timeout when this file
    // runs alone; TALLY_FUZZ_ITERATIONS=10000000 runs a longer search.
    const iterations = Number(process.env.TALLY_FUZZ_ITERATIONS ?? 200_000);
    const seed = 0xc011ec7d;
    const next = prng(seed);
    const base = seeds();
    const format = createCollectdFormat({ typesDb: BUILTIN_TYPES_DB });
    let samples = 0;
    let events = 0;
    let bad = 0;
    let finite = true;
    const sink: SampleSink = {
      sample(sample) {
        samples++;
        if (!Number.isFinite(sample.value) || sample.key.length === 0) finite = false;
      },
      event() {
        events++;
      },
      bad() {
        bad++;
      },
    };
    let malformedPackets = 0;
    for (let i = 0; i < iterations; i++) {
      const bytes = mutate(next, base);
      const before = { samples, events, bad };
      let records: number;
      try {
        records = format(bytes, sink);
      } catch (error) {
        assert.fail(
          `seed ${seed} iteration ${i}: threw ${String(error)} on ${Buffer.from(bytes).toString("hex")}`,
        );
      }
      const want = reference(bytes);
      if (records !== want.records) {
        assert.fail(
          `seed ${seed} iteration ${i}: ${records} records, reference ${want.records}: ${
            Buffer.from(bytes).toString("hex")
          }`,
        );
      }
      const newBad = bad - before.bad;
      const newEvents = events - before.events;
      if (want.malformed) {
        malformedPackets++;
        if (newBad < 1) {
          assert.fail(
            `seed ${seed} iteration ${i}: malformed packet not counted: ${
              Buffer.from(bytes).toString("hex")
            }`,
          );
        }
      }
      // Every record yields its samples, one event, or exactly one bad: never more outcomes than records.
      if (newBad + newEvents > records) {
        assert.fail(`seed ${seed} iteration ${i}: ${newBad} bad + ${newEvents} events > ${records} records`);
      }
    }
    if (process.env.TALLY_FUZZ_STATS === "1") console.log({ malformedPackets, samples, events, bad });
    assert.ok(finite, "every sample value is finite and keyed");
    assert.ok(malformedPackets > iterations / 4, `enough malformed packets (${malformedPackets})`);
    assert.ok(samples > iterations, `enough good value lists survive to exercise dispatch (${samples})`);
    assert.ok(events > 0);
  });
});
