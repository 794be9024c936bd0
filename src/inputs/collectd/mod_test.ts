import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";
import * as v from "valibot";
import { exampleConfig } from "../../config/example.ts";
import { collectd } from "./mod.ts";
import { CollectdInput } from "./listen.ts";

const readme = readFileSync(fileURLToPath(new URL("./README.md", import.meta.url).href), "utf8");

/** The README's ```toml blocks. */
function tomlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```toml\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? "");
}

describe("collectd plugin", () => {
  it('collectd is registered as type "collectd" and creates a CollectdInput', () => {
    assert.equal(collectd.type, "collectd");
    const input = collectd.create(v.parse(collectd.schema, {}), "collectd");
    assert.ok(input instanceof CollectdInput);
  });

  it("resources() lists every address in canonical form", () => {
    const config = v.parse(collectd.schema, { listen: ["udp:[::1]:25826", "udp:127.0.0.1:25827"] });
    assert.deepEqual(collectd.resources?.(config), ["udp:[::1]:25826", "udp:127.0.0.1:25827"]);
  });

  it("the README's config block is the TOML rendering of example", () => {
    const blocks = tomlBlocks(readme);
    assert.equal(blocks.length, 1);
    const block = blocks[0]!;
    assert.deepEqual(parse(block), { inputs: { collectd: { type: "collectd", ...collectd.example } } });
    assert.equal(block, exampleConfig("collectd", { plugins: { collectd } }));
  });
});
