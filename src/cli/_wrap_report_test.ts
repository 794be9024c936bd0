import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { wrapEvent, wrapMetrics } from "./_wrap_report.ts";
import type { WrapRun } from "./_wrap_report.ts";

const RUN: WrapRun = {
  name: "backup",
  argv: ["/usr/local/bin/backup.sh", "--full", "my dir", "it's"],
  startMs: 1_764_748_800_000,
  endMs: 1_764_748_812_345,
  durationMs: 12_345.4,
  outcome: { kind: "exited", code: 3 },
};

describe("wrapMetrics()", () => {
  it("wrapMetrics() gives the duration in seconds and the exit code as gauges named for Prometheus", () => {
    assert.deepEqual(wrapMetrics(RUN), [
      { name: "wrap_duration_seconds", type: "gauge", value: 12.3454, labels: { name: "backup" } },
      { name: "wrap_exit_code", type: "gauge", value: 3, labels: { name: "backup" } },
    ]);
  });
});

describe("wrapEvent()", () => {
  it("wrapEvent() spans the run and carries the cron wrapper's attributes", () => {
    assert.deepEqual(wrapEvent(RUN), {
      title: "backup",
      text: "/usr/local/bin/backup.sh --full 'my dir' 'it'\\''s' exited with code 3 after 12.345 s",
      start: 1_764_748_800_000,
      end: 1_764_748_812_345,
      labels: {
        name: "backup",
        command: "/usr/local/bin/backup.sh --full 'my dir' 'it'\\''s'",
        exit_code: "3",
        execution_time: "12.345",
      },
    });
  });

  it("wrapEvent() names the signal that ended the command", () => {
    const event = wrapEvent({
      ...RUN,
      argv: ["sleep", "60"],
      durationMs: 2000,
      outcome: { kind: "signaled", signal: "SIGTERM", code: 143 },
    });
    assert.equal(event.text, "sleep 60 was ended by SIGTERM after 2 s");
    assert.deepEqual(event.labels, {
      name: "backup",
      command: "sleep 60",
      exit_code: "143",
      execution_time: "2",
      signal: "SIGTERM",
    });
  });

  it("wrapEvent() says why a command could not start, and never ends before it starts", () => {
    const event = wrapEvent({
      ...RUN,
      argv: ["nosuch"],
      endMs: RUN.startMs - 1,
      durationMs: 0.4,
      outcome: { kind: "not_started", code: 127, reason: "command not found" },
    });
    assert.equal(event.text, "nosuch could not start: command not found");
    assert.equal(event.end, RUN.startMs);
    assert.equal(event.labels["exit_code"], "127");
  });
});
