/**
 * Test support for the script formats: a sink that records every call, a seeded PRNG, and the line
 * contract every text format keeps.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BadReason, Sample, SampleSink, TallyEvent } from "../model/sample.ts";
import { seriesKey } from "../model/series_key.ts";
import type { LineProblem } from "./script_frame.ts";

/** One sink call, in the order the parser made it (samples without their key, which is checked). */
export type Call =
  | { readonly sample: Omit<Sample, "key"> }
  | { readonly event: TallyEvent }
  | { readonly bad: BadReason };

/** Everything one parse produced. */
export interface Recorded {
  readonly lines: number;
  readonly calls: Call[];
  readonly samples: Sample[];
  readonly events: TallyEvent[];
  readonly bad: BadReason[];
  readonly problems: LineProblem[];
}

/** A parser as the script formats export it. */
export type Parser = (
  bytes: Uint8Array,
  sink: SampleSink,
  options?: { readonly onBad?: (problem: LineProblem) => void },
) => number;

/**
 * Runs a parser over bytes and records every sink call; asserts each sample's key and that the parser
 * never throws.
 *
 * @param parse The parser.
 * @param bytes The frame bytes.
 * @returns What the parser produced.
 */
export function record(parse: Parser, bytes: Uint8Array): Recorded {
  const calls: Call[] = [];
  const samples: Sample[] = [];
  const events: TallyEvent[] = [];
  const bad: BadReason[] = [];
  const problems: LineProblem[] = [];
  const sink: SampleSink = {
    sample(sample) {
      assert.equal(sample.key, seriesKey(sample.name, sample.labels), "the key must come from seriesKey");
      for (let i = 1; i < sample.labels.length; i++) {
        assert.ok(sample.labels[i - 1]![0] < sample.labels[i]![0], "labels sorted, no duplicates");
      }
      assert.ok(Number.isFinite(sample.value), "values are finite");
      const { key: _key, ...rest } = sample;
      calls.push({ sample: rest });
      samples.push({ ...sample });
    },
    event(event) {
      calls.push({ event });
      events.push(event);
    },
    bad(reason) {
      calls.push({ bad: reason });
      bad.push(reason);
    },
  };
  const lines = parse(bytes, sink, {
    onBad(problem) {
      assert.equal(problem.reason, bad.at(-1), "onBad follows sink.bad with the same reason");
      problems.push(problem);
    },
  });
  assert.equal(problems.length, bad.length, "one problem per bad line");
  return { lines, calls, samples, events, bad, problems };
}

/**
 * A small deterministic PRNG (mulberry32), so fuzz failures reproduce.
 *
 * @param seed The seed.
 * @returns A function returning numbers in [0, 1).
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return function next(): number {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Random bytes biased towards newlines and the given text atoms, so chunks hold several plausible lines.
 *
 * @param next The PRNG.
 * @param atoms Text pieces typical of the format.
 * @returns The bytes.
 */
export function randomInput(next: () => number, atoms: readonly string[]): Uint8Array {
  const encoder = new TextEncoder();
  if (next() < 0.3) {
    const bytes = new Uint8Array(Math.floor(next() * 200));
    for (let i = 0; i < bytes.length; i++) bytes[i] = next() < 0.05 ? 0x0a : Math.floor(next() * 256);
    return bytes;
  }
  let text = "";
  const n = Math.floor(next() * 24);
  for (let k = 0; k < n; k++) text += atoms[Math.floor(next() * atoms.length)];
  const bytes = encoder.encode(text);
  if (bytes.length > 0 && next() < 0.15) {
    bytes[Math.floor(next() * bytes.length)] = 0x80 + Math.floor(next() * 128);
  }
  return bytes;
}

/** `UPDATE_GOLDEN=1` rewrites the expected files instead of checking them (review the diff after). */
const UPDATE_GOLDEN = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[
  "UPDATE_GOLDEN"
] === "1";

/**
 * The golden cases in a testdata folder: the names of its files ending in `suffix`, without it, sorted.
 *
 * @param dir The folder.
 * @param suffix The input file suffix, e.g. `.txt`.
 * @returns The case names.
 */
export function goldenCases(dir: string, suffix: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith(suffix)).map((f) => f.slice(0, -suffix.length)).sort();
}

/**
 * Asserts that `actual` equals `<dir>/<name>.expected.json` (or rewrites it under `UPDATE_GOLDEN=1`).
 *
 * @param dir The testdata folder.
 * @param name The case name.
 * @param actual What the parser produced, as plain JSON data.
 */
export function assertGolden(dir: string, name: string, actual: unknown): void {
  const file = join(dir, `${name}.expected.json`);
  if (UPDATE_GOLDEN) writeFileSync(file, JSON.stringify(actual, null, 2) + "\n");
  assert.deepEqual(actual, JSON.parse(readFileSync(file, "utf8")));
}
