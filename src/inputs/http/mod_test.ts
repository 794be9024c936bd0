import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";
import * as v from "valibot";
import { exampleConfig } from "../../config/example.ts";
import { HttpInput } from "./listen.ts";
import { http } from "./mod.ts";

const readme = readFileSync(fileURLToPath(new URL("./README.md", import.meta.url).href), "utf8");

/** The README's ```toml blocks. */
function tomlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```toml\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? "");
}

describe("http plugin", () => {
  it('http is registered as type "http", on by default, and creates an HttpInput', () => {
    assert.equal(http.type, "http");
    assert.deepEqual(http.defaultConfig, {});
    assert.ok(http.create(v.parse(http.schema, {}), "http") instanceof HttpInput);
    assert.equal(http.resources, undefined, "it binds nothing of its own: the [http] listener is shared");
  });

  it("the README's config block is the TOML rendering of example", () => {
    const blocks = tomlBlocks(readme);
    assert.equal(blocks.length, 1);
    const block = blocks[0]!;
    assert.deepEqual(parse(block), { inputs: { http: { type: "http", ...http.example } } });
    assert.equal(block, exampleConfig("http", { plugins: { http } }));
  });
});
