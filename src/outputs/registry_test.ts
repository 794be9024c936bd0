import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";
import * as v from "valibot";
import { exampleConfig } from "../config/example.ts";
import { loadConfig } from "../config/load.ts";
import { resolveConfig } from "../config/resolve.ts";
import { INPUTS } from "../inputs/registry.ts";
import type { OutputPlugin } from "./output.ts";
import { OUTPUTS } from "./registry.ts";

/** The README's ```toml blocks. */
function tomlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```toml\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? "");
}

describe("OUTPUTS (the contract every output folder keeps)", () => {
  for (const [key, registered] of Object.entries(OUTPUTS)) {
    const plugin = registered as OutputPlugin;
    const readmePath = fileURLToPath(new URL(`./${key}/README.md`, import.meta.url).href);

    it(`${key}: is registered under its own type`, () => {
      assert.equal(plugin.type, key);
    });

    it(`${key}: its README's first config block is the TOML rendering of example`, () => {
      assert.ok(existsSync(readmePath), `${readmePath} exists`);
      const [block] = tomlBlocks(readFileSync(readmePath, "utf8"));
      assert.ok(block !== undefined, "the README has a ```toml block");
      assert.equal(block, exampleConfig(key, { plugins: {}, outputs: OUTPUTS }));
      assert.deepEqual(parse(block), { outputs: { [key]: { type: key, ...(plugin.example as object) } } });
    });

    it(`${key}: its example validates and creates an output without touching the network`, () => {
      const config = v.parse(plugin.schema, plugin.example);
      const output = plugin.create(config, "contract");
      for (const method of ["start", "write", "problem", "stop"] as const) {
        assert.equal(typeof output[method], "function", method);
      }
      assert.equal(output.problem(), undefined);
    });
  }

  it("no output runs unless the config lists one", () => {
    const config = loadConfig(undefined, { plugins: INPUTS, outputs: OUTPUTS });
    assert.deepEqual(config.outputs, {});
  });

  it("an [outputs] table is checked against the output registry, naming the key path", () => {
    const document = { outputs: { vm: { type: "remote_write", url: "ftp://nowhere" } } };
    assert.throws(() => resolveConfig(document, { plugins: INPUTS, outputs: OUTPUTS, file: "tally.toml" }), {
      message: 'Invalid config "tally.toml" at outputs.vm.url: expected an http:// or https:// URL like ' +
        '"http://127.0.0.1:8428/api/v1/write", found "ftp://nowhere"',
    });
    assert.throws(
      () =>
        resolveConfig({ outputs: { vm: { type: "carrier_pigeon" } } }, { plugins: INPUTS, outputs: OUTPUTS }),
      {
        message:
          /at outputs\.vm\.type: expected one of "remote_write", "otlp" or "influx", found "carrier_pigeon"/,
      },
    );
  });
});
