/**
 * What formats produce and reducers consume: one measurement of one series.
 *
 * Formats (pure parsers under `src/formats/`) hand `Sample`s to a {@link SampleSink}; the aggregator
 * folds them into per-window reducer state. A sample is a plain readonly object.
 *
 * @module
 */

/**
 * The measurement kinds tally aggregates: the StatsD-derived ones plus `cumulative`.
 *
 * - `counter`: an increment (StatsD `|c`); the window's delta is the sum of increments.
 * - `gauge`: a value at a point in time, or a `+`/`-` change of it.
 * - `timer`, `histogram`, `distribution`: observations summarised per window.
 * - `set`: a member whose distinct count per window is reported.
 * - `cumulative`: a monotonically increasing running total as the source reports it (collectd COUNTER,
 *   collectd DERIVE whose types.db minimum is 0 or more, CoScale `Difference` metrics, Prometheus
 *   counters). The aggregation turns consecutive values into window deltas (a decrease is a restart from
 *   0: the source restarted or wrapped) and reports the last raw value as the total, so the point is a
 *   `counter` whose Prometheus `_total` equals what the source reports.
 * - `signed_cumulative`: a running total that may also go down (collectd DERIVE whose types.db minimum is
 *   below 0 or unknown, `U`). The window delta is last − previous and is negative when the total fell:
 *   a decrease is real, never a restart. It finishes as a `counter` point (signed delta, rate and the raw
 *   total), but outputs that speak Prometheus send the raw total as a gauge, because a Prometheus counter
 *   that goes down reads as a reset and `rate()` would over-count.
 */
export type SampleKind =
  | "counter"
  | "gauge"
  | "timer"
  | "histogram"
  | "distribution"
  | "set"
  | "cumulative"
  | "signed_cumulative";

/** Labels sorted by name, no duplicate names (last value wins while parsing). */
export type Labels = readonly Label[];

/** One label: a name and its value. */
export type Label = readonly [name: string, value: string];

/** One measurement of one series. */
export interface Sample {
  /** The metric name as received (e.g. `api.requests`); sanitising is the output's job. */
  readonly name: string;
  /** The labels, sorted by name. */
  readonly labels: Labels;
  /** The series identity, from {@link seriesKey} over name and sorted labels. */
  readonly key: string;
  /** The kind of measurement. */
  readonly kind: SampleKind;
  /**
   * The value: a counter increment, a gauge value (or delta when `gaugeDelta`), a timer or
   * histogram observation, or a cumulative running total. Unused for sets (see `member`).
   */
  readonly value: number;
  /** The set member for `kind: "set"`; empty otherwise. */
  readonly member: string;
  /**
   * The client sample rate in (0, 1]; counters scale by 1/rate, timers count 1/rate observations.
   * Ignored for cumulative samples (a running total is not sampled).
   */
  readonly rate: number;
  /** The gauge value is a relative `+`/`-` change rather than an absolute set. */
  readonly gaugeDelta: boolean;
  /** The client timestamp in ms since the epoch (DogStatsD `|T`), or 0 for "arrival time". */
  readonly timeMs: number;
  /**
   * Where a sink may remember what it filed this series under, so that the next sample of the series
   * skips a lookup by key (the aggregator keeps the series' number and its place in the open window there). A format that memoises series identities (StatsD) gives
   * every sample of one identity the same memo for as long as it keeps the identity, and never gives one
   * memo to samples of two keys; other formats give none. Not enumerable where set, so a copy of a
   * sample (`{ ...sample }`) and its JSON carry none.
   */
  readonly memo?: SeriesMemo;
}

/**
 * What a sink keeps on a format's series identity (see {@link Sample.memo}). Whoever reads it checks first
 * that its stamps are its own: a sink stamps with numbers no other state of any sink in the thread uses, so
 * a memo written by another aggregator, for a window since handed over, or before the sink's numbering
 * started over, is ignored.
 */
