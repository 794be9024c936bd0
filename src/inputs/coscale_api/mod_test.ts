import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";
import * as v from "valibot";
import { exampleConfig } from "../../config/example.ts";
import { resolveConfig } from "../../config/resolve.ts";
import { INPUTS } from "../registry.ts";
import { example, schema } from "./config.ts";
import { CoscaleApiInput } from "./listen.ts";
import { coscaleApi } from "./mod.ts";

const readme = readFileSync(fileURLToPath(new URL("./README.md", import.meta.url).href), "utf8");

/** The README's ```toml blocks. */
function tomlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```toml\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? "");
}

describe("coscale_api plugin", () => {
  it('coscale_api is registered as type "coscale_api", on by default, and creates a CoscaleApiInput', () => {
    assert.equal(coscaleApi.type, "coscale_api");
    assert.equal(INPUTS.coscale_api, coscaleApi);
    assert.deepEqual(coscaleApi.defaultConfig, {});
    assert.ok(coscaleApi.create(v.parse(coscaleApi.schema, {}), "coscale_api") instanceof CoscaleApiInput);
    assert.deepEqual(resolveConfig({}, { plugins: INPUTS }).inputs["coscale_api"], {
      type: "coscale_api",
      max_data: 10 * 1024 * 1024,
      ack_wait: 5000,
    });
  });

  it("the README's config block is the TOML rendering of example", () => {
    const blocks = tomlBlocks(readme);
    assert.equal(blocks.length, 1);
    const block = blocks[0]!;
    assert.deepEqual(parse(block), {
      inputs: { coscale_api: { type: "coscale_api", ...coscaleApi.example } },
    });
    assert.equal(block, exampleConfig("coscale_api", { plugins: { coscale_api: coscaleApi } }));
  });

  it("schema bounds max_data and refuses an unknown key, naming the path", () => {
    assert.deepEqual(v.parse(schema, example), { max_data: 10 * 1024 * 1024, ack_wait: 5000 });
    assert.throws(
      () => resolveConfig({ inputs: { c: { type: "coscale_api", max_data: "1GiB" } } }, { plugins: INPUTS }),
      /Invalid config at inputs\.c\.max_data: expected a size .*, found "1GiB"$/,
    );
    assert.throws(
      () => resolveConfig({ inputs: { c: { type: "coscale_api", token: "x" } } }, { plugins: INPUTS }),
      /inputs\.c\.token: expected one of .*found the unknown key "token"/,
    );
  });

  it("CoscaleApiInput.start() refuses a collector without endpoint, inbox or store, and a second start", async () => {
    const input = new CoscaleApiInput(v.parse(schema, {}), "c");
    const ctx = { emit: () => true, signal: new AbortController().signal } as unknown as Parameters<
      CoscaleApiInput["start"]
    >[0];
    await assert.rejects(input.start(ctx), /Cannot start coscale_api input "c": the collector gives it no/);
  });
});
