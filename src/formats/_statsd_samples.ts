/**
 * The samples the StatsD parser hands to its sink: {@link fillSample} writes every metric value into one
 * scratch sample per thread, lent for the duration of `SampleSink.sample`; {@link makeSample} builds one
 * to keep (events' and service checks' samples).
 *
 * @module
 */

import type { Sample, SampleKind } from "../model/sample.ts";
import type { Identity } from "./_statsd_identity.ts";
import { NO_LABELS } from "./_text.ts";

/**
 * Builds a sample; one place, one property order, so every StatsD sample shares a hidden class.
 *
 * @param identity The series.
 * @param kind The kind.
 * @param value The value (0 for sets).
 * @param member The set member ("" for the other kinds).
 * @param rate The sample rate.
 * @param gaugeDelta Whether a gauge value is a `+`/`-` change.
 * @param timeMs The client timestamp in ms, or 0.
 * @returns The sample.
 */
export function makeSample(
  identity: Pick<Identity, "name" | "labels" | "key">,
  kind: SampleKind,
  value: number,
  member: string,
  rate: number,
  gaugeDelta: boolean,
  timeMs: number,
): Sample {
  return {
    name: identity.name,
    labels: identity.labels,
    key: identity.key,
    kind,
    value,
    member,
    rate,
    gaugeDelta,
    timeMs,
  };
}

/** A {@link Sample} whose fields the parser overwrites for every value it emits. */
type _ScratchSample = { -readonly [K in keyof Sample]: Sample[K] };

/**
 * The one sample of this thread's StatsD parser: every metric value is written into it and handed to the
 * sink, which may read it only during the call (`SampleSink.sample`). One object instead of one per line
 * takes the parser's largest allocation off the hot path (at a million lines a second it was most of a
 * worker's garbage).
 */
const SCRATCH: _ScratchSample = {
  name: "",
  labels: NO_LABELS,
  key: "",
  kind: "counter",
  value: 0,
  member: "",
  rate: 1,
  gaugeDelta: false,
  timeMs: 0,
};
// Not enumerable: a sink's copy (`{ ...sample }`), a JSON dump and a deep comparison see the data only.
Object.defineProperty(SCRATCH, "memo", {
  value: { stamp: 0, index: 0, holder: 0, position: 0, heldKey: "", heldKind: "counter" },
  writable: true,
  enumerable: false,
});

/**
 * Fills the parser's one scratch sample (see `SampleSink.sample`: valid during the call only) and returns it;
 * the identity is the sample's memo.
 *
 * @param identity The series.
 * @param kind The kind.
 * @param value The value (0 for sets).
 * @param member The set member ("" for the other kinds).
 * @param rate The sample rate.
 * @param gaugeDelta Whether a gauge value is a `+`/`-` change.
 * @param timeMs The client timestamp in ms, or 0.
 * @returns The scratch sample, overwritten by the next call.
 */
export function fillSample(
  identity: Identity,
  kind: SampleKind,
  value: number,
  member: string,
  rate: number,
  gaugeDelta: boolean,
  timeMs: number,
): Sample {
  const s = SCRATCH;
  s.name = identity.name;
  s.labels = identity.labels;
  s.key = identity.key;
  s.kind = kind;
  s.value = value;
  s.member = member;
  s.rate = rate;
  s.gaugeDelta = gaugeDelta;
  s.timeMs = timeMs;
  s.memo = identity;
  return s;
}
