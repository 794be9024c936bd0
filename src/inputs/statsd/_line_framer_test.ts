import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { FRAME_BYTES, LineFramer } from "./_line_framer.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A framer whose frames are decoded as they come (the bytes are only valid during the call). */
function recording(maxLineLength: number) {
  const frames: string[] = [];
  let tooLong = 0;
  const framer = new LineFramer(maxLineLength, {
    frame(bytes) {
      frames.push(decoder.decode(bytes));
    },
    tooLong() {
      tooLong++;
    },
  });
  return {
    framer,
    frames,
    push: (text: string) => framer.push(encoder.encode(text)),
    tooLong: () => tooLong,
  };
}

describe("LineFramer", () => {
  it("push() emits every complete line of a chunk in one frame", () => {
    const r = recording(100);
    r.push("a:1|c\nb:2|c\nc:3|c\n");
    assert.deepEqual(r.frames, ["a:1|c\nb:2|c\nc:3|c\n"]);
    assert.equal(r.framer.pending, 0);
  });

  it("push() holds a line split across chunks until its newline, then sends it with its neighbours", () => {
    const r = recording(100);
    r.push("a:1|c\nb:");
    assert.deepEqual(r.frames, ["a:1|c\n"]);
    assert.equal(r.framer.pending, 2);
    r.push("2");
    r.push("|c\nc:3|c\nd");
    assert.deepEqual(r.frames, ["a:1|c\n", "b:2|c\nc:3|c\n"]);
    r.push(":4|c\n");
    assert.deepEqual(r.frames, ["a:1|c\n", "b:2|c\nc:3|c\n", "d:4|c\n"]);
  });

  it("push() keeps CRLF line ends intact and cuts after the LF", () => {
    const r = recording(100);
    r.push("a:1|c\r\nb:2|c\r");
    r.push("\nc:3");
    assert.deepEqual(r.frames, ["a:1|c\r\n", "b:2|c\r\n"]);
    r.framer.end();
    assert.deepEqual(r.frames, ["a:1|c\r\n", "b:2|c\r\n", "c:3"]);
  });

  it("end() emits a final line without a newline, and nothing when there is none", () => {
    const r = recording(100);
    r.push("a:1|c\nlast:2|g");
    r.framer.end();
    assert.deepEqual(r.frames, ["a:1|c\n", "last:2|g"]);
    r.framer.end();
    assert.equal(r.frames.length, 2);
  });

  it("push() skips a too-long line inside a chunk and keeps the lines around it", () => {
    const r = recording(8);
    r.push(`ok:1|c\n${"x".repeat(9)}\nok:2|c\n12345678\n`);
    assert.deepEqual(r.frames, ["ok:1|c\n", "ok:2|c\n12345678\n"]);
    assert.equal(r.tooLong(), 1);
  });

  it("push() skips a too-long line spread over chunks up to its newline, counting it once", () => {
    const r = recording(8);
    r.push("ok:1|c\nxxxx");
    r.push("xxxxx");
    assert.equal(r.tooLong(), 1);
    assert.equal(r.framer.pending, 0);
    r.push("xxxxxxxxxxxx");
    r.push("xx\nok:2|c\n");
    assert.deepEqual(r.frames, ["ok:1|c\n", "ok:2|c\n"]);
    assert.equal(r.tooLong(), 1);
  });

  it("push() counts a too-long line completed by a later chunk's newline", () => {
    const r = recording(8);
    r.push("123456");
    r.push("789\nok:1|c\n");
    assert.deepEqual(r.frames, ["ok:1|c\n"]);
    assert.equal(r.tooLong(), 1);
  });

  it("end() does not emit the rest of a too-long line", () => {
    const r = recording(4);
    r.push("ok\n123456789");
    r.framer.end();
    assert.deepEqual(r.frames, ["ok\n"]);
    assert.equal(r.tooLong(), 1);
  });

  it("push() splits a large run of lines into frames of whole lines no bigger than FRAME_BYTES", () => {
    const r = recording(1000);
    const line = `${"m".repeat(90)}:1|c\n`; // 96 bytes
    const text = line.repeat(2000);
    r.push(text);
    assert.ok(r.frames.length >= 3);
    for (const frame of r.frames) {
      assert.ok(frame.length <= FRAME_BYTES);
      assert.ok(frame.endsWith("\n"));
    }
    assert.equal(r.frames.join(""), text);
  });

  it("push() gives the same lines whatever the chunking", () => {
    const text = "a:1|c\nbb:2|g\r\n" + "y".repeat(20) + "\nccc:3|ms|@0.5\n\nd:4|s\ne:5|h";
    const whole = recording(14);
    whole.push(text);
    whole.framer.end();
    const bytewise = recording(14);
    for (const ch of text) bytewise.push(ch);
    bytewise.framer.end();
    assert.equal(bytewise.frames.join(""), whole.frames.join(""));
    assert.equal(whole.frames.join(""), "a:1|c\nbb:2|g\r\nccc:3|ms|@0.5\n\nd:4|s\ne:5|h");
    assert.equal(whole.tooLong(), 1);
    assert.equal(bytewise.tooLong(), 1);
    for (const frame of bytewise.frames.slice(0, -1)) assert.ok(frame.endsWith("\n"));
  });

  it("discard() forgets a partial line and reports its size", () => {
    const r = recording(100);
    r.push("a:1|c\npart");
    assert.equal(r.framer.discard(), 4);
    r.framer.end();
    assert.deepEqual(r.frames, ["a:1|c\n"]);
  });
});
