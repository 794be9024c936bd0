/**
 * The property the design promises: the worker pool gives exactly what one thread processing every
 * frame in arrival order gives (`workers = 0`). Seeded random StatsD streams of counters, gauges (sets
 * with `+`/`-` deltas interleaved), timers and sets over several series and windows, interleaved with
 * CoScale script frames of `Difference` metrics (cumulative running totals, with restarts), are fed to
 * both; every flush must match, metric by metric, and so must the per-input line and bad-line counts.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "../internal/log.ts";
import { SelfStats } from "../internal/self_stats.ts";
import type { CoscaleDefinitions } from "../formats/coscale_definitions.ts";
import { encodeScriptFrame } from "../formats/script_frame.ts";
import { FORMAT_IDS } from "../model/frame.ts";
import type { FormatId } from "../model/frame.ts";
import type { Metric } from "../model/metric.ts";
import { seededRandom } from "./aggregate/_seeded_random.ts";
import { Pipeline } from "./pipeline.ts";
import type { FlushResult } from "./pipeline.ts";
import type { Balance } from "./pool.ts";

const T0 = 1_700_000_000_000;
const INTERVAL = 10_000;
const INPUTS = 3;

/** One step of a stream: a frame for an input, or a flush (optionally after moving the clock). */
type Step =
  | { readonly kind: "frame"; readonly input: number; readonly format: FormatId; readonly bytes: Uint8Array }
  | { readonly kind: "flush"; readonly advanceMs: number };

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

function randomLine(random: () => number): string {
  const r = random();
  const tag = random() < 0.3 ? `,host=h${Math.floor(random() * 2)}` : "";
  if (r < 0.25) {
    const rate = random() < 0.2 ? "|@0.5" : "";
    return `c${Math.floor(random() * 4)}${tag}:${1 + Math.floor(random() * 10)}|c${rate}`;
  }
  if (r < 0.55) {
    const name = `g${Math.floor(random() * 3)}${tag}`;
    const value = Math.floor(random() * 100);
    const form = random();
    // Absolute sets, and `+`/`-` deltas interleaved with them.
    if (form < 0.4) return `${name}:${value}|g`;
    if (form < 0.7) return `${name}:+${value}|g`;
    return `${name}:-${value}|g`;
  }
  if (r < 0.8) {
    const rate = random() < 0.1 ? "|@0.25" : "";
    // Names used as several kinds: each kind is its own series, whichever worker sees which first.
    const i = Math.floor(random() * 3);
    return `t${i}${tag}:${Math.floor(random() * 1000)}|${pick(random, ["ms", "h", "d", "c"])}${rate}`;
  }
  if (r < 0.97) return `s${Math.floor(random() * 2)}:${pick(random, ["a", "b", "c", "d", "e", "f"])}|s`;
  return pick(random, ["bad line", "x:1|zz", "y:abc|c"]);
}

const encoder = new TextEncoder();

/** One CoScale metric whose values are a running total (`Difference`), with an interface dimension. */
const COSCALE_DEFINITIONS: CoscaleDefinitions = {
  metrics: [{
    id: 1,
    name: "Octets",
    description: "",
    groups: [],
    unit: "",
    datatype: "COUNTER",
    calctype: "Difference",
    dimensions: [{ id: 1, name: "iface" }],
  }],
  events: [],
};

/** A CoScale script frame of cumulative values: each interface's total rises, and now and then restarts. */
function randomCoscaleFrame(random: () => number, totals: number[]): Uint8Array {
  const lines: string[] = [];
  const n = 1 + Math.floor(random() * 3);
  for (let j = 0; j < n; j++) {
    const iface = Math.floor(random() * totals.length);
    const total = random() < 0.05 ? Math.floor(random() * 10) : totals[iface]! + Math.floor(random() * 50);
    totals[iface] = total;
    lines.push(`M1 "1:eth${iface}" ${total}`);
  }
  if (random() < 0.03) lines.push("M9 1");
  return encodeScriptFrame(
    { script: "net", runMs: 0, definitions: COSCALE_DEFINITIONS },
    encoder.encode(lines.join("\n")),
  );
}

