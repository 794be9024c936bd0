/**
 * The identities of collectd value lists: for each distinct identifier (host, plugin, plugin instance,
 * type, type instance) its metric name, labels and series key per data source, built once from types.db
 * (`collectd_naming.ts` names them) and memoised by the identifier's raw bytes, so a steady stream of value
 * lists decodes no string and builds none.
 *
 * The memo has two levels, as collectd writes packets: a *scope* (host, plugin, plugin instance: set once
 * or twice a packet) and, within it, the identity (type, type instance: set for nearly every value list).
 * The parser hands each level the bytes of its strings as they sit in the packet (a {@link RawIdentifier})
 * with each string's FNV-1a hash, computed while it checked the string. A hit compares the bytes of that
 * level's strings with the memo's copy, so one value list compares its type and type instance (a dozen
 * bytes) rather than decoding, joining and hashing five strings. Both levels are open-addressed tables that
 * grow while half full, their raw bytes in one slab, and are emptied together when either reaches its
 * bound (starting over is cheaper than evicting).
 *
 * Each data source's {@link CollectdSeries} is also the memo its samples carry (`Sample.memo`): one object
 * per memoised series and key, where the aggregator keeps the series' number.
 *
 * @module
 */

import type { BadReason, Labels, SampleKind, SeriesMemo } from "../model/sample.ts";
import { seriesKey } from "../model/series_key.ts";
import { type CollectdIdentifier, collectdLabels, collectdMetricName } from "./collectd_naming.ts";
import { decodeText } from "./_text.ts";
import type { TypesDb } from "./types_db.ts";

/** One data source of an identifier, ready to stamp on samples; also their memo (`Sample.memo`). */
export interface CollectdSeries extends SeriesMemo {
  /** The metric name. */
  readonly name: string;
  /** The series key of the name and the identity's labels. */
  readonly key: string;
  /**
   * The kind of a DERIVE value of this data source: `cumulative` when types.db gives it a minimum of 0 or
   * more (a fall is then out of range: the source restarted), `signed_cumulative` when the minimum is
   * below 0 or unknown (a fall is a real negative change).
   */
  readonly deriveKind: SampleKind;
}

/** What an identifier resolves to: its series per data source, or the reason its value lists are bad. */
export interface CollectdIdentity {
  /** One per data source of the type, in types.db order. */
  readonly series: readonly CollectdSeries[];
  /** The labels every sample of the identifier carries (shared; treat as readonly). */
  readonly labels: Labels;
  /** Non-null when every value list of this identifier is rejected (unknown type, empty plugin/type). */
  readonly reason: BadReason | null;
}

/**
 * Where the five strings of a value list sit in its packet: each one's start, length in bytes (up to its
 * NUL; 0 when the packet set none) and FNV-1a hash. The bytes are valid strings: no series-key separator,
 * valid UTF-8 (the parser counts value lists that use any other as bad and never resolves them).
 */
export interface RawIdentifier {
  hostStart: number;
  hostLength: number;
  hostHash: number;
  pluginStart: number;
  pluginLength: number;
  pluginHash: number;
  pluginInstanceStart: number;
  pluginInstanceLength: number;
  pluginInstanceHash: number;
  typeStart: number;
  typeLength: number;
  typeHash: number;
  typeInstanceStart: number;
  typeInstanceLength: number;
  typeInstanceHash: number;
}

/** A memoised host, plugin and plugin instance. */
export interface CollectdScope {
  /** The combined hash of the three strings. */
  readonly hash: number;
  /** Where their bytes start in the slab (host, plugin, plugin instance, back to back). */
  readonly offset: number;
  readonly hostLength: number;
  readonly pluginLength: number;
  readonly pluginInstanceLength: number;
  readonly host: string;
  readonly plugin: string;
  readonly pluginInstance: string;
}

/** A memoised identity within a scope. */
interface IdentityEntry extends CollectdIdentity {
  readonly scope: CollectdScope;
  /** The combined hash of the scope and the two strings. */
  readonly hash: number;
  /** Where the type's and type instance's bytes start in the slab, back to back. */
  readonly offset: number;
  readonly typeLength: number;
  readonly typeInstanceLength: number;
}

/** The memo of one format instance (one per worker). */
export interface CollectdIdentities {
  readonly types: TypesDb;
  /** The most slots of each table (entries stop at half of them). */
  readonly maxSlots: number;
  /** The most raw bytes kept. */
  readonly maxSlabBytes: number;
  scopes: Array<CollectdScope | undefined>;
  scopeCount: number;
  entries: Array<IdentityEntry | undefined>;
  entryCount: number;
  /** The raw bytes of every scope and entry; allocated on the first miss. */
  slab: Uint8Array | null;
  slabUsed: number;
}

