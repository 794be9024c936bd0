import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type CollectdIdentities,
  type CollectdIdentity,
  createCollectdIdentities,
  type RawIdentifier,
  resolveCollectdIdentity,
  resolveCollectdScope,
} from "./_collectd_identity.ts";
import { BUILTIN_TYPES_DB } from "./_types_db_builtin.ts";
import { parseTypesDb } from "./types_db.ts";

const encoder = new TextEncoder();

/** An identifier's five strings. */
type Five = readonly [
  host: string,
  plugin: string,
  pluginInstance: string,
  type: string,
  typeInstance: string,
];

/**
 * Lays the five strings out in a packet-like buffer after `pad` bytes of noise and hashes them, or gives
 * every string the hash `hash` (to force collisions).
 */
function raw(five: Five, pad = 0, hash?: number): { bytes: Uint8Array; raw: RawIdentifier } {
  const parts = five.map((text) => encoder.encode(text));
  const bytes = new Uint8Array(pad + parts.reduce((n, p) => n + p.length + 1, 0)).fill(0x7a);
  const starts: number[] = [];
  let o = pad;
  for (const part of parts) {
    starts.push(o);
    bytes.set(part, o);
    o += part.length;
    bytes[o++] = 0;
  }
  const h = (i: number) => hash ?? fnv(parts[i]!);
  return {
    bytes,
    raw: {
      hostStart: starts[0]!,
      hostLength: parts[0]!.length,
      hostHash: h(0),
      pluginStart: starts[1]!,
      pluginLength: parts[1]!.length,
      pluginHash: h(1),
      pluginInstanceStart: starts[2]!,
      pluginInstanceLength: parts[2]!.length,
      pluginInstanceHash: h(2),
      typeStart: starts[3]!,
      typeLength: parts[3]!.length,
      typeHash: h(3),
      typeInstanceStart: starts[4]!,
      typeInstanceLength: parts[4]!.length,
      typeInstanceHash: h(4),
    },
  };
}

function fnv(bytes: Uint8Array): number {
  let h = 0x811c9dc5 | 0;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h;
}

function resolve(memo: CollectdIdentities, five: Five, pad = 0, hash?: number): CollectdIdentity {
  const r = raw(five, pad, hash);
  return resolveCollectdIdentity(memo, resolveCollectdScope(memo, r.bytes, r.raw), r.bytes, r.raw);
}

const types = parseTypesDb(BUILTIN_TYPES_DB).types;

describe("collectd identities", () => {
  it("resolveCollectdIdentity() builds names, labels and keys, and returns the same identity for the same bytes", () => {
    const memo = createCollectdIdentities(types);
    const first = resolve(memo, ["h", "interface", "eth0", "if_octets", ""]);
    assert.equal(first.reason, null);
    assert.deepEqual(first.labels, [["instance", "h"], ["interface", "eth0"]]);
    assert.deepEqual(first.series.map((s) => [s.name, s.deriveKind]), [
      ["collectd_interface_if_octets_rx", "cumulative"],
      ["collectd_interface_if_octets_tx", "cumulative"],
    ]);
    assert.equal(first.series[0]!.key, "collectd_interface_if_octets_rx\0instance\x01h\x02interface\x01eth0");
    // The same strings elsewhere in another buffer: found by their bytes.
    assert.equal(resolve(memo, ["h", "interface", "eth0", "if_octets", ""], 17), first);
  });

  it("resolveCollectdIdentity() tells identifiers apart whose hashes all collide, however the strings split", () => {
    const memo = createCollectdIdentities(types);
    const ids: Five[] = [
      ["h", "cpu", "0", "cpu", "user"],
      ["h", "cpu", "0", "cpu", "idle"],
      ["h", "cpu", "1", "cpu", "user"],
      ["h", "cpu0", "", "cpu", "user"],
      ["hc", "pu", "0", "cpu", "user"],
      ["h", "cpu", "0", "cpuu", "ser"],
      ["", "cpu", "0", "cpu", "user"],
    ];
    const got = ids.map((five) => resolve(memo, five, 0, 42));
    assert.equal(new Set(got).size, ids.length);
    ids.forEach((five, i) => assert.equal(resolve(memo, five, 3, 42), got[i], five.join("/")));
    assert.deepEqual(got[2]!.labels, [["cpu", "1"], ["instance", "h"], ["type", "user"]]);
    assert.deepEqual(got[6]!.labels, [["cpu", "0"], ["type", "user"]]);
  });

  it("resolveCollectdIdentity() memoises rejections: unknown types and empty names", () => {
    const memo = createCollectdIdentities(types);
    assert.equal(resolve(memo, ["h", "p", "", "no_such_type", ""]).reason, "unknown_type");
    assert.equal(resolve(memo, ["h", "", "", "gauge", ""]).reason, "empty_name");
    assert.equal(resolve(memo, ["h", "p", "", "", ""]).reason, "empty_name");
    assert.equal(resolve(memo, ["h", "p", "", "gauge", ""]).reason, null);
  });

  it("the memo empties itself past its bounds and goes on resolving, a scope of the emptied memo included", () => {
    // 32 entries at most, and 2 KiB of raw bytes.
    const memo = createCollectdIdentities(types, { maxSlots: 64, maxSlabBytes: 2048 });
    const first = resolve(memo, ["h", "bench", "g0", "gauge", "m0"]);
    let most = 0;
    for (let k = 1; k < 100; k++) {
      resolve(memo, ["h", "bench", `g${Math.floor(k / 10)}`, "gauge", `m${k}`]);
      most = Math.max(most, memo.entryCount);
    }
    assert.equal(most, 32);
    assert.ok(memo.entryCount < 32, `emptied (${memo.entryCount} entries)`);
    const again = resolve(memo, ["h", "bench", "g0", "gauge", "m0"]);
    assert.notEqual(again, first);
    assert.deepEqual(again.series.map((s) => s.key), first.series.map((s) => s.key));
    // Scopes of collectd's longest strings (381 bytes) fill the raw bytes first; a packet that keeps its
    // scope across the emptying still resolves by that scope.
    const r = raw(["h", "bench", "g9", "gauge", "x"]);
    const scope = resolveCollectdScope(memo, r.bytes, r.raw);
    const long = (k: number) => `${k}`.padStart(127, "x");
    let emptied = false;
    for (let k = 0; k < 10 && !emptied; k++) {
      const before = memo.entryCount;
      resolve(memo, [long(k), long(k), long(k), "gauge", ""]);
      emptied = memo.entryCount <= before;
    }
    assert.ok(emptied);
    assert.ok(memo.entryCount < 8);
    const late = resolveCollectdIdentity(memo, scope, r.bytes, r.raw);
    assert.equal(late.series[0]!.key, "collectd_bench_gauge\0bench\x01g9\x02instance\x01h\x02type\x01x");
    assert.equal(resolveCollectdIdentity(memo, scope, r.bytes, r.raw), late);
  });
});