export interface SeriesMemo {
  /** The stamp of the state `index` belongs to; 0 until a sink writes one. */
  stamp: number;
  /** What the series is filed under in that state (the aggregator: its series number). */
  index: number;
  /** The stamp of the window whose reducer state `position` names; 0 until a sink writes one. */
  holder: number;
  /** Where that window keeps the state of the series (the aggregator: its index in the window's states). */
  position: number;
  /** The key of the series whose state `position` names (a memo given to two keys must not mix them). */
  heldKey: string;
  /** The kind of that series. */
  heldKind: SampleKind;
}

/** An event: DogStatsD `_e`, a service check, later script `E` lines, CLI events, collectd notifications. */
export interface TallyEvent {
  /** The kind of event. */
  readonly kind: "event" | "service_check";
  /** The title (service checks: the check name). */
  readonly title: string;
  /** The text body (service checks: the message). */
  readonly text: string;
  /** The event time (its start) in ms since the epoch, or 0 for "arrival time". */
  readonly timeMs: number;
  /**
   * When the event ended, in ms since the epoch (a deploy, a cron run, a CoScale event with a stop time).
   * Absent for an instant event, which ends at its start; never before `timeMs` when both are given.
   */
  readonly endMs?: number;
  /** The labels, sorted by name (DogStatsD tags, plus `host`, `priority`, `alert_type`, `source_type_name`, `aggregation_key` when given). */
  readonly labels: Labels;
  /** The service-check status 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; -1 for plain events. */
  readonly status: number;
}

/**
 * Why a line (or a part of one, or a packet) was rejected; each reason is counted per input as
 * `tally_bad_lines_total{reason}`.
 *
 * - `empty_name`: no usable name (an empty one, or a collectd value list without plugin or type).
 * - `no_value`: nothing to take a value from (a StatsD line without `:`, a script metric line without a value).
 * - `bad_value`: a value that is not a usable number (or an empty set member).
 * - `unknown_type`: a type tally does not know (a StatsD type letter, a collectd type missing from types.db).
 * - `type_mismatch`: the values do not fit their declared type (a collectd value list whose number of
 *   values differs from its types.db entry's data sources).
 * - `unknown_id`: an id the definitions lack (a CoScale script `M`/`E` line, or a dimension, whose id the
 *   script's `-c` output never defined).
 * - `stray_line`: a line that is not a line of the format at all (a script's progress message, a stack
 *   trace, anything neither `M<id>` nor `E<id>`), rather than a broken one.
 * - `malformed_part`: a part whose shape is broken (a collectd part whose length is wrong or runs past the
 *   packet, a string without its NUL; a Nagios perfdata item without `=`; a collectd_unixsock field
 *   without `=`).
 * - `bad_frame`: the frame as a whole cannot be read (a script frame whose header is missing or invalid,
 *   or carries no definitions; an encrypted collectd part that reached a worker undecrypted).
 * - `bad_sample_rate`, `bad_tags`, `bad_timestamp`, `bad_event`, `bad_service_check`: that field is invalid.
 * - `invalid_utf8`, `too_long`: the bytes are not UTF-8, or longer than allowed.
 */
export type BadReason =
  | "empty_name"
  | "no_value"
  | "bad_value"
  | "unknown_type"
  | "type_mismatch"
  | "unknown_id"
  | "stray_line"
  | "malformed_part"
  | "bad_frame"
  | "bad_sample_rate"
  | "bad_tags"
  | "bad_timestamp"
  | "bad_event"
  | "bad_service_check"
  | "invalid_utf8"
  | "too_long";

/**
 * Where a format delivers what it parsed. Implementations must not retain a reference to the bytes, nor
 * to a sample object (see {@link SampleSink.sample}).
 */
export interface SampleSink {
  /**
   * Receives one parsed sample, lent for the duration of the call: a format may reuse the object for its
   * next sample (the StatsD parser writes every value into one), so a sink that keeps samples keeps copies
   * (`{ ...sample }`). The field values (strings, the shared `labels` array) may be kept as they are.
   */
  sample(sample: Sample): void;
  /** Receives one parsed event. */
  event(event: TallyEvent): void;
  /** Counts one rejected line with its reason. */
  bad(reason: BadReason): void;
}

/**
 * A pure parser from the bytes of one frame to samples.
 *
 * @returns The number of lines seen (good and bad), for the "lines received" self-metric.
 */
export type Format = (bytes: Uint8Array, sink: SampleSink) => number;
