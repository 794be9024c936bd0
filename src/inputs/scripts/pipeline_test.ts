import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { waitFor } from "../../../tests/harness/wait_for.ts";
import { createLogger } from "../../internal/log.ts";
import { componentStats, SelfStats } from "../../internal/self_stats.ts";
import type { Metric } from "../../model/metric.ts";
import type { TallyEvent } from "../../model/sample.ts";
import { Pipeline } from "../../pipeline/pipeline.ts";
import { detectRuntime } from "../../runtime/detect.ts";
import { schema } from "./config.ts";
import { ScriptsInput } from "./run.ts";
import { testdata } from "./_test_processes.ts";

const dir = mkdtempSync(join(tmpdir(), "tally-scripts-pipeline-"));
chmodSync(dir, 0o777);
after(() => rmSync(dir, { recursive: true, force: true }));

describe("scripts input through the pipeline", () => {
  for (const workers of [0, 1]) {
    it(`script frames become metrics and events (workers: ${workers}), Difference as window deltas`, async () => {
      const stats = new SelfStats();
      const log = createLogger({}, { write: () => {} });
      const metrics: Metric[] = [];
      const events: TallyEvent[] = [];
      const pipeline = new Pipeline({
        workers,
        ringBytes: 4 << 20,
        // One long window: the test flushes at its end.
        intervalMs: 3_600_000,
        aggregation: { percentiles: [50, 99], exactLimit: 64, maxSeries: 1000, idleMs: 3_600_000 },
        stats,
        log,
        onFlush(result) {
          metrics.push(...result.metrics);
          events.push(...result.events);
        },
      });
      await pipeline.start();
      const state = join(dir, `counting-${workers}.state`);
      const input = new ScriptsInput(
        v.parse(schema, {
          scripts: [{ command: testdata("counting.sh"), period: "100ms", env: { STATE: state } }],
          min_period: "100ms",
        }),
        "scripts",
      );
      const abort = new AbortController();
      await input.start({
        emit: pipeline.register({ type: "scripts", id: "scripts" }),
        signal: abort.signal,
        runtime: detectRuntime(),
        log,
        stats: componentStats(stats, { type: "scripts", id: "scripts" }),
        selfStats: stats,
      });
      try {
        await waitFor(() => Number(readFileSync(state, "utf8")) >= 115, { what: "three data runs" });
      } finally {
        await input.stop();
        await pipeline.stop();
      }
      // The script writes its state before it prints: a run under way when the input stopped counted in
      // the file but was cut off before its output reached the pipeline. The last run tally saw is the
      // newest "run N" event.
      const runs = events.map((e) => /^run (\d+)$/.exec(e.text)?.[1]).filter((n) => n !== undefined).map(
        Number,
      );
      const last = Math.max(...runs);
      assert.ok(last >= 110 && last <= Number(readFileSync(state, "utf8")), JSON.stringify(runs));
      const bytes = metrics.filter((m) => m.name === "bytes_in_bytes");
      assert.ok(bytes.length > 0, JSON.stringify(metrics.map((m) => m.name)));
      assert.deepEqual(bytes[0]!.labels, [["interface", "eth0"], ["script", "counting"]]);
      let delta = 0;
      for (const m of bytes) {
        assert.equal(m.kind, "cumulative");
        assert.equal(m.point.kind, "counter");
        if (m.point.kind === "counter") delta += m.point.delta;
      }
      const lastPoint = bytes.at(-1)!.point;
      assert.equal(lastPoint.kind === "counter" ? lastPoint.total : NaN, last);
      // The first value (105) is only the baseline: 5 per later run.
      assert.equal(delta, last - 105);
      const load = metrics.find((m) => m.name === "load");
      assert.deepEqual(load?.point, { kind: "gauge", value: 0.5 });
      const texts = events.map((e) => e.text);
      assert.ok(texts.includes("run 105"), JSON.stringify(texts));
      assert.equal(events[0]!.title, "Counted");
      // The pipeline counted every line of every frame for the input.
      const received = stats.snapshot().find((f) => f.name === "tally_component_received_events_total")
        ?.series.find((s) => s.labels.some(([k, value]) => k === "component_id" && value === "scripts"))
        ?.value;
      assert.equal(received, ((last - 100) / 5) * 3);
    });
  }
});

describe("scripts input with per-script registration", () => {
  it("start() registers each script apart: lines and bad lines are counted per script", async () => {
    const stats = new SelfStats();
    const log = createLogger({}, { write: () => {} });
    const pipeline = new Pipeline({
      workers: 1,
      ringBytes: 4 << 20,
      intervalMs: 3_600_000,
      aggregation: { percentiles: [50], exactLimit: 64, maxSeries: 1000, idleMs: 3_600_000 },
      stats,
      log,
      onFlush() {},
    });
    await pipeline.start();
    const component = { type: "scripts", id: "scripts" };
    const input = new ScriptsInput(
      v.parse(schema, {
        scripts: [
          { command: testdata("bash_example.sh"), period: "1h" },
          { command: testdata("lvs_check.sh"), period: "1h" },
        ],
      }),
      "scripts",
    );
    const abort = new AbortController();
    await input.start({
      emit: () => assert.fail("every script emits through its own registration"),
      register: (labels) => pipeline.register({ ...component, labels }),
      signal: abort.signal,
      runtime: detectRuntime(),
      log,
      stats: componentStats(stats, component),
      selfStats: stats,
    });
    const exits = (script: string) =>
      stats.snapshot().find((f) => f.name === "tally_script_exits_total")?.series.find((s) =>
        s.labels.some(([k, value]) => k === "script" && value === script) &&
        s.labels.some(([k, value]) => k === "mode" && value === "data")
      )?.value ?? 0;
    try {
      await waitFor(() => exits("bash_example") > 0 && exits("lvs_check") > 0, { what: "both data runs" });
    } finally {
      await input.stop();
      await pipeline.stop();
    }
    const snapshot = stats.snapshot();
    const series = (name: string) =>
      snapshot.find((f) => f.name === name)?.series.filter((s) => s.value !== 0).map((s) => [
        Object.fromEntries(s.labels),
        s.value,
      ]);
    const base = { component_id: "scripts", component_type: "scripts" };
    // bash_example prints "M1 " (no value) and "M2 0"; lvs_check prints two good lines.
    assert.deepEqual(series("tally_component_received_events_total"), [
      [{ ...base, script: "bash_example" }, 2],
      [{ ...base, script: "lvs_check" }, 2],
    ]);
    assert.deepEqual(series("tally_bad_lines_total"), [[
      { ...base, reason: "no_value", script: "bash_example" },
      1,
    ]]);
    assert.equal(snapshot.some((f) => f.name === "tally_script_output_lines_total"), false);
  });
});
