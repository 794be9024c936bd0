import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { addCounts, countBunSummary, countDenoSummary, countJunit } from "./junit_counts.ts";

// Trimmed from `bun test --reporter=junit` over a describe with a pass, a failure, a skip and a nested
// describe, plus one top-level test.
const BUN_JUNIT = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="bun test" tests="5" assertions="0" failures="1" skipped="1" time="0.02">
  <testsuite name="a_test.ts" file="a_test.ts" tests="5" failures="1" skipped="1">
    <testsuite name="grp" file="a_test.ts" line="3" tests="4" failures="1" skipped="1">
      <testcase name="passes" classname="grp" time="0.0007" file="a_test.ts" line="4" assertions="0" />
      <testcase name="fails" classname="grp" time="0.001" file="a_test.ts" line="5" assertions="0">
        <failure type="AssertionError" message="1 !== 2">AssertionError: 1 !== 2</failure>
      </testcase>
      <testcase name="skipped" classname="grp" time="0" file="a_test.ts" line="6" assertions="0">
        <skipped />
      </testcase>
      <testsuite name="inner" file="a_test.ts" line="7" tests="1" failures="0" skipped="0">
        <testcase name="deep" classname="inner &gt; grp" time="0.00003" file="a_test.ts" line="7" assertions="0" />
      </testsuite>
    </testsuite>
    <testcase name="top" classname="" time="0.00002" file="a_test.ts" line="9" assertions="0" />
  </testsuite>
</testsuites>
`;

// The same file under `deno test --junit-path`: describe blocks are test cases, their its are steps.
const DENO_JUNIT = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="deno test" tests="7" failures="2" errors="0" time="0.012">
    <testsuite name="./a_test.ts" tests="2" disabled="0" errors="0" failures="1">
        <testcase name="grp" classname="./a_test.ts" time="0.006" line="3" col="1">
            <failure message="1 test step failed">1 test step failed.</failure>
        </testcase>
        <testcase name="top" classname="./a_test.ts" time="0.000" line="9" col="1">
        </testcase>
    </testsuite>
    <testsuite name="ext:deno_node/testing.ts" tests="5" disabled="1" errors="0" failures="1">
        <testcase name="grp &gt; passes" classname="ext:deno_node/testing.ts" time="0.000" line="1" col="1">
        </testcase>
        <testcase name="grp &gt; fails" classname="ext:deno_node/testing.ts" time="0.002" line="1" col="1">
            <failure message="Uncaught AssertionError">AssertionError: 1 !== 2</failure>
        </testcase>
        <testcase name="grp &gt; skipped" classname="ext:deno_node/testing.ts" time="0.000" line="1" col="1">
            <skipped/>
        </testcase>
        <testcase name="grp &gt; inner" classname="ext:deno_node/testing.ts" time="0.001" line="1" col="1">
        </testcase>
        <testcase name="grp &gt; inner &gt; deep" classname="ext:deno_node/testing.ts" time="0.001" line="1" col="1">
        </testcase>
    </testsuite>
</testsuites>
`;

describe("countJunit()", () => {
  it("countJunit() counts bun's test cases, with failures and skips", () => {
    assert.deepEqual(countJunit(BUN_JUNIT), { passed: 3, failed: 1, skipped: 1 });
  });

  it("countJunit() counts only deno's leaf steps with leavesOnly", () => {
    assert.deepEqual(countJunit(DENO_JUNIT, { leavesOnly: true }), { passed: 3, failed: 1, skipped: 1 });
  });

  it("countJunit() counts describe blocks too without leavesOnly", () => {
    assert.deepEqual(countJunit(DENO_JUNIT), { passed: 4, failed: 2, skipped: 1 });
  });

  it("countJunit() counts an <error> as a failure and finds nothing in an empty report", () => {
    assert.deepEqual(countJunit('<testcase name="x"><error message="boom"/></testcase>'), {
      passed: 0,
      failed: 1,
      skipped: 0,
    });
    assert.deepEqual(countJunit('<testsuites name="bun test" tests="0"></testsuites>'), {
      passed: 0,
      failed: 0,
      skipped: 0,
    });
  });
});

describe("console summaries", () => {
  it("countBunSummary() reads the pass, fail and skip lines", () => {
    const output = "(pass) a\n\n 155 pass\n 2 skip\n 1 todo\n 3 fail\nRan 161 tests across 8 files. [1.2s]\n";
    assert.deepEqual(countBunSummary(output), { passed: 155, failed: 3, skipped: 3 });
    assert.equal(countBunSummary("error: could not load\n"), undefined);
  });

  it("countDenoSummary() reads the closing line, colours and steps included", () => {
    const colored =
      "\u001b[0m\u001b[32mok\u001b[0m | 8 passed (20 steps) | 0 failed \u001b[0m\u001b[38;5;245m(1s)\u001b[0m\n";
    assert.deepEqual(countDenoSummary(colored), { passed: 20, failed: 0, skipped: 0 });
    assert.deepEqual(countDenoSummary("FAILED | 3 passed | 2 failed | 1 ignored (5ms)\n"), {
      passed: 3,
      failed: 2,
      skipped: 1,
    });
    assert.equal(countDenoSummary("error: Module not found\n"), undefined);
  });

  it("addCounts() adds each field", () => {
    assert.deepEqual(
      addCounts({ passed: 1, failed: 2, skipped: 3 }, { passed: 10, failed: 20, skipped: 30 }),
      {
        passed: 11,
        failed: 22,
        skipped: 33,
      },
    );
  });
});
