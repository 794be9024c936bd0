import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";
import * as v from "valibot";
import { exampleConfig } from "../../config/example.ts";
import { collectdUnixsock } from "./mod.ts";
import { CollectdUnixsockInput } from "./run.ts";

const readme = readFileSync(fileURLToPath(new URL("./README.md", import.meta.url).href), "utf8");

/** The README's ```toml blocks. */
function tomlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```toml\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? "");
}

describe("collectd_unixsock plugin", () => {
  it('collectdUnixsock is registered as type "collectd_unixsock" and creates a CollectdUnixsockInput', () => {
    assert.equal(collectdUnixsock.type, "collectd_unixsock");
    const input = collectdUnixsock.create(v.parse(collectdUnixsock.schema, { path: "/tmp/s" }), "u");
    assert.ok(input instanceof CollectdUnixsockInput);
    assert.equal(collectdUnixsock.resources, undefined);
  });

  it("the README's config block is the TOML rendering of example", () => {
    const blocks = tomlBlocks(readme);
    assert.equal(blocks.length, 1);
    const block = blocks[0]!;
    assert.deepEqual(parse(block), {
      inputs: { collectd_unixsock: { type: "collectd_unixsock", ...collectdUnixsock.example } },
    });
    assert.equal(
      block,
      exampleConfig("collectd_unixsock", { plugins: { collectd_unixsock: collectdUnixsock } }),
    );
  });
});
