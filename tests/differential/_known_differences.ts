/**
 * Every way tally and Etsy statsd 0.9.0 are known to read the same StatsD input differently, each with the
 * reason tally keeps its way. `src/inputs/statsd/README.md` ("Differences from Etsy statsd") says the same to
 * users. The differential test fails on any difference not listed here, and on any listed one that no
 * longer occurs.
 *
 * A difference is matched either by its value (the timer ones: the test recomputes both servers' rule
 * from Etsy's raw observations) or by the lines behind it: a metric difference matches when a line Etsy
 * or tally files under that key is an example of the listed difference. The streams give each such
 * example a name of its own (`odd.…`, `pak.…`), so an example never hides a difference elsewhere.
 *
 * @module
 */
import type { EtsyFlush } from "../harness/etsy_statsd.ts";
import type { Difference } from "./_compare.ts";

/** What a known difference may consult to decide whether it explains a difference. */
export interface DifferenceContext {
  /** Etsy's flush (with its raw timer observations). */
  readonly flush: EtsyFlush;
  /** tally's exact limit: past it, tally's percentiles come from its sketch. */
  readonly exactLimit: number;
  /** Key → every distinct line sent that Etsy, or tally, files under that key. */
  readonly linesByKey: ReadonlyMap<string, readonly string[]>;
}

/** One known difference. */
export interface KnownDifference {
  /** A short id, for failure messages. */
  readonly id: string;
  /** What differs and why tally keeps its way. */
  readonly reason: string;
  /**
   * Whether this known difference explains `d`.
   *
   * @param d The difference.
   * @param ctx The flush and the lines sent.
   * @returns True when it does.
   */
  matches(d: Difference, ctx: DifferenceContext): boolean;
}

/** A difference shown by lines matching `pattern`. */
function shownBy(id: string, reason: string, pattern: RegExp): KnownDifference {
  return {
    id,
    reason,
    matches(d, ctx) {
      const lines = d.kind === "bad" ? [d.line] : ctx.linesByKey.get(d.key) ?? [];
      return lines.some((line) => pattern.test(line));
    },
  };
}

/** The percentile, in [0, 1], a timer field `pNN` stands for; NaN for other fields. */
function quantileOf(field: string): number {
  return field.startsWith("p") ? Number(field.slice(1)) / 100 : NaN;
}

/** Whether the timer behind `d` was sent with a sample rate (Etsy's count then differs from its raw count). */
function sampled(d: Difference, flush: EtsyFlush): boolean {
  if (d.kind !== "metric" || d.type !== "timer") return false;
  const raw = flush.timers[d.key];
  return raw !== undefined && flush.timerCounters[d.key] !== raw.length;
}