/** Slots of each table at first (open addressing with linear probing, a power of two). */
const MIN_SLOTS = 1024;
/**
 * The most slots of each table; entries stop at half of them (131 072 identities, above the default series
 * cap of 100 000, so that every identifier a worker may hold stays memoised: a memo smaller than the working
 * set is emptied again and again and misses every value list).
 */
const MAX_SLOTS = 262_144;
/** The slab starts this big and doubles up to {@link MAX_SLAB_BYTES}. */
const MIN_SLAB_BYTES = 1 << 14;
/** At most five strings of 127 bytes per entry, so 131 072 typical identifiers fit with room to spare. */
const MAX_SLAB_BYTES = 1 << 23;
const FNV_PRIME = 0x01000193;

const NO_SERIES: readonly CollectdSeries[] = Object.freeze([]);
const NO_LABELS: Labels = Object.freeze([]) as Labels;

/** Bounds of a memo other than the defaults (tests reach them with fewer identifiers). */
export interface CollectdIdentitiesBounds {
  /** The most slots of each table, a power of two; entries stop at half of them. */
  readonly maxSlots?: number;
  /** The most raw bytes kept, a power of two. */
  readonly maxSlabBytes?: number;
}

/**
 * Creates an empty memo.
 *
 * @param types The types.db table identities are built from.
 * @param bounds Smaller bounds than the defaults (262 144 slots, 8 MiB of raw bytes), for tests.
 * @returns The memo.
 */
export function createCollectdIdentities(
  types: TypesDb,
  bounds: CollectdIdentitiesBounds = {},
): CollectdIdentities {
  return {
    types,
    maxSlots: bounds.maxSlots ?? MAX_SLOTS,
    maxSlabBytes: bounds.maxSlabBytes ?? MAX_SLAB_BYTES,
    scopes: new Array<CollectdScope | undefined>(Math.min(MIN_SLOTS, bounds.maxSlots ?? MIN_SLOTS)).fill(
      undefined,
    ),
    scopeCount: 0,
    entries: new Array<IdentityEntry | undefined>(Math.min(MIN_SLOTS, bounds.maxSlots ?? MIN_SLOTS)).fill(
      undefined,
    ),
    entryCount: 0,
    slab: null,
    slabUsed: 0,
  };
}

/**
 * Resolves the host, plugin and plugin instance of `raw` to their scope, memoising it on a miss.
 *
 * @param memo The format instance's memo.
 * @param bytes The packet.
 * @param raw Where the strings sit in it.
 * @returns The scope (its strings decoded).
 */
export function resolveCollectdScope(
  memo: CollectdIdentities,
  bytes: Uint8Array,
  raw: RawIdentifier,
): CollectdScope {
  const hash = scopeHash(raw);
  const slab = memo.slab;
  if (slab !== null) {
    const scopes = memo.scopes;
    const mask = scopes.length - 1;
    let slot = (hash ^ (hash >>> 15)) & mask;
    for (;;) {
      const scope = scopes[slot];
      if (scope === undefined) break;
      if (
        scope.hash === hash && scope.hostLength === raw.hostLength &&
        scope.pluginLength === raw.pluginLength &&
        scope.pluginInstanceLength === raw.pluginInstanceLength
      ) {
        const o = scope.offset;
        if (
          sameBytes(slab, o, bytes, raw.hostStart, raw.hostLength) &&
          sameBytes(slab, o + raw.hostLength, bytes, raw.pluginStart, raw.pluginLength) &&
          sameBytes(
            slab,
            o + raw.hostLength + raw.pluginLength,
            bytes,
            raw.pluginInstanceStart,
            raw.pluginInstanceLength,
          )
        ) {
          return scope;
        }
      }
      slot = (slot + 1) & mask;
    }
  }
  return missScope(memo, bytes, raw, hash);
}

/**
 * Resolves the identity of `raw` in `scope` (from {@link resolveCollectdScope} for the same packet state),
 * building and memoising it on a miss.
 *
 * @param memo The format instance's memo.
 * @param scope The scope of `raw`'s host, plugin and plugin instance.
 * @param bytes The packet.
 * @param raw Where the strings sit in it.
 * @returns The identity: its series per data source, or the reason its value lists are rejected.
 */
