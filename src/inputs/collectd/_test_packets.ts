/**
 * Builds plain collectd network-protocol packets for tests (collectd `src/network.c` layouts: strings
 * NUL-terminated, numbers big-endian u64, gauges little-endian doubles), from value lists rather than
 * parts, on top of `src/formats/_collectd_parts.ts` (use that one for part-level control).
 *
 * @module
 */

import { encodeCollectdParts } from "../../formats/_collectd_parts.ts";
import type { CollectdPart } from "../../formats/_collectd_parts.ts";

/** One value of a value list. */
export type TestValue =
  | { readonly type: "counter" | "derive" | "absolute"; readonly value: number }
  | { readonly type: "gauge"; readonly value: number };

/** One value list to encode. */
export interface TestValueList {
  readonly host: string;
  readonly plugin: string;
  readonly pluginInstance?: string;
  readonly type: string;
  readonly typeInstance?: string;
  /** Seconds since the epoch; sent as `time_hr` (2^-30 s units). */
  readonly time: number;
  readonly values: readonly TestValue[];
}

const DS_CODES = { counter: 0, gauge: 1, derive: 2, absolute: 3 } as const;

/**
 * Encodes value lists as the parts collectd's network plugin writes, every identity part repeated.
 *
 * @param lists The value lists.
 * @returns The packet bytes.
 */
export function encodeValueLists(lists: readonly TestValueList[]): Uint8Array {
  const parts: CollectdPart[] = [];
  for (const vl of lists) {
    parts.push({ kind: "string", type: 0x0000, text: vl.host });
    parts.push({ kind: "number", type: 0x0008, value: BigInt(Math.round(vl.time * 2 ** 30)) });
    parts.push({ kind: "string", type: 0x0002, text: vl.plugin });
    if (vl.pluginInstance !== undefined) {
      parts.push({ kind: "string", type: 0x0003, text: vl.pluginInstance });
    }
    parts.push({ kind: "string", type: 0x0004, text: vl.type });
    if (vl.typeInstance !== undefined) parts.push({ kind: "string", type: 0x0005, text: vl.typeInstance });
    parts.push({
      kind: "values",
      values: vl.values.map((v) => ({
        code: DS_CODES[v.type],
        value: v.type === "gauge" ? v.value : BigInt.asUintN(64, BigInt(v.value)),
      })),
    });
  }
  return encodeCollectdParts(parts);
}
