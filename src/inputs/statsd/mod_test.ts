import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";
import * as v from "valibot";
import { exampleConfig } from "../../config/example.ts";
import { statsd } from "./mod.ts";
import { StatsdInput } from "./listen.ts";

const readme = readFileSync(fileURLToPath(new URL("./README.md", import.meta.url).href), "utf8");

/** The README's ```toml blocks. */
function tomlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```toml\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? "");
}

describe("statsd plugin", () => {
  it('statsd is registered as type "statsd" and creates a StatsdInput', () => {
    assert.equal(statsd.type, "statsd");
    const input = statsd.create(v.parse(statsd.schema, {}), "statsd");
    assert.ok(input instanceof StatsdInput);
  });

  it("resources() lists every address in canonical form", () => {
    const config = v.parse(statsd.schema, {
      listen: ["udp:[::1]:8125", "tcp:127.0.0.1:8125", "unix:/tmp/s"],
    });
    assert.deepEqual(statsd.resources?.(config), ["udp:[::1]:8125", "tcp:127.0.0.1:8125", "unix:/tmp/s"]);
  });

  it("the README's config block is the TOML rendering of example", () => {
    const blocks = tomlBlocks(readme);
    assert.equal(blocks.length, 1);
    const block = blocks[0]!;
    assert.deepEqual(parse(block), { inputs: { statsd: { type: "statsd", ...statsd.example } } });
    assert.equal(block, exampleConfig("statsd", { plugins: { statsd } }));
  });
});
