import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { defaultTypesDb, SYSTEM_TYPES_DB_PATH } from "./_load_types_db.ts";
import { BUILTIN_TYPES_DB } from "./_types_db_builtin.ts";
import { parseTypesDb } from "./types_db.ts";

describe("defaultTypesDb()", () => {
  it("defaultTypesDb() concatenates the given files in order, later definitions winning", () => {
    const dir = mkdtempSync(join(tmpdir(), "tally-types-db-"));
    try {
      writeFileSync(join(dir, "a.db"), "mine value:GAUGE:U:U\nshared value:GAUGE:U:U"); // no final newline
      writeFileSync(join(dir, "b.db"), "shared x:DERIVE:0:U, y:DERIVE:0:U\n");
      const text = defaultTypesDb([join(dir, "a.db"), join(dir, "b.db")]);
      const { types, problems } = parseTypesDb(text);
      assert.deepEqual(problems, []);
      assert.deepEqual([...types.keys()].sort(), ["mine", "shared"]);
      assert.deepEqual(types.get("shared")?.map((ds) => ds.name), ["x", "y"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("defaultTypesDb() names the file it cannot read", () => {
    assert.throws(
      () => defaultTypesDb(["/nonexistent/tally/types.db"]),
      (error: unknown) =>
        error instanceof Error &&
        error.message.startsWith('Cannot read types.db file "/nonexistent/tally/types.db": ') &&
        error.cause !== undefined,
    );
  });

  it("defaultTypesDb() falls back to the built-in table without a system file", () => {
    assert.equal(defaultTypesDb([], { systemPath: "/nonexistent/tally/types.db" }), BUILTIN_TYPES_DB);
    assert.equal(defaultTypesDb(undefined, { systemPath: "/nonexistent/tally/types.db" }), BUILTIN_TYPES_DB);
  });

  it("defaultTypesDb() uses the system's types.db when present", {
    skip: !existsSync(SYSTEM_TYPES_DB_PATH) && `${SYSTEM_TYPES_DB_PATH} is not installed`,
  }, () => {
    const text = defaultTypesDb();
    assert.notEqual(text, BUILTIN_TYPES_DB);
    assert.ok(parseTypesDb(text).types.size > 300, "collectd's own file has hundreds of types");
  });
});

describe("BUILTIN_TYPES_DB", () => {
  it("BUILTIN_TYPES_DB parses cleanly and covers the common plugins' types", () => {
    const { types, problems } = parseTypesDb(BUILTIN_TYPES_DB);
    assert.deepEqual(problems, []);
    for (
      const type of [
        "cpu",
        "load",
        "memory",
        "if_octets",
        "if_packets",
        "if_errors",
        "if_dropped",
        "df_complex",
        "disk_octets",
        "disk_ops",
        "disk_time",
        "disk_merged",
        "percent",
        "gauge",
        "counter",
        "derive",
        "absolute",
        "bytes",
        "count",
        "uptime",
        "users",
        "ps_state",
        "vmpage_io",
        "swap",
        "swap_io",
        "entropy",
        "irq",
        "contextswitch",
        "temperature",
        "voltage",
        "frequency",
        "current",
        "power",
        "latency",
        "response_time",
        "connections",
        "total_requests",
        "http_requests",
        "operations",
        "objects",
      ]
    ) assert.ok(types.has(type), `built-in type "${type}"`);
    assert.deepEqual(types.get("load")?.map((ds) => ds.name), ["shortterm", "midterm", "longterm"]);
    assert.deepEqual(types.get("if_octets")?.map((ds) => [ds.name, ds.type]), [["rx", "DERIVE"], [
      "tx",
      "DERIVE",
    ]]);
  });

  it(
    "BUILTIN_TYPES_DB agrees with collectd's own types.db on every type both define",
    { skip: !existsSync(SYSTEM_TYPES_DB_PATH) && `${SYSTEM_TYPES_DB_PATH} is not installed` },
    () => {
      const builtin = parseTypesDb(BUILTIN_TYPES_DB).types;
      const system = parseTypesDb(defaultTypesDb([SYSTEM_TYPES_DB_PATH])).types;
      for (const [type, sources] of builtin) {
        const theirs = system.get(type);
        assert.ok(theirs, `collectd defines "${type}"`);
        assert.deepEqual(
          sources.map((ds) => [ds.name, ds.type]),
          theirs.map((ds) => [ds.name, ds.type]),
          type,
        );
      }
    },
  );
});
