/**
 * The StatsD streams of the Etsy differential test: seeded, so a failing run replays, and built from the
 * shapes migrating users send. Each scenario has its own name prefix, so every difference is attributable
 * to one scenario:
 *
 * - `ctr.` counters with sample rates, `gge.` gauges with `+`/`-` deltas, `set.` sets, `tmr.` timers (some
 *   past the exact limit, some sampled);
 * - `mix.` one name used as several types; `tag.` DogStatsD tags (a fixed tag set at volume, as
 *   `statsd-gen -t` sends, and varied sets over names used as several types: the stream where tally once
 *   lost counter increments to kind conflicts); `pak.` DogStatsD value packing; `mvl.` Etsy multi-value
 *   lines, some partly bad; `spc.` blanks around values;
 * - `odd.` the catalogue: one line each of everything the two servers are known to read differently, and
 *   lines both reject.
 *
 * @module
 */
import { seededRandom } from "../../src/pipeline/aggregate/_seeded_random.ts";

/** What the test sends, in order. */
export interface EtsyStreams {
  /** The datagrams, each one or more lines joined by `\n`. */
  readonly datagrams: readonly string[];
  /** The exact limit the streams were built for (some timers exceed it). */
  readonly exactLimit: number;
}

/** The odd lines: each is sent once, in its own datagram. */
export const CATALOGUE: readonly string[] = [
  // Both reject these.
  "odd.bad_value:abc|c",
  "odd.no_type:1",
  "odd.no_value",
  "odd.bad_rate:1|c|@abc",
  "odd.empty_type:1|",
  // Read differently (see the known differences).
  "odd.packed:1:2:3|c",
  "odd.unknown_type:1|x",
  "odd.upper_type:1|C",
  "odd.multi_unknown:1|c:2|x",
  "odd.negative_timer:-5|ms",
  "odd.rate_exponent:1|c|@1e-1",
  "odd.rate_above_one:1|c|@2",
  "odd.rate_zero:1|c|@0",
  ":1|c",
  "odd.histogram:7|h",
  "odd.distribution:9|d",
  "odd.container:1|c|#env:prod|c:83c0a99c",
  "odd.container_no_tags:1|c|c:83c0a99c",
  "odd.timestamp:1|c|T1700000000",
  "odd.influx,env=prod:1|c",
  "odd.librato#env=prod:1|c",
  "odd.signalfx[env=prod]:1|c",
  "odd.graphite;env=prod:1|c",
  "odd.sanitised/path name:1|c",
  "odd.caf\u00e9:1|c",
  "odd.tags_unsorted:1|c|#zone:a,env:prod",
  "odd.tags_unsorted:1|c|#env:prod,zone:a",
  "odd.tag_colon_value:1|c|#url:http://x",
  "odd.tag_valueless:1|c|#canary",
  "odd.tag_empty_value:1|c|#canary:",
  "odd.tag_twice:1|c|#env:a,env:b",
  "odd.colon.name:sub:1|c",
  "odd.gauge_text:abc|g",
  "odd.set_empty:|s",
  "_e{5,4}:title|text|#env:prod",
  "_sc|odd.check|0|#env:prod",
  "odd.type_space:1|c ",
  "odd.multi_rate:1|c|@0.5|@0.25",
];

const COUNTER_RATES: readonly number[] = [1, 1, 1, 0.5, 0.25, 0.1];
/** The most bytes of lines one datagram carries (a typical client MTU budget). */
const MAX_DATAGRAM_BYTES = 1400;

/**
 * Builds the streams.
 *
 * @param seed The PRNG seed.
 * @param exactLimit tally's exact limit: a few timers get more observations than this.
 * @returns The datagrams.
 */
