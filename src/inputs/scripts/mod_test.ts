import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";
import * as v from "valibot";
import { exampleConfig } from "../../config/example.ts";
import { scripts } from "./mod.ts";
import { ScriptsInput } from "./run.ts";

const readme = readFileSync(fileURLToPath(new URL("./README.md", import.meta.url).href), "utf8");

/** The README's ```toml blocks. */
function tomlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```toml\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? "");
}

describe("scripts plugin", () => {
  it('scripts is registered as type "scripts" and creates a ScriptsInput', () => {
    assert.equal(scripts.type, "scripts");
    const input = scripts.create(v.parse(scripts.schema, { scripts: [{ command: "/bin/true" }] }), "scripts");
    assert.ok(input instanceof ScriptsInput);
  });

  it("the README's first config block is the TOML rendering of example", () => {
    const [block] = tomlBlocks(readme);
    assert.ok(block !== undefined);
    assert.deepEqual(parse(block), { inputs: { scripts: { type: "scripts", ...scripts.example } } });
    assert.equal(block, exampleConfig("scripts", { plugins: { scripts } }));
  });

  it("the README's [[…scripts]] block configures the same scripts as example", () => {
    const blocks = tomlBlocks(readme);
    assert.equal(blocks.length, 2);
    const document = parse(blocks[1]!) as { inputs: { scripts: Record<string, unknown> } };
    const { type, ...table } = document.inputs.scripts;
    assert.equal(type, "scripts");
    assert.deepEqual(v.parse(scripts.schema, table), v.parse(scripts.schema, scripts.example));
  });
});