export function resolveCollectdIdentity(
  memo: CollectdIdentities,
  scope: CollectdScope,
  bytes: Uint8Array,
  raw: RawIdentifier,
): CollectdIdentity {
  const hash = identityHash(scope, raw);
  const slab = memo.slab!;
  const entries = memo.entries;
  const mask = entries.length - 1;
  let slot = (hash ^ (hash >>> 15)) & mask;
  for (;;) {
    const entry = entries[slot];
    if (entry === undefined) break;
    if (
      entry.scope === scope && entry.typeLength === raw.typeLength &&
      entry.typeInstanceLength === raw.typeInstanceLength &&
      sameBytes(slab, entry.offset, bytes, raw.typeStart, raw.typeLength) &&
      sameBytes(slab, entry.offset + raw.typeLength, bytes, raw.typeInstanceStart, raw.typeInstanceLength)
    ) {
      return entry;
    }
    slot = (slot + 1) & mask;
  }
  return missIdentity(memo, scope, bytes, raw, hash);
}

/** The miss path of {@link resolveCollectdScope}, apart so that the hit path stays small. */
function missScope(
  memo: CollectdIdentities,
  bytes: Uint8Array,
  raw: RawIdentifier,
  hash: number,
): CollectdScope {
  makeRoom(memo, memo.scopeCount, raw.hostLength + raw.pluginLength + raw.pluginInstanceLength);
  const slab = memo.slab!;
  const offset = memo.slabUsed;
  let w = copyBytes(slab, offset, bytes, raw.hostStart, raw.hostLength);
  w = copyBytes(slab, w, bytes, raw.pluginStart, raw.pluginLength);
  memo.slabUsed = copyBytes(slab, w, bytes, raw.pluginInstanceStart, raw.pluginInstanceLength);
  const scope: CollectdScope = {
    hash,
    offset,
    hostLength: raw.hostLength,
    pluginLength: raw.pluginLength,
    pluginInstanceLength: raw.pluginInstanceLength,
    host: decodeText(bytes, raw.hostStart, raw.hostStart + raw.hostLength),
    plugin: decodeText(bytes, raw.pluginStart, raw.pluginStart + raw.pluginLength),
    pluginInstance: decodeText(
      bytes,
      raw.pluginInstanceStart,
      raw.pluginInstanceStart + raw.pluginInstanceLength,
    ),
  };
  if (memo.scopeCount + 1 > memo.scopes.length / 2) memo.scopes = rehash(memo.scopes, memo.scopes.length * 2);
  insert(memo.scopes, scope);
  memo.scopeCount++;
  return scope;
}

/** The miss path of {@link resolveCollectdIdentity}: builds the identity and memoises it. */
function missIdentity(
  memo: CollectdIdentities,
  scope: CollectdScope,
  bytes: Uint8Array,
  raw: RawIdentifier,
  hash: number,
): CollectdIdentity {
  const identity = buildIdentity(memo.types, {
    host: scope.host,
    plugin: scope.plugin,
    pluginInstance: scope.pluginInstance,
    type: decodeText(bytes, raw.typeStart, raw.typeStart + raw.typeLength),
    typeInstance: decodeText(bytes, raw.typeInstanceStart, raw.typeInstanceStart + raw.typeInstanceLength),
  });
  // A memo emptied to make room no longer holds `scope`, which the packet still uses: entries of it are
  // found through the packet's scope object, and the next packet resolves its scope anew.
  makeRoom(memo, memo.entryCount, raw.typeLength + raw.typeInstanceLength);
  const slab = memo.slab!;
  const offset = memo.slabUsed;
  const w = copyBytes(slab, offset, bytes, raw.typeStart, raw.typeLength);
  memo.slabUsed = copyBytes(slab, w, bytes, raw.typeInstanceStart, raw.typeInstanceLength);
  const entry: IdentityEntry = {
    series: identity.series,
    labels: identity.labels,
    reason: identity.reason,
    scope,
    hash,
    offset,
    typeLength: raw.typeLength,
    typeInstanceLength: raw.typeInstanceLength,
  };
  if (memo.entryCount + 1 > memo.entries.length / 2) {
    memo.entries = rehash(memo.entries, memo.entries.length * 2);
  }
  insert(memo.entries, entry);
  memo.entryCount++;
  return entry;
}

/**
 * Makes room for one more scope or entry (of `count` held) of `length` bytes: grows the slab when full, and
 * empties the memo when the slab or the table is at its bound.
 */