export function etsyStreams(seed: number, exactLimit: number): EtsyStreams {
  const random = seededRandom(seed);
  const int = (n: number): number => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const scenarios: string[][] = [];

  // Counters with sample rates; integers and one-decimal values, a few negative.
  const counters: string[] = [];
  for (let i = 0; i < 2500; i++) {
    const rate = pick(COUNTER_RATES);
    const value = i % 7 === 0 ? (int(200) - 50) / 10 : 1 + int(100);
    counters.push(`ctr.${int(40)}:${value}|c${rate === 1 ? "" : `|@${rate}`}`);
  }
  scenarios.push(counters);

  // Gauges: absolute sets and signed deltas, interleaved.
  const gauges: string[] = [];
  for (let i = 0; i < 1500; i++) {
    const name = `gge.${int(20)}`;
    const r = random();
    gauges.push(
      r < 0.4 ? `${name}:${int(1000)}|g` : `${name}:${r < 0.7 ? "+" : "-"}${int(500) / 10}|g`,
    );
  }
  scenarios.push(gauges);

  // Sets: members from pools of different sizes.
  const sets: string[] = [];
  for (let i = 0; i < 1500; i++) {
    const k = int(15);
    sets.push(`set.${k}:m${int(3 + k * 20)}|s`);
  }
  scenarios.push(sets);

  // Timers: small ones exact; tmr.big.* past the exact limit (sketched); tmr.sampled.* with a rate.
  const timers: string[] = [];
  for (let i = 0; i < 1200; i++) timers.push(`tmr.${int(20)}:${int(10000) / 10}|ms`);
  for (let i = 0; i < exactLimit * 4; i++) timers.push(`tmr.big.${i % 2}:${int(100000) / 100}|ms`);
  for (let i = 0; i < 300; i++) {
    timers.push(`tmr.sampled.${int(3)}:${int(5000) / 10}|ms|@${pick([0.5, 0.25])}`);
  }
  scenarios.push(timers);

  // One name, several types (each type is its own series in both servers).
  const mixed: string[] = [];
  const mixes: readonly (readonly string[])[] = [["c", "ms"], ["g", "s"], ["c", "g"], ["ms", "s"], [
    "c",
    "g",
    "ms",
    "s",
  ]];
  for (let i = 0; i < 1000; i++) {
    const k = int(mixes.length * 2);
    const type = pick(mixes[k % mixes.length]!);
    const value = type === "s" ? `u${int(30)}` : type === "g" ? String(int(100)) : String(1 + int(50));
    mixed.push(`mix.${k}:${value}|${type}`);
  }
  scenarios.push(mixed);

  // DogStatsD tags: a fixed tag set at volume (statsd-gen -t), and varied sets sent in sorted order.
  const tagged: string[] = [];
  for (let i = 0; i < 3000; i++) {
    tagged.push(`tag.fixed.${int(10)}:${1 + (i % 5)}|c|#env:bench,host:h1`);
  }
  for (let i = 0; i < 1500; i++) {
    const tags = [`az:${pick(["a", "b", "c"])}`, `env:${pick(["prod", "dev"])}`];
    if (random() < 0.5) tags.push(`svc:${pick(["api", "web", "db"])}`);
    const type = pick(["c", "c", "ms", "g", "s"]);
    const value = type === "s" ? `u${int(20)}` : String(1 + int(50));
    tagged.push(`tag.varied.${int(5)}:${value}|${type}|#${tags.join(",")}`);
  }
  scenarios.push(tagged);

  // DogStatsD value packing, Etsy multi-value lines (some partly bad), blanks around values.
  const packed: string[] = [];
  for (let i = 0; i < 200; i++) {
    packed.push(`pak.${int(5)}:${1 + int(9)}:${1 + int(9)}|${pick(["c", "ms"])}`);
  }
  scenarios.push(packed);
  const multi: string[] = [];
  for (let i = 0; i < 400; i++) {
    const k = int(6);
    switch (i % 3) {
      case 0:
        multi.push(`mvl.${k}:${1 + int(9)}|c:${int(100)}|ms`);
        break;
      case 1:
        // Issue 11: `name:14|c:14`, the second group has no type.
        multi.push(`mvl.${k}:${1 + int(9)}|c:${1 + int(9)}`);
        break;
      default:
        multi.push(`mvl.${k}:${1 + int(9)}|c:abc|c:${int(100)}|g`);
    }
  }
  scenarios.push(multi);
  const spaced: string[] = [];
  for (let i = 0; i < 200; i++) {
    spaced.push(
      `spc.${int(4)}:${pick([" ", "  ", ""])}${1 + int(9)}${pick([" ", ""])}|${pick(["c", "g", "ms"])}`,
    );
  }
  scenarios.push(spaced);

  // Interleave the scenarios, keeping each one's order (gauges depend on it), then pack datagrams.
  const lines: string[] = [];
  const cursors = scenarios.map(() => 0);
  let left = scenarios.reduce((n, s) => n + s.length, 0);
  while (left > 0) {
    const s = int(scenarios.length);
    const scenario = scenarios[s]!;
    if (cursors[s]! >= scenario.length) continue;
    lines.push(scenario[cursors[s]!]!);
    cursors[s]!++;
    left--;
  }
  const datagrams: string[] = [];
  let current: string[] = [];
  let bytes = 0;
  let want = 1 + int(20);
  for (const line of lines) {
    const size = new TextEncoder().encode(line).length + 1;
    if (current.length > 0 && (current.length >= want || bytes + size > MAX_DATAGRAM_BYTES)) {
      datagrams.push(current.join("\n"));
      current = [];
      bytes = 0;
      want = 1 + int(20);
    }
    current.push(line);
    bytes += size;
  }
  if (current.length > 0) datagrams.push(current.join("\n"));
  for (const line of CATALOGUE) datagrams.push(line);
  return { datagrams, exactLimit };
}
