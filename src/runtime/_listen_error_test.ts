import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { hostPort, listenError } from "./_listen_error.ts";

describe("listenError()", () => {
  it("listenError() names the listener, quotes the address and maps the errno code", () => {
    const cause = Object.assign(new Error("Failed to start server. Is port 8127 in use?"), {
      code: "EADDRINUSE",
    });
    const error = listenError("HTTP listener", "127.0.0.1:8127", cause);
    assert.equal(error.message, 'Cannot bind HTTP listener "127.0.0.1:8127": address already in use');
    assert.equal(error.cause, cause);
  });

  it("listenError() falls back to the cause's message in sentence-tail case", () => {
    const error = listenError("HTTP listener", "[::1]:80", new Error("Something odd happened"));
    assert.equal(error.message, 'Cannot bind HTTP listener "[::1]:80": something odd happened');
  });

  it("listenError() takes a plain reason without a cause", () => {
    const error = listenError("unix datagram listener", "/run/x.sock", "the path exists and is not a socket");
    assert.equal(
      error.message,
      'Cannot bind unix datagram listener "/run/x.sock": the path exists and is not a socket',
    );
    assert.equal(error.cause, undefined);
  });
});

describe("hostPort()", () => {
  it("hostPort() brackets IPv6 hosts", () => {
    assert.equal(hostPort("127.0.0.1", 8127), "127.0.0.1:8127");
    assert.equal(hostPort("::1", 8127), "[::1]:8127");
  });
});
