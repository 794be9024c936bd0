import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { duration, hostPort, httpUrl, listenAddress, size } from "./fields.ts";

function messages(schema: v.GenericSchema, input: unknown): string[] {
  const result = v.safeParse(schema, input);
  return result.success ? [] : result.issues.map((i) => i.message);
}

describe("duration()", () => {
  it("converts to milliseconds", () => {
    assert.equal(v.parse(duration(), "2m"), 120_000);
  });

  it("says what it expected for text and for other types", () => {
    assert.deepEqual(messages(duration(), "2 minutes"), [
      'a duration like "500ms", "10s", "5m", "1h" or "7d"',
    ]);
    assert.deepEqual(messages(duration(), 10), ['a duration like "500ms", "10s", "5m", "1h" or "7d"']);
  });

  it("enforces bounds in the config's own units", () => {
    assert.deepEqual(messages(duration({ min: 1000 }), "10ms"), ['a duration of at least "1s"']);
    assert.deepEqual(messages(duration({ min: 100, max: 3_600_000 }), "2h"), [
      'a duration from "100ms" to "1h"',
    ]);
  });
});

describe("size()", () => {
  it("converts text and integers to bytes", () => {
    assert.equal(v.parse(size(), "1MiB"), 1_048_576);
    assert.equal(v.parse(size(), 4096), 4096);
  });

  it("says what it expected", () => {
    const expected = 'a size like "512KiB", "4MiB", "1GiB" or an integer of bytes';
    assert.deepEqual(messages(size(), "1MB"), [expected]);
    assert.deepEqual(messages(size(), true), [expected]);
    assert.deepEqual(messages(size({ max: 1024 }), "2KiB"), ['a size of at most "1KiB"']);
  });
});

describe("listenAddress()", () => {
  it("canonicalises the address text", () => {
    assert.equal(v.parse(listenAddress(), "udp:[::1]:8125"), "udp:[::1]:8125");
    assert.equal(v.parse(listenAddress(), "unix:/run/tally.sock"), "unix:/run/tally.sock");
  });

  it("refuses transports the component does not support", () => {
    assert.deepEqual(messages(listenAddress(["udp", "tcp"]), "unix:/tmp/x"), [
      'an address like "udp:HOST:PORT" or "tcp:HOST:PORT"',
    ]);
    assert.deepEqual(messages(listenAddress(), "udp:host:99999"), [
      'an address like "udp:HOST:PORT", "tcp:HOST:PORT" or "unix:PATH"',
    ]);
  });
});

describe("hostPort()", () => {
  it("converts to the options of Runtime.serve", () => {
    assert.deepEqual(v.parse(hostPort(), "0.0.0.0:8127"), { hostname: "0.0.0.0", port: 8127 });
    assert.deepEqual(v.parse(hostPort(), "[::1]:0"), { hostname: "::1", port: 0 });
  });

  it("refuses an address without a port", () => {
    assert.deepEqual(messages(hostPort(), "localhost"), ['an address like "HOST:PORT"']);
  });
});

describe("httpUrl()", () => {
  it("keeps an http or https URL in canonical form", () => {
    assert.equal(
      v.parse(httpUrl(), "http://127.0.0.1:8428/api/v1/write"),
      "http://127.0.0.1:8428/api/v1/write",
    );
    assert.equal(v.parse(httpUrl(), "HTTPS://Example.COM"), "https://example.com/");
  });

  it("refuses other schemes and text that is no URL", () => {
    const expected = ['an http:// or https:// URL like "http://127.0.0.1:8428/api/v1/write"'];
    assert.deepEqual(messages(httpUrl(), "ftp://example.com/"), expected);
    assert.deepEqual(messages(httpUrl(), "127.0.0.1:8428"), expected);
    assert.deepEqual(messages(httpUrl(), "not a url"), expected);
  });
});
