import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { foregroundOfTerminal } from "./_terminal_foreground.ts";

/** A /proc/PID/stat line with the fields that matter set, the rest as a real one has them. */
function stat(comm: string, pgrp: number, ttyNr: number, tpgid: number): string {
  return `4242 (${comm}) S 4200 ${pgrp} 4200 ${ttyNr} ${tpgid} 4194560 120 0 0 0 1 0 0 0 20 0 1 0 123 1000 200`;
}

describe("foregroundOfTerminal()", () => {
  it("foregroundOfTerminal() is true in the terminal's foreground group", () => {
    assert.equal(foregroundOfTerminal(stat("tally", 4242, 34816, 4242)), true);
  });

  it("foregroundOfTerminal() is false in a background group and without a terminal", () => {
    assert.equal(foregroundOfTerminal(stat("tally", 4242, 34816, 5000)), false);
    assert.equal(foregroundOfTerminal(stat("tally", 4242, 0, -1)), false);
  });

  it("foregroundOfTerminal() reads past a command name with spaces and parentheses", () => {
    assert.equal(foregroundOfTerminal(stat("my (odd) name", 7, 34817, 7)), true);
  });

  it("foregroundOfTerminal() is undefined for a line it cannot read", () => {
    assert.equal(foregroundOfTerminal("garbage"), undefined);
  });
});
