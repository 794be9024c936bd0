/**
 * The identities of collectd value lists: for each distinct identifier (host, plugin, plugin instance,
 * type, type instance) its metric name, labels and series key per data source, built once from types.db
 * (`collectd_naming.ts` names them) and memoised, so a steady stream of value lists builds no strings.
 *
 * @module
 */

import type { BadReason, Labels, SampleKind } from "../model/sample.ts";
import { seriesKey } from "../model/series_key.ts";
import { type CollectdIdentifier, collectdLabels, collectdMetricName } from "./collectd_naming.ts";
import type { TypesDb } from "./types_db.ts";

/** One data source of an identifier, ready to stamp on samples. */
export interface CollectdSeries {
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

/** The memo of one format instance: identifier text (the five strings joined by NUL) → identity. */
export type CollectdIdentities = Map<string, CollectdIdentity>;

/**
 * Identifiers memoised before the memo is emptied: above the default series cap (100 000), so that every
 * identifier a worker may hold stays memoised. A memo smaller than the working set is emptied again and
 * again and misses every value list (at 16 384 entries, 50 000 identifiers parsed 8 times slower than
 * 1000). The memo is a `Map`, grown as identifiers arrive: a few thousand cost little.
 */
const IDENTITY_MAX_ENTRIES = 131_072;

const NO_SERIES: readonly CollectdSeries[] = Object.freeze([]);
const NO_LABELS: Labels = Object.freeze([]) as Labels;

/**
 * Resolves an identifier through the bounded memo, building its identity on a miss.
 *
 * @param memo The format instance's memo; emptied when full.
 * @param types The types.db table.
 * @param identifier The five strings of the value list (read, not kept).
 * @returns The identity: its series per data source, or the reason its value lists are rejected.
 */
export function resolveCollectdIdentity(
  memo: CollectdIdentities,
  types: TypesDb,
  identifier: CollectdIdentifier,
): CollectdIdentity {
  // NUL cannot occur inside a collectd string (it ends one), so the join is unambiguous.
  const id = identifier.host + "\0" + identifier.plugin + "\0" + identifier.pluginInstance + "\0" +
    identifier.type + "\0" + identifier.typeInstance;
  let identity = memo.get(id);
  if (identity !== undefined) return identity;
  identity = buildIdentity(types, identifier);
  if (memo.size >= IDENTITY_MAX_ENTRIES) memo.clear();
  memo.set(id, identity);
  return identity;
}

/** Builds names, labels and keys for every data source of an identifier. */
function buildIdentity(types: TypesDb, from: CollectdIdentifier): CollectdIdentity {
  if (from.plugin === "" || from.type === "") {
    return { series: NO_SERIES, labels: NO_LABELS, reason: "empty_name" };
  }
  const sources = types.get(from.type);
  if (sources === undefined) return { series: NO_SERIES, labels: NO_LABELS, reason: "unknown_type" };
  // A copy: the caller's object is the parser's per-packet state, rewritten by the next packet.
  const identifier: CollectdIdentifier = {
    host: from.host,
    plugin: from.plugin,
    pluginInstance: from.pluginInstance,
    type: from.type,
    typeInstance: from.typeInstance,
  };
  const labels = Object.freeze(collectdLabels(identifier)) as Labels;
  const series: CollectdSeries[] = [];
  for (const source of sources) {
    const name = collectdMetricName(identifier, source.name);
    const deriveKind: SampleKind = source.min !== null && source.min >= 0
      ? "cumulative"
      : "signed_cumulative";
    series.push({ name, key: seriesKey(name, labels), deriveKind });
  }
  return { series, labels, reason: null };
}
