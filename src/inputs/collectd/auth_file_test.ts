import { after, describe, it } from "node:test";
import { Buffer } from "node:buffer";
import assert from "node:assert/strict";
import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuthFile } from "./auth_file.ts";

const dir = mkdtempSync(join(tmpdir(), "tally-collectd-auth-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A clock the test moves by hand. */
function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

function entries(map: ReadonlyMap<string, string>): Array<[string, string]> {
  return [...map];
}

describe("AuthFile.parse()", () => {
  it("AuthFile.parse() reads user: password lines as collectd's fbhash does", () => {
    const text = [
      "# collectd users",
      "",
      "   alice: secret",
      "bob:two words  ",
      "carol:\t  pa:ss",
      "dave :spaced-user",
      "erin:",
      "no colon here",
      "  # indented comment: not-a-user",
      "alice: second-wins-not",
      "frank: crlf\r",
    ].join("\n");
    assert.deepEqual(entries(AuthFile.parse(text)), [
      ["alice", "secret"],
      ["bob", "two words  "],
      ["carol", "pa:ss"],
      ["dave ", "spaced-user"],
      ["frank", "crlf"],
    ]);
  });

  it("AuthFile.parse() keeps bytes as they are (latin1 in, latin1 out)", () => {
    const text = Buffer.from("j\u00f6rg: p\u00e4ss\n", "utf8").toString("latin1");
    const users = AuthFile.parse(text);
    assert.equal(
      Buffer.from(users.get(Buffer.from("j\u00f6rg", "utf8").toString("latin1"))!, "latin1").toString("utf8"),
      "p\u00e4ss",
    );
  });
});

describe("AuthFile", () => {
  it("new AuthFile() reads the file, and refuses a missing one with a sentence naming it", () => {
    const path = join(dir, "start.auth");
    writeFileSync(path, "u: p\n");
    assert.deepEqual(entries(new AuthFile(path).users()), [["u", "p"]]);
    const missing = join(dir, "missing.auth");
    assert.throws(() => new AuthFile(missing), (error: Error) => {
      assert.equal(error.message, `Cannot read collectd auth_file "${missing}": no such file`);
      assert.equal((error.cause as { code?: string }).code, "ENOENT");
      return true;
    });
  });

  it("users() re-reads a rewritten file, at most once per check interval", () => {
    const path = join(dir, "rewrite.auth");
    writeFileSync(path, "u: p\n");
    const c = clock();
    const auth = new AuthFile(path, { now: c.now });
    writeFileSync(path, "u: new-password\nv: q\n");
    // Too soon: the file is not looked at.
    c.advance(999);
    assert.deepEqual(entries(auth.users()), [["u", "p"]]);
    assert.deepEqual(auth.lastChange(), { kind: "unchanged" });
    c.advance(1);
    assert.deepEqual(entries(auth.users()), [["u", "new-password"], ["v", "q"]]);
    assert.deepEqual(auth.lastChange(), { kind: "reloaded", users: 2 });
    c.advance(5_000);
    const same = auth.users();
    assert.deepEqual(auth.lastChange(), { kind: "unchanged" });
    c.advance(5_000);
    assert.equal(auth.users(), same, "an unchanged file keeps the same map");
  });

  it("users() sees a file replaced by rename (a new inode), as editors and config tools write", () => {
    const path = join(dir, "rename.auth");
    writeFileSync(path, "u: p\n");
    const c = clock();
    const auth = new AuthFile(path, { now: c.now });
    const next = join(dir, "rename.auth.tmp");
    writeFileSync(next, "u: q2\n");
    renameSync(next, path);
    c.advance(1_000);
    assert.deepEqual(entries(auth.users()), [["u", "q2"]]);
  });

  it("users() keeps the previous users when the file disappears, and reports the failure", () => {
    const path = join(dir, "vanish.auth");
    writeFileSync(path, "u: p\n");
    const c = clock();
    const auth = new AuthFile(path, { now: c.now });
    rmSync(path);
    c.advance(1_000);
    assert.deepEqual(entries(auth.users()), [["u", "p"]]);
    const change = auth.lastChange();
    assert.equal(change.kind, "failed");
    assert.equal(
      change.kind === "failed" && change.error.message,
      `Cannot read collectd auth_file "${path}": no such file`,
    );
    writeFileSync(path, "w: xyz\n");
    c.advance(1_000);
    assert.deepEqual(entries(auth.users()), [["w", "xyz"]]);
  });
});
