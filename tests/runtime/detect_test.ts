import { describe, it } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { detectRuntime } from "../../src/runtime/detect.ts";

describe("detectRuntime()", () => {
  it("detectRuntime() names the runtime running the tests", () => {
    const runtime = detectRuntime();
    const expected = process.versions.bun !== undefined ? "bun" : "deno";
    assert.equal(runtime.name, expected);
    assert.equal(typeof runtime.serve, "function");
    assert.equal(typeof runtime.listenUnixDatagram, "function");
  });

  it("detectRuntime() returns the same facade every time", () => {
    assert.equal(detectRuntime(), detectRuntime());
  });
});
