import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Sessions } from "./_sessions.ts";

const NO_HEADERS = { httpAuthorization: undefined, authorization: undefined };

describe("Sessions", () => {
  it("Sessions.login() hands out a new token for the configured one only", () => {
    const sessions = new Sessions("s3cret");
    const first = sessions.login("s3cret");
    const second = sessions.login("s3cret");
    assert.match(first ?? "", /^[0-9a-f-]{36}$/);
    assert.notEqual(first, second);
    assert.equal(sessions.login("wrong"), undefined);
    assert.equal(sessions.login(""), undefined);
    assert.equal(sessions.login(undefined), undefined);
  });

  it("Sessions.check() takes a session token or the bearer token, and says why it refuses", () => {
    const sessions = new Sessions("s3cret");
    const token = sessions.login("s3cret")!;
    assert.equal(sessions.check({ httpAuthorization: token, authorization: undefined }), undefined);
    assert.equal(sessions.check({ httpAuthorization: ` ${token} `, authorization: undefined }), undefined);
    assert.equal(sessions.check({ httpAuthorization: undefined, authorization: "Bearer s3cret" }), undefined);
    assert.match(
      sessions.check(NO_HEADERS) ?? "",
      /^Authentication required: send the token from POST login\//,
    );
    assert.match(
      sessions.check({ httpAuthorization: "stale", authorization: undefined }) ?? "",
      /^Invalid or expired token: log in again/,
    );
    assert.notEqual(
      sessions.check({ httpAuthorization: undefined, authorization: "Bearer nope" }),
      undefined,
    );
    assert.notEqual(
      sessions.check({ httpAuthorization: undefined, authorization: "Basic czNjcmV0" }),
      undefined,
    );
    assert.notEqual(sessions.check({ httpAuthorization: "s3cret", authorization: undefined }), undefined);
  });

  it("Sessions forget the least recently used session past their bound", () => {
    const sessions = new Sessions("s3cret", 2);
    const a = sessions.login("s3cret")!;
    const b = sessions.login("s3cret")!;
    assert.equal(sessions.check({ httpAuthorization: a, authorization: undefined }), undefined);
    const c = sessions.login("s3cret")!;
    assert.notEqual(
      sessions.check({ httpAuthorization: b, authorization: undefined }),
      undefined,
      "b was least recently used",
    );
    assert.equal(sessions.check({ httpAuthorization: a, authorization: undefined }), undefined);
    assert.equal(sessions.check({ httpAuthorization: c, authorization: undefined }), undefined);
  });

  it("Sessions without a token check nothing and log anyone in", () => {
    const sessions = new Sessions("");
    assert.equal(sessions.enabled, false);
    assert.equal(sessions.check(NO_HEADERS), undefined);
    assert.equal(sessions.check({ httpAuthorization: "anything", authorization: undefined }), undefined);
    assert.ok(sessions.login(undefined));
    assert.ok(sessions.login("whatever"));
  });
});
