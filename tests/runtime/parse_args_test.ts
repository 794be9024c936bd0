import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseArgs } from "node:util";

describe("node:util parseArgs", () => {
  it("parseArgs() reads repeated strings, booleans, short flags and positionals", () => {
    const { values, positionals } = parseArgs({
      args: [
        "run",
        "--statsd",
        "udp:127.0.0.1:8125",
        "--statsd=unix:/tmp/s.sock",
        "-c",
        "tally.toml",
        "--insecure",
        "--",
        "-x",
      ],
      options: {
        statsd: { type: "string", multiple: true },
        config: { type: "string", short: "c" },
        insecure: { type: "boolean" },
        workers: { type: "string", default: "1" },
      },
      allowPositionals: true,
    });
    assert.deepEqual(values.statsd, ["udp:127.0.0.1:8125", "unix:/tmp/s.sock"]);
    assert.equal(values.config, "tally.toml");
    assert.equal(values.insecure, true);
    assert.equal(values.workers, "1");
    assert.deepEqual(positionals, ["run", "-x"]);
  });

  it("parseArgs() rejects an unknown option in strict mode", () => {
    assert.throws(() => parseArgs({ args: ["--nope"], options: {} }), {
      code: "ERR_PARSE_ARGS_UNKNOWN_OPTION",
    });
  });
});
