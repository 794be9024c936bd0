import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { resolveUser } from "./_passwd.ts";

const PASSWD = [
  "root:x:0:0:root:/root:/bin/bash",
  "# a comment",
  "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
  "tally:x:998:997::/var/lib/tally:/usr/sbin/nologin",
  "broken:x::",
  "",
].join("\n");

describe("resolveUser()", () => {
  it("resolveUser() finds a name and its primary group", () => {
    assert.deepEqual(resolveUser("tally", PASSWD), { name: "tally", uid: 998, gid: 997 });
  });

  it("resolveUser() takes a numeric uid's group from the file, else the uid", () => {
    assert.deepEqual(resolveUser("998", PASSWD), { name: "998", uid: 998, gid: 997 });
    assert.deepEqual(resolveUser("4242", PASSWD), { name: "4242", uid: 4242, gid: 4242 });
  });

  it("resolveUser() uses uid:gid as given", () => {
    assert.deepEqual(resolveUser("5000:6000", PASSWD), { name: "5000:6000", uid: 5000, gid: 6000 });
  });

  it("resolveUser() names an unknown user in its error", () => {
    assert.throws(
      () => resolveUser("ghost", PASSWD),
      /^Error: Cannot look up user "ghost": no such user in \/etc\/passwd/,
    );
  });

  it("resolveUser() reads /etc/passwd by default", () => {
    assert.equal(resolveUser("root").uid, 0);
  });
});
