/**
 * Counts passed, failed and skipped tests in the JUnit XML that `bun test --reporter=junit` and
 * `deno test --junit-path` write, and, as a fallback when a runner wrote no report, in their console
 * summaries.
 *
 * @module
 */

/** Test counts of one run. */
export interface TestCounts {
  /** Tests that passed. */
  readonly passed: number;
  /** Tests that failed (a failure or an error). */
  readonly failed: number;
  /** Tests skipped or left to do. */
  readonly skipped: number;
}

/** Options for {@link countJunit}. */
export interface CountJunitOptions {
  /**
   * Counts only leaf test cases. Deno reports a `describe` block and each `it` inside it as test cases of
   * their own (`"parse"`, `"parse > applies rate"`); Bun reports `describe` blocks as suites. With this set,
   * a case whose name prefixes another case's name followed by `" > "` is a group, not a test.
   */
  readonly leavesOnly?: boolean;
}

const TESTCASE_REGEXP = /<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g;
const NAME_ATTRIBUTE_REGEXP = /\bname="([^"]*)"/;
const FAILURE_REGEXP = /<(?:failure|error)\b/;
const SKIPPED_REGEXP = /<skipped\b/;
const BUN_PASS_REGEXP = /^\s*(\d+) pass\s*$/m;
const BUN_FAIL_REGEXP = /^\s*(\d+) fail\s*$/m;
const BUN_SKIP_REGEXP = /^\s*(\d+) (?:skip|todo)\s*$/gm;
// deno test's closing line: `ok | 12 passed (30 steps) | 0 failed | 1 ignored (2ms)` (colours stripped first).
const DENO_SUMMARY_REGEXP =
  /^(?:ok|FAILED) \| (\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed(?: \((\d+) steps?\))?(?: \| (\d+) ignored)?/m;
// deno colours its output even into a pipe; the escape character is the point of this pattern.
// deno-lint-ignore no-control-regex
const ANSI_REGEXP = /\u001b\[[0-9;]*m/g;

/** No tests at all. */
export const NO_TESTS: TestCounts = { passed: 0, failed: 0, skipped: 0 };

/**
 * Counts the test cases of a JUnit XML report.
 *
 * @param xml The report.
 * @param options Whether to count only leaf cases (for Deno's nested steps).
 * @returns The counts.
 */
export function countJunit(xml: string, options: CountJunitOptions = {}): TestCounts {
  const cases: { readonly name: string; readonly body: string }[] = [];
  for (const match of xml.matchAll(TESTCASE_REGEXP)) {
    const attributes = match[1] ?? "";
    cases.push({ name: NAME_ATTRIBUTE_REGEXP.exec(attributes)?.[1] ?? "", body: match[2] ?? "" });
  }
  const groups = new Set<string>();
  if (options.leavesOnly === true) {
    for (const testCase of cases) {
      const parts = testCase.name.split(" &gt; ");
      for (let i = 1; i < parts.length; i++) groups.add(parts.slice(0, i).join(" &gt; "));
    }
  }
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const testCase of cases) {
    if (groups.has(testCase.name)) continue;
    if (FAILURE_REGEXP.test(testCase.body)) failed++;
    else if (SKIPPED_REGEXP.test(testCase.body)) skipped++;
    else passed++;
  }
  return { passed, failed, skipped };
}

/**
 * Reads bun test's closing summary (` 12 pass`, ` 1 fail`, ` 2 skip`).
 *
 * @param output What bun test printed.
 * @returns The counts, or `undefined` when there is no summary.
 */
export function countBunSummary(output: string): TestCounts | undefined {
  const pass = BUN_PASS_REGEXP.exec(output);
  const fail = BUN_FAIL_REGEXP.exec(output);
  if (pass === null && fail === null) return undefined;
  let skipped = 0;
  for (const match of output.matchAll(BUN_SKIP_REGEXP)) skipped += Number(match[1]);
  return { passed: Number(pass?.[1] ?? 0), failed: Number(fail?.[1] ?? 0), skipped };
}

/**
 * Reads deno test's closing line (`ok | 2 passed (9 steps) | 0 failed`). Steps count as tests, since
 * `it` blocks inside a `describe` are steps; the `describe` blocks themselves are then not counted.
 *
 * @param output What deno test printed.
 * @returns The counts, or `undefined` when there is no summary.
 */
export function countDenoSummary(output: string): TestCounts | undefined {
  const match = DENO_SUMMARY_REGEXP.exec(output.replace(ANSI_REGEXP, ""));
  if (match === null) return undefined;
  const passed = match[2] === undefined ? Number(match[1]) : Number(match[2]);
  const failed = match[4] === undefined ? Number(match[3]) : Number(match[4]);
  return { passed, failed, skipped: Number(match[5] ?? 0) };
}

/**
 * Adds counts.
 *
 * @param a One set of counts.
 * @param b The other.
 * @returns Their sum.
 */
export function addCounts(a: TestCounts, b: TestCounts): TestCounts {
  return { passed: a.passed + b.passed, failed: a.failed + b.failed, skipped: a.skipped + b.skipped };
}
