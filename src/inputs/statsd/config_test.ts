import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { example, schema } from "./config.ts";

const ADDRESS_EXPECTED = 'an address like "udp:HOST:PORT", "tcp:HOST:PORT" or "unix:PATH"';

function issuesOf(input: unknown): Array<{ path: string; message: string }> {
  const result = v.safeParse(schema, input);
  assert.equal(result.success, false);
  return (result.issues ?? []).map((issue) => ({
    path: (issue.path ?? []).map((item) => String(item.key)).join("."),
    message: issue.message,
  }));
}

describe("statsd config schema", () => {
  it("schema fills the defaults: udp on loopback 8125, 8 MiB buffer, no warm-up, 64 KiB lines, 256 connections", () => {
    assert.deepEqual(v.parse(schema, {}), {
      listen: ["udp:127.0.0.1:8125"],
      read_buffer: 8 * 1024 * 1024,
      udp_receive: "auto",
      warm_up: false,
      max_line_length: 65536,
      max_tcp_connections: 256,
    });
  });

  it("schema parses the example, sizes into bytes", () => {
    assert.deepEqual(v.parse(schema, example), {
      listen: ["udp:127.0.0.1:8125", "tcp:127.0.0.1:8125", "unix:/run/tally/statsd.sock"],
      read_buffer: 8388608,
      udp_receive: "auto",
      warm_up: false,
      max_line_length: 65536,
      max_tcp_connections: 256,
    });
  });

  it("schema takes warm_up as a boolean and names what it expected otherwise", () => {
    assert.equal(v.parse(schema, { warm_up: true }).warm_up, true);
    assert.deepEqual(issuesOf({ warm_up: "yes" }), [{ path: "warm_up", message: "true or false" }]);
  });

  it("schema keeps addresses as canonical text and accepts bracketed IPv6", () => {
    const config = v.parse(schema, { listen: ["udp:[::1]:8125", "tcp:0.0.0.0:9125", "unix:/tmp/s.sock"] });
    assert.deepEqual(config.listen, ["udp:[::1]:8125", "tcp:0.0.0.0:9125", "unix:/tmp/s.sock"]);
  });

  it("schema rejects a bad address with the expected forms, at its index", () => {
    assert.deepEqual(issuesOf({ listen: ["udp:127.0.0.1:8125", "localhost:8125"] }), [
      { path: "listen.1", message: ADDRESS_EXPECTED },
    ]);
    assert.deepEqual(issuesOf({ listen: ["udp:127.0.0.1:99999"] }), [{
      path: "listen.0",
      message: ADDRESS_EXPECTED,
    }]);
    assert.deepEqual(issuesOf({ listen: "udp:127.0.0.1:8125" }), [
      { path: "listen", message: "an array of addresses" },
    ]);
  });

  it("schema rejects an empty listen list, bad sizes and connection counts, and unknown keys", () => {
    assert.equal(issuesOf({ listen: [] })[0]?.path, "listen");
    assert.equal(issuesOf({ read_buffer: "8MB" })[0]?.path, "read_buffer");
    assert.equal(issuesOf({ read_buffer: -1 })[0]?.path, "read_buffer");
    assert.equal(issuesOf({ max_line_length: 8 })[0]?.path, "max_line_length");
    assert.deepEqual(issuesOf({ max_tcp_connections: 0 }), [
      { path: "max_tcp_connections", message: "an integer from 1 to 65536" },
    ]);
    assert.equal(issuesOf({ max_tcp_connections: 2.5 })[0]?.path, "max_tcp_connections");
    assert.equal(issuesOf({ listen_on: ["udp:127.0.0.1:8125"] })[0]?.path, "listen_on");
  });

  it("schema takes read_buffer = 0 to keep the system default, and integers of bytes", () => {
    assert.equal(v.parse(schema, { read_buffer: 0 }).read_buffer, 0);
    assert.equal(v.parse(schema, { read_buffer: 1048576, max_line_length: 100 }).max_line_length, 100);
  });
});
