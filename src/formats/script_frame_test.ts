import { describe, it } from "node:test";
import assert from "node:assert/strict";

import {
  encodeScriptFrame,
  hasScriptFrameHeader,
  readScriptFrameHeader,
  SCRIPT_FRAME_PREFIX,
  scriptFrameLabels,
} from "./script_frame.ts";
import type { ScriptFrameHeader } from "./script_frame.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe("encodeScriptFrame()", () => {
  it("encodeScriptFrame() writes the header as one JSON line starting with the prefix, then stdout as is", () => {
    const header: ScriptFrameHeader = {
      runMs: 1_700_000_000_000,
      exitCode: 2,
      labels: { env: "prod\nline" },
      script: 'disk "check"',
      definitions: { metrics: [], events: [], periodS: 60 },
    };
    const stdout = new Uint8Array([0x4d, 0x31, 0x20, 0x31, 0x0d, 0x0a, 0xff]);
    const frame = encodeScriptFrame(header, stdout);
    assert.ok(hasScriptFrameHeader(frame));
    assert.deepEqual(frame.subarray(0, SCRIPT_FRAME_PREFIX.length), SCRIPT_FRAME_PREFIX);
    const newline = frame.indexOf(0x0a);
    assert.deepEqual(JSON.parse(decoder.decode(frame.subarray(0, newline))), header);
    assert.deepEqual(frame.subarray(newline + 1), stdout);
  });
});

describe("readScriptFrameHeader()", () => {
  it("readScriptFrameHeader() round-trips a header and returns the body as a view", () => {
    const header: ScriptFrameHeader = { script: "x", runMs: 5, timedOut: true, precision: "s" };
    const frame = encodeScriptFrame(header, encoder.encode("a\nb\n"));
    const read = readScriptFrameHeader(frame);
    assert.ok(read !== undefined);
    assert.deepEqual(read.header, header);
    assert.equal(decoder.decode(read.body), "a\nb\n");
    assert.equal(read.body.buffer, frame.buffer);
  });

  it("readScriptFrameHeader() reads a frame with an empty body and one without a newline", () => {
    const empty = readScriptFrameHeader(encodeScriptFrame({ script: "x", runMs: 1 }, new Uint8Array(0)));
    assert.equal(empty?.body.length, 0);
    const bare = readScriptFrameHeader(encoder.encode('{"script":"x","runMs":1}'));
    assert.equal(bare?.header.script, "x");
    assert.equal(bare?.body.length, 0);
  });

  it("readScriptFrameHeader() returns undefined for anything that is not a valid header", () => {
    for (
      const text of [
        "",
        "M1 1",
        '{"runMs":1,"script":"x"}\nM1 1',
        '{"script":"x"}\n',
        '{"script":"x","runMs":"1"}\n',
        '{"script":"x","runMs":1,"exitCode":1.5}\n',
        '{"script":"x","runMs":1,"precision":"ps"}\n',
        '{"script":"x","runMs":1,"definitions":{"metrics":[{"id":1}],"events":[]}}\n',
        '{"script":"x","runMs":1\n}',
        '{"script":"x",',
      ]
    ) {
      assert.equal(readScriptFrameHeader(encoder.encode(text)), undefined, text);
    }
  });
});

describe("scriptFrameLabels()", () => {
  it("scriptFrameLabels() puts script last so it overrides a configured label of that name", () => {
    assert.deepEqual(scriptFrameLabels({ script: "s", runMs: 0, labels: { a: "1", script: "other" } }), [
      ["a", "1"],
      ["script", "other"],
      ["script", "s"],
    ]);
    assert.deepEqual(scriptFrameLabels({ script: "", runMs: 0 }), []);
  });
});