/** The known differences. */
export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [
  {
    id: "percentile_rank",
    reason: "Percentiles are the nearest rank: the smallest observation with at least q·n observations at " +
      "or below it (what DogStatsD and Prometheus summaries report); Etsy takes the observation at rank " +
      "round(q·n), one lower when q·n rounds down",
    matches(d, ctx) {
      const q = quantileOf(d.kind === "metric" ? d.field : "");
      if (d.kind !== "metric" || d.type !== "timer" || Number.isNaN(q) || sampled(d, ctx.flush)) return false;
      const raw = ctx.flush.timers[d.key] ?? [];
      const n = raw.length;
      if (n === 0 || n > ctx.exactLimit) return false;
      const nearest = raw[Math.min(n, Math.max(1, Math.ceil(q * n))) - 1];
      const etsy = raw[Math.min(n, Math.max(1, Math.round(q * n))) - 1];
      return d.tally === nearest && d.etsy === etsy;
    },
  },
  {
    id: "timer_sample_rate",
    reason: "A sampled timer (`|@0.5`) weighs each observation 1/rate in its sum, mean and percentiles, as " +
      "DogStatsD does, so the sum estimates the unsampled total; Etsy scales only the count",
    matches(d, ctx) {
      return d.kind === "metric" && (d.field === "sum" || d.field === "mean" || d.field.startsWith("p")) &&
        sampled(d, ctx.flush);
    },
  },
  shownBy(
    "histogram_types",
    "`h` and `d` are histograms and distributions (summaries with percentiles), as in DogStatsD and " +
      "statsd_exporter; Etsy 0.9 counts any type other than `ms`, `g` and `s` as a counter",
    /\|[hd]$/,
  ),
  shownBy(
    "unknown_types",
    "An unknown, upper-case or empty type letter (`x`, `C`, `a:1|`) is counted bad (`unknown_type`), never " +
      "guessed; Etsy 0.9 counts the value as a counter",
    /\|(x|C|)$/,
  ),
  shownBy(
    "value_packing",
    "DogStatsD 1.1 value packing (`a:1:2:3|c`) is read as three values; Etsy reads the values before the " +
      "last as groups without a type, counts each bad, and keeps only the last",
    /^[^:|]+:[\d.]+:[\d.:]+\|/,
  ),
  shownBy(
    "negative_timers",
    "A negative timer value is kept (a clock step on the client makes one; DogStatsD keeps it too); Etsy " +
      "refuses it",
    /:-[\d.]+\|ms$/,
  ),
  shownBy(
    "rate_exponent",
    "`@1e-1` is the rate 0.1; Etsy's pattern stops at the `e` and reads 1",
    /\|@\d+e-\d+$/,
  ),
  shownBy(
    "rate_range",
    "A rate outside (0, 1] is counted bad (`bad_sample_rate`); Etsy takes `@2` as 0.5 (halving the count) " +
      "and `@0` as an infinite count",
    /\|@(0|2)$/,
  ),
  shownBy(
    "rate_repeated",
    "With two `@` fields the last wins, as in the Datadog agent; Etsy takes the first",
    /\|@[\d.]+\|@[\d.]+$/,
  ),
  shownBy(
    "empty_name",
    "A line without a name (`:1|c`) is counted bad (`empty_name`); Etsy files it under the empty key",
    /^:/,
  ),
  shownBy(
    "empty_set_member",
    "An empty set member (`a:|s`) is counted bad (`bad_value`); Etsy stores it as the member `0`",
    /^[^:]+:\|s$/,
  ),
  shownBy(
    "dogstatsd_fields",
    "The DogStatsD container-id field (`|c:…`) is skipped and `|T` timestamps are honoured; Etsy reads a " +
      "third field as a sample rate (so the line is bad) and takes everything after `|#` as tags",
    /\|(c:[0-9a-f]+|T\d+)$/,
  ),
  shownBy(
    "events_and_checks",
    "DogStatsD events (`_e{…}`) and service checks (`_sc|…`) are read, and a service check is also a gauge " +
      "of its status; Etsy counts both as bad lines",
    /^_(e\{|sc\|)/,
  ),
  shownBy(
    "name_tags",
    "Influx (`a,k=v`), Librato (`a#k=v`) and SignalFx (`a[k=v]`) tags in the name become labels; Etsy keeps " +
      "them in the name minus the punctuation it strips, another key (Graphite `a;k=v` matches)",
    /^odd\.(influx,|librato#|signalfx\[)/,
  ),
  shownBy(
    "tag_order",
    "Tags are sorted, so `#zone:a,env:prod` and `#env:prod,zone:a` are one series; Etsy keys them apart",
    /^odd\.tags_unsorted:/,
  ),
  shownBy(
    "tag_repeated",
    "A tag name given twice (`#env:a,env:b`) keeps its last value, one label per name; Etsy keeps both in " +
      "its key",
    /^odd\.tag_twice:/,
  ),
  shownBy(
    "tag_empty_value",
    "`#canary` and `#canary:` are the same label, `canary` with an empty value; Etsy keys them apart",
    /^odd\.tag_empty_value:/,
  ),
];