function makeRoom(memo: CollectdIdentities, count: number, length: number): void {
  if (memo.slab === null) memo.slab = new Uint8Array(Math.min(MIN_SLAB_BYTES, memo.maxSlabBytes));
  if (count + 1 > memo.maxSlots / 2) {
    startOver(memo);
    return;
  }
  if (memo.slabUsed + length <= memo.slab.length) return;
  if (memo.slab.length >= memo.maxSlabBytes) {
    startOver(memo);
    return;
  }
  const grown = new Uint8Array(memo.slab.length * 2);
  grown.set(memo.slab.subarray(0, memo.slabUsed));
  memo.slab = grown;
}

/** Empties both tables and the slab (keeping the slab's allocation). */
function startOver(memo: CollectdIdentities): void {
  const slots = Math.min(MIN_SLOTS, memo.maxSlots);
  memo.scopes = new Array<CollectdScope | undefined>(slots).fill(undefined);
  memo.entries = new Array<IdentityEntry | undefined>(slots).fill(undefined);
  memo.scopeCount = 0;
  memo.entryCount = 0;
  memo.slabUsed = 0;
}

/** A table of `slots` slots holding the entries of `table`. */
function rehash<T extends { readonly hash: number }>(
  table: Array<T | undefined>,
  slots: number,
): Array<T | undefined> {
  const grown = new Array<T | undefined>(slots).fill(undefined);
  for (const entry of table) if (entry !== undefined) insert(grown, entry);
  return grown;
}

/** Files an entry in the first free slot from its hash's. */
function insert<T extends { readonly hash: number }>(table: Array<T | undefined>, entry: T): void {
  const mask = table.length - 1;
  let slot = (entry.hash ^ (entry.hash >>> 15)) & mask;
  while (table[slot] !== undefined) slot = (slot + 1) & mask;
  table[slot] = entry;
}

/** The hash of a scope's three strings (their hashes and lengths combined). */
function scopeHash(raw: RawIdentifier): number {
  let h = Math.imul(raw.hostHash ^ raw.hostLength, FNV_PRIME);
  h = Math.imul(h ^ raw.pluginHash, FNV_PRIME) ^ raw.pluginLength;
  h = Math.imul(h ^ raw.pluginInstanceHash, FNV_PRIME) ^ raw.pluginInstanceLength;
  return Math.imul(h ^ (h >>> 13), FNV_PRIME);
}

/** The hash of an identity: its scope's and its two strings'. */
function identityHash(scope: CollectdScope, raw: RawIdentifier): number {
  let h = Math.imul(scope.hash ^ raw.typeHash, FNV_PRIME) ^ raw.typeLength;
  h = Math.imul(h ^ raw.typeInstanceHash, FNV_PRIME) ^ raw.typeInstanceLength;
  return Math.imul(h ^ (h >>> 13), FNV_PRIME);
}

/** Whether `a[ai..ai+n)` equals `b[bi..bi+n)`. */
function sameBytes(a: Uint8Array, ai: number, b: Uint8Array, bi: number, n: number): boolean {
  for (let i = 0; i < n; i++) {
    if (a[ai + i] !== b[bi + i]) return false;
  }
  return true;
}

/** Copies `from[s..s+n)` to `to` at `w`; returns where the copy ends. Byte loops: the strings are short. */
function copyBytes(to: Uint8Array, w: number, from: Uint8Array, s: number, n: number): number {
  for (let i = 0; i < n; i++) to[w + i] = from[s + i]!;
  return w + n;
}

/** Builds names, labels and keys for every data source of an identifier. */
function buildIdentity(types: TypesDb, identifier: CollectdIdentifier): CollectdIdentity {
  if (identifier.plugin === "" || identifier.type === "") {
    return { series: NO_SERIES, labels: NO_LABELS, reason: "empty_name" };
  }
  const sources = types.get(identifier.type);
  if (sources === undefined) return { series: NO_SERIES, labels: NO_LABELS, reason: "unknown_type" };
  const labels = Object.freeze(collectdLabels(identifier)) as Labels;
  const series: CollectdSeries[] = [];
  for (const source of sources) {
    const name = collectdMetricName(identifier, source.name);
    const deriveKind: SampleKind = source.min !== null && source.min >= 0
      ? "cumulative"
      : "signed_cumulative";
    series.push({
      name,
      key: seriesKey(name, labels),
      deriveKind,
      stamp: 0,
      index: 0,
      holder: 0,
      position: 0,
      heldKey: "",
      heldKind: "counter",
    });
  }
  return { series, labels, reason: null };
}
