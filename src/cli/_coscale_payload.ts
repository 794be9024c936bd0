/**
 * The CoScale data-insert payload (coscale.md §3.3) built from parsed `data insert` entries, and its form
 * encoding: `cdata` = base64 of gzip of the JSON array, as the CoScale CLI has sent it since April 2018.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { gzipSync } from "node:zlib";
import type { CoscaleDataEntry } from "../formats/coscale_data.ts";

/**
 * Groups entries as the CoScale CLI does, one object per (subject, metric, identical dimensions), in the
 * order each group first appears, and serialises them:
 * `[{"m":1,"s":"S100","d":[[-60,1.2],[0,1.1]]},{"m":2,"s":"A","d":[[0,2]],"dv":{"Queue":"q1"}}]`.
 *
 * @param entries The entries, in input order.
 * @returns The JSON array, as text.
 * @example
 * ```ts
 * coscalePayload(parseCoscaleData("M1:S100:-60:1.2;M1:S100:0:1.1").entries); // '[{"m":1,"s":"S100","d":[[-60,1.2],[0,1.1]]}]'
 * ```
 */
export function coscalePayload(entries: readonly CoscaleDataEntry[]): string {
  const groups = new Map<string, { head: string; points: string[]; dims: string }>();
  for (const entry of entries) {
    const dims = entry.dimensions.length === 0 ? "" : dimensionsJson(entry.dimensions);
    // Identical dimensions in another order are the same series.
    const sorted = entry.dimensions.length < 2 ? dims : dimensionsJson([...entry.dimensions].sort(byName));
    const key = `${entry.subject}\u0000${entry.metricId}\u0000${sorted}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { head: `{"m":${entry.metricId},"s":${JSON.stringify(entry.subject)},"d":[`, points: [], dims };
      groups.set(key, group);
    }
    for (const point of entry.points) group.points.push(JSON.stringify(point));
  }
  const parts: string[] = [];
  for (const group of groups.values()) {
    parts.push(`${group.head}${group.points.join(",")}]${group.dims === "" ? "" : `,"dv":${group.dims}`}}`);
  }
  return `[${parts.join(",")}]`;
}

/**
 * An upper estimate of what one entry adds to {@link coscalePayload}'s JSON, in UTF-16 code units, for
 * cutting batches without serialising twice.
 *
 * @param entry The entry.
 * @returns The estimate.
 */
export function coscaleEntrySize(entry: CoscaleDataEntry): number {
  let size = 32 + entry.subject.length;
  for (const point of entry.points) size += JSON.stringify(point).length + 1;
  for (const [name, value] of entry.dimensions) size += name.length * 2 + value.length * 2 + 8;
  return size;
}

/**
 * The form body of `POST /api/v1/app/{appId}/data/`: `cdata=` and the URL-encoded base64 of the gzipped
 * payload (standard alphabet, padded).
 *
 * @param payload The JSON array from {@link coscalePayload}.
 * @returns The `application/x-www-form-urlencoded` body.
 */
export function coscaleForm(payload: string): string {
  const cdata = Buffer.from(gzipSync(payload)).toString("base64");
  return new URLSearchParams({ cdata }).toString();
}

function dimensionsJson(dimensions: CoscaleDataEntry["dimensions"]): string {
  return `{${
    dimensions.map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`).join(",")
  }}`;
}

function byName(a: readonly [string, string], b: readonly [string, string]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}