function randomStream(seed: number, frames: number): Step[] {
  const random = seededRandom(seed);
  const steps: Step[] = [];
  const totals = [0, 1000, 2 ** 40];
  for (let i = 0; i < frames; i++) {
    const input = Math.floor(random() * INPUTS);
    if (random() < 0.15) {
      steps.push({
        kind: "frame",
        input,
        format: FORMAT_IDS.coscale_script,
        bytes: randomCoscaleFrame(random, totals),
      });
    } else {
      const lines: string[] = [];
      const n = 1 + Math.floor(random() * 5);
      for (let j = 0; j < n; j++) lines.push(randomLine(random));
      steps.push({
        kind: "frame",
        input,
        format: FORMAT_IDS.statsd,
        bytes: encoder.encode(lines.join("\n")),
      });
    }
    if (random() < 0.004) steps.push({ kind: "flush", advanceMs: random() < 0.5 ? INTERVAL : 0 });
  }
  steps.push({ kind: "flush", advanceMs: INTERVAL });
  return steps;
}

interface Outcome {
  readonly flushes: ReadonlyArray<{ readonly windowMs: number; readonly metrics: readonly Metric[] }>;
  readonly counters: Record<string, number>;
}

async function run(steps: readonly Step[], workers: number, balance: Balance): Promise<Outcome> {
  const stats = new SelfStats();
  const clock = { now: T0 + 500 };
  const flushed: FlushResult[] = [];
  const pipeline = new Pipeline({
    workers,
    balance,
    ringBytes: 1 << 20,
    intervalMs: INTERVAL,
    // A small exact limit, so the busier timers switch to the sketch and the sketch merge is covered.
    aggregation: { percentiles: [50, 90, 99], exactLimit: 16, maxSeries: 10_000, idleMs: 3_600_000 },
    stats,
    log: createLogger({}, { write: () => {} }),
    now: () => clock.now,
    onFlush: (result) => {
      flushed.push(result);
    },
  });
  await pipeline.start();
  const emits = Array.from({ length: INPUTS }, (_, i) => pipeline.register({ type: "statsd", id: `in${i}` }));
  for (const step of steps) {
    if (step.kind === "frame") {
      assert.equal(emits[step.input]!(step.bytes, step.format), true, "frame dropped");
    } else {
      clock.now += step.advanceMs;
      await pipeline.flush();
    }
  }
  await pipeline.stop();
  const counters: Record<string, number> = {};
  for (const family of stats.snapshot()) {
    if (family.type !== "counter" || family.name === "tally_worker_restarts_total") continue;
    for (const s of family.series) {
      counters[`${family.name}{${s.labels.map((l) => l.join("=")).join(",")}}`] = s.value;
    }
  }
  return {
    flushes: flushed.map((f) => ({
      windowMs: f.windowMs,
      metrics: [...f.metrics].sort((a, b) =>
        a.timeMs - b.timeMs || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) ||
        (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0)
      ),
    })),
    counters,
  };
}

describe("Pipeline property: pool equals inline", () => {
  // Three seeded streams back to back, each ending in a flush; one pool per worker count keeps the
  // number of worker starts low (under `deno test` each start type-checks the worker).
  const steps = [1, 2, 3].flatMap((seed) => randomStream(seed, 1000));
  let inline: Outcome | undefined;

  it("the inline path (workers = 0) sees every kind of series over several windows", async () => {
    inline = await run(steps, 0, "least_filled");
    assert.ok(inline.flushes.length >= 6);
    assert.ok(inline.flushes.some((f) => f.metrics.some((m) => m.point.kind === "gauge")));
    assert.ok(inline.flushes.some((f) => f.metrics.some((m) => m.point.kind === "set")));
    assert.ok(
      inline.flushes.some((f) =>
        f.metrics.some((m) => m.kind === "cumulative" && m.point.kind === "counter" && m.point.delta > 0)
      ),
    );
    assert.ok(
      inline.flushes.some((f) => f.metrics.some((m) => m.point.kind === "summary" && m.point.count > 16)),
    );
  });

  for (
    const [workers, balance] of [[1, "round_robin"], [2, "least_filled"], [2, "round_robin"], [
      3,
      "round_robin",
    ]] as const
  ) {
    it(`a pool of ${workers} worker(s) (${balance}) equals the inline path`, async () => {
      inline ??= await run(steps, 0, "least_filled");
      const pooled = await run(steps, workers, balance);
      assert.deepEqual(pooled, inline);
    });
  }
});
