import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import type { InputPlugin } from "../inputs/input.ts";
import { configSchema } from "./schema.ts";

function plugin(type: string, schema: v.GenericSchema): InputPlugin {
  return {
    type,
    schema,
    example: {},
    create: () => {
      throw new Error("Not used in these tests");
    },
  };
}

describe("configSchema()", () => {
  it("builds one strict variant option per plugin, keyed by type", () => {
    const schema = configSchema({
      ping: plugin("ping", v.object({ host: v.optional(v.string(), "localhost") })),
    });
    const output = v.parse(schema, { inputs: { a: { type: "ping" }, b: { type: "ping", host: "h" } } });
    assert.deepEqual(output.inputs, {
      a: { type: "ping", host: "localhost" },
      b: { type: "ping", host: "h" },
    });
    // The plugin wrote a loose v.object; the assembled option is strict all the same.
    assert.equal(v.safeParse(schema, { inputs: { a: { type: "ping", hots: "h" } } }).success, false);
  });

  it("returns the same schema for the same registry", () => {
    const registry = { ping: plugin("ping", v.object({})) };
    assert.equal(configSchema(registry), configSchema(registry));
  });

  it("refuses a registry key that differs from the plugin type", () => {
    assert.throws(
      () => configSchema({ pong: plugin("ping", v.object({})) }),
      { name: "TypeError", message: 'Input registry key "pong" differs from its plugin type "ping"' },
    );
  });

  it("refuses a plugin schema that is not an object", () => {
    assert.throws(
      () => configSchema({ ping: plugin("ping", v.string()) }),
      {
        name: "TypeError",
        message: 'Input plugin "ping" has a config schema of type "string", not an object',
      },
    );
  });
});
