import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { parse } from "smol-toml";
import type { InputPlugin } from "../inputs/input.ts";
import { INPUTS } from "../inputs/registry.ts";
import { exampleConfig } from "./example.ts";
import { loadConfig } from "./load.ts";

const dir = mkdtempSync(join(tmpdir(), "tally-example-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The keys and table headers that are not directly preceded by a `##` comment. */
function uncommented(toml: string): string[] {
  const lines = toml.split("\n");
  return lines.filter((line, i) =>
    /^(\[|[A-Za-z0-9_"-]+ = )/.test(line) && !(lines[i - 1] ?? "").startsWith("## ")
  );
}

describe("exampleConfig()", () => {
  it("loads back through loadConfig() with the embedded defaults for the global tables", () => {
    const path = join(dir, "example.toml");
    writeFileSync(path, exampleConfig(undefined, { plugins: INPUTS }));
    const loaded = loadConfig(path, { plugins: INPUTS });
    const defaults = loadConfig(undefined, { plugins: INPUTS });
    assert.deepEqual(
      { ...loaded, inputs: undefined },
      { ...defaults, inputs: undefined },
    );
    assert.deepEqual(Object.keys(loaded.inputs), Object.keys(INPUTS));
  });

  it("comments every table and key", () => {
    const text = exampleConfig(undefined, { plugins: INPUTS });
    assert.deepEqual(uncommented(text), []);
    for (const table of ["agent", "aggregation", "http", "store"]) {
      assert.ok(text.includes(`\n[${table}]\n`), table);
    }
  });

  it("shows every key of every global table", () => {
    const document = parse(exampleConfig(undefined, { plugins: INPUTS })) as Record<
      string,
      Record<string, unknown>
    >;
    assert.deepEqual(Object.keys(document["agent"] ?? {}), [
      "data_dir",
      "flush_interval",
      "workers",
      "log_level",
      "ring_size",
      "when_full",
    ]);
    assert.deepEqual(Object.keys(document["aggregation"] ?? {}), [
      "percentiles",
      "exact_limit",
      "max_series",
      "series_idle",
    ]);
    assert.deepEqual(Object.keys(document["http"] ?? {}), ["listen", "token", "insecure", "max_body"]);
    assert.deepEqual(Object.keys(document["store"] ?? {}), ["retention", "max_size"]);
  });

  it("prints only one plugin's table when asked, and that alone is a valid config", () => {
    const text = exampleConfig("statsd", { plugins: INPUTS });
    assert.deepEqual(text.split("\n").filter((l) => l.startsWith("[")), ["[inputs.statsd]"]);
    assert.deepEqual(uncommented(text), []);
    const path = join(dir, "statsd.toml");
    writeFileSync(path, text);
    const loaded = loadConfig(path, { plugins: INPUTS });
    assert.deepEqual(Object.keys(loaded.inputs), ["statsd"]);
    assert.equal(loaded.inputs["statsd"]?.type, "statsd");
  });

  it("refuses an unknown plugin", () => {
    assert.throws(() => exampleConfig("nope", { plugins: INPUTS }), {
      name: "RangeError",
      message: `Unknown plugin "nope"; known inputs: ${Object.keys(INPUTS).map((t) => `"${t}"`).join(", ")}`,
    });
    assert.throws(() => exampleConfig("toString", { plugins: INPUTS }), { name: "RangeError" });
  });

  it("renders a plugin's example and descriptions in TOML", () => {
    const schema = v.object({
      targets: v.pipe(v.array(v.string()), v.description("The targets to ping.")),
      labels: v.optional(v.record(v.string(), v.string()), {}),
      "odd key": v.optional(v.boolean(), true),
    });
    const ping: InputPlugin<typeof schema> = {
      type: "ping",
      schema: v.pipe(schema, v.description("Pings hosts.")) as unknown as typeof schema,
      example: { targets: ["a", 'b"c'], labels: { site: "x" } },
      create: () => {
        throw new Error("Not used in this test");
      },
    };
    const text = exampleConfig("ping", { plugins: { ping } });
    assert.equal(
      text,
      [
        "## Pings hosts.",
        "[inputs.ping]",
        "## The input plugin.",
        'type = "ping"',
        "## The targets to ping.",
        'targets = ["a", "b\\"c"]',
        "## The labels setting.",
        'labels = { site = "x" }',
        "## The odd key setting.",
        '"odd key" = true',
        "",
      ].join("\n"),
    );
    assert.deepEqual(parse(text), {
      inputs: { ping: { type: "ping", targets: ["a", 'b"c'], labels: { site: "x" }, "odd key": true } },
    });
  });
});
