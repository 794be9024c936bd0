import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { bindError } from "./_bind_error.ts";

describe("bindError()", () => {
  it("bindError() names the reason from the errno code, on the error or on a wrapped cause", () => {
    const direct = Object.assign(new Error("bind EADDRINUSE 0.0.0.0:8125"), { code: "EADDRINUSE" });
    const error = bindError("statsd", "udp:0.0.0.0:8125", direct);
    assert.equal(error.message, 'Cannot bind statsd listener "udp:0.0.0.0:8125": address already in use');
    assert.equal(error.cause, direct);
    const wrapped = new Error("listen failed", { cause: { code: "EACCES" } });
    assert.equal(
      bindError("collectd", "udp:0.0.0.0:25826", wrapped).message,
      'Cannot bind collectd listener "udp:0.0.0.0:25826": permission denied',
    );
  });

  it("bindError() takes a string as the reason itself, without a cause", () => {
    const error = bindError("statsd", "bogus", "not an address");
    assert.equal(error.message, 'Cannot bind statsd listener "bogus": not an address');
    assert.equal(error.cause, undefined);
  });

  it("bindError() rewords the runtime's own bind message and lowercases a sentence start", () => {
    const runtime = new Error('Cannot bind unix datagram listener "/tmp/x.sock": the path exists');
    assert.equal(
      bindError("statsd", "unix:/tmp/x.sock", runtime).message,
      'Cannot bind statsd listener "unix:/tmp/x.sock": the path exists',
    );
    assert.equal(
      bindError("statsd", "udp:[::1]:1", new Error("Address family not supported")).message,
      'Cannot bind statsd listener "udp:[::1]:1": address family not supported',
    );
    assert.equal(
      bindError("statsd", "udp:[::1]:1", new Error("EINVAL: bad")).message,
      'Cannot bind statsd listener "udp:[::1]:1": EINVAL: bad',
    );
  });
});
