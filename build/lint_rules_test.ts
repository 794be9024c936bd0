import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";

const ROOT = fileURLToPath(new URL("..", import.meta.url).href);
const PLUGIN = join(ROOT, "build", "lint_rules.ts");
const DENO = join(ROOT, "node_modules", ".bin", "deno");

const VIOLATIONS = `export class Counter {
  private count = 0;
  private bump(): void {}
  constructor(private readonly name: string, readonly privateish: number) {}
  #fine = 1;
}
export const handler = () => 1;
export const older = function () { return 2; };
const local = (x: number) => x + 1;
const reexported = () => local(3);
export { reexported };
const WORD = /\\w+/;
export const lower = new RegExp("a");
const GOOD_REGEXP = /ok/;
export const NOT_A_REGEXP_VALUE = "x";
export default Counter;
`;

const CLEAN = `const NAME_REGEXP = /^[a-z]+$/;
/** A resource. */
export class Store {
  #rows = 0;
  /** Adds a row. */
  add(): number {
    const local = /x/;
    return local.test("x") ? ++this.#rows : this.#rows;
  }
}
/** Checks a name. */
export function isName(name: string): boolean {
  const check = (value: string) => NAME_REGEXP.test(value);
  return check(name);
}
`;

interface Finding {
  readonly code: string;
  readonly line: number;
}

const dirs: string[] = [];

function lint(source: string): readonly Finding[] {
  const dir = mkdtempSync(join(tmpdir(), "tally-lint-"));
  dirs.push(dir);
  // Only the plugin's rules: the recommended set is switched off so findings are ours alone.
  writeFileSync(
    join(dir, "deno.json"),
    JSON.stringify({ lint: { plugins: [pathToFileURL(PLUGIN).href], rules: { tags: [] } } }),
  );
  writeFileSync(join(dir, "fixture.ts"), source);
  const result = spawnSync(DENO, ["lint", "--json", "fixture.ts"], {
    cwd: dir,
    encoding: "utf8",
    timeout: 60_000,
  });
  const report = JSON.parse(result.stdout) as {
    diagnostics: { code: string; range: { start: { line: number } } }[];
    errors: unknown[];
  };
  assert.deepEqual(report.errors, []);
  return report.diagnostics.map((d) => ({ code: d.code, line: d.range.start.line }));
}

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("lint_rules.ts", () => {
  const findings = lint(VIOLATIONS);
  const lines = (code: string): number[] => findings.filter((f) => f.code === code).map((f) => f.line);

  it("tally/no-private-keyword flags private fields, methods and parameter properties", () => {
    assert.deepEqual(lines("tally/no-private-keyword"), [2, 3, 4]);
  });

  it("tally/function-declaration flags exported const functions, inline or through export { }", () => {
    assert.deepEqual(lines("tally/function-declaration"), [7, 8, 10]);
  });

  it("tally/regexp-suffix flags module-level RegExp constants without _REGEXP", () => {
    assert.deepEqual(lines("tally/regexp-suffix"), [12, 13]);
  });

  it("tally/no-default-export flags export default", () => {
    assert.deepEqual(lines("tally/no-default-export"), [16]);
  });

  it("lint_rules.ts finds nothing in code that follows the house style", () => {
    assert.deepEqual(lint(CLEAN), []);
  });

  it("tally/no-default-export flags export { x as default }", () => {
    assert.deepEqual(lint("function f(): void {}\nexport { f as default };\n"), [
      { code: "tally/no-default-export", line: 2 },
    ]);
  });
});
