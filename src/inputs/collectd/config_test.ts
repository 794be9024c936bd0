import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as v from "valibot";
import { resolveConfig } from "../../config/resolve.ts";
import { example, schema } from "./config.ts";
import { collectd } from "./mod.ts";

const UDP_ONLY = 'a UDP address like "udp:HOST:PORT" (collectd\'s network protocol runs over UDP only)';

/** Resolves a config document with only the collectd input registered, returning the error text. */
function problems(input: Record<string, unknown>): string {
  try {
    resolveConfig({ inputs: { c: { type: "collectd", ...input } } }, { plugins: { collectd } });
  } catch (error) {
    return (error as Error).message;
  }
  return "";
}

describe("collectd config schema", () => {
  it("schema fills the defaults: udp on loopback 25826, no security, system types.db, 8 MiB buffer", () => {
    assert.deepEqual(v.parse(schema, {}), {
      listen: ["udp:127.0.0.1:25826"],
      security_level: "none",
      types_db: [],
      read_buffer: 8 * 1024 * 1024,
      udp_receive: "auto",
      warm_up: false,
    });
  });

  it("schema parses the example", () => {
    assert.deepEqual(v.parse(schema, example), {
      listen: ["udp:127.0.0.1:25826"],
      security_level: "sign",
      auth_file: "/etc/tally/collectd.auth",
      types_db: ["/usr/share/collectd/types.db"],
      read_buffer: 8388608,
      udp_receive: "auto",
      warm_up: false,
    });
  });

  it("schema keeps addresses canonical and refuses TCP and Unix addresses, saying collectd is UDP only", () => {
    assert.deepEqual(v.parse(schema, { listen: ["udp:[::1]:25826", "udp:0.0.0.0:1"] }).listen, [
      "udp:[::1]:25826",
      "udp:0.0.0.0:1",
    ]);
    assert.equal(
      problems({ listen: ["tcp:127.0.0.1:25826"] }),
      `Invalid config at inputs.c.listen[0]: expected ${UDP_ONLY}, found "tcp:127.0.0.1:25826"`,
    );
    assert.equal(
      problems({ listen: ["unix:/run/collectd.sock"] }),
      `Invalid config at inputs.c.listen[0]: expected ${UDP_ONLY}, found "unix:/run/collectd.sock"`,
    );
  });

  it("schema requires an auth_file for sign and encrypt, and not for none", () => {
    for (const level of ["sign", "encrypt"]) {
      assert.equal(
        problems({ security_level: level }),
        "Invalid config at inputs.c.auth_file: expected the path of an auth file (required when security_level " +
          'is "sign" or "encrypt"), found nothing',
      );
      assert.equal(problems({ security_level: level, auth_file: "/etc/x.auth" }), "");
    }
    assert.equal(problems({ security_level: "none" }), "");
    assert.equal(problems({ security_level: "none", auth_file: "/etc/x.auth" }), "");
  });

  it("schema refuses an unknown security level and misspelt keys", () => {
    assert.equal(
      problems({ security_level: "Sign" }),
      'Invalid config at inputs.c.security_level: expected one of "none", "sign" or "encrypt", found "Sign"',
    );
    assert.match(problems({ authfile: "/x" }), /did you mean "auth_file"\?/);
  });
});
