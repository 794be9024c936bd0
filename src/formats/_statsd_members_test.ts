import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { memberText } from "./_statsd_members.ts";

const encoder = new TextEncoder();

/** The member's text through `memberText`, from the middle of a line as the parser passes it. */
function through(member: string): string {
  const bytes = encoder.encode(`set:${member}|s`);
  const ascii = bytes.every((b) => b < 0x80);
  return memberText(bytes, 4, bytes.length - 2, ascii);
}

describe("memberText()", () => {
  it("memberText() gives each member's own text, first seen and again, past as many members as it holds", () => {
    // 20 000 members over 4096 slots: slots are taken over many times, and every answer must still be right.
    const members = Array.from({ length: 20_000 }, (_, i) => `user-${i * 7919}`);
    for (const member of members) assert.equal(through(member), member);
    for (const member of members.toReversed()) assert.equal(through(member), member);
    for (let i = 0; i < 1000; i++) assert.equal(through(members[i % 10]!), members[i % 10]);
  });

  it("memberText() tells apart members of one length that differ in one byte", () => {
    for (let i = 0; i < 3; i++) {
      assert.equal(through("abc1"), "abc1");
      assert.equal(through("abc2"), "abc2");
      assert.equal(through("bbc1"), "bbc1");
    }
  });

  it("memberText() decodes non-ASCII and long members every time, correctly", () => {
    const long = "x".repeat(65) + "y";
    for (let i = 0; i < 2; i++) {
      assert.equal(through("jürgen"), "jürgen");
      assert.equal(through("ユーザー"), "ユーザー");
      assert.equal(through(long), long);
      assert.equal(through(" blank "), " blank ");
    }
  });
});
