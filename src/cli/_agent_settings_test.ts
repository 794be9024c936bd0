import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { agentSettings, joinNegativeValues } from "./_agent_settings.ts";

describe("agentSettings()", () => {
  it("agentSettings() defaults to the embedded agent address, no token, 10 s timeout and 5 s wait", () => {
    assert.deepEqual(agentSettings({}, {}), {
      kind: "settings",
      settings: { url: "http://127.0.0.1:8127", token: "", timeoutMs: 10_000, waitMs: 5_000, dryRun: false },
    });
  });

  it("agentSettings() prefers the flags to TALLY_URL and TALLY_TOKEN, and those to the defaults", () => {
    const env = { TALLY_URL: "http://10.0.0.5:9000/", TALLY_TOKEN: "from-env" };
    const fromEnv = agentSettings({}, env);
    assert.equal(fromEnv.kind === "settings" && fromEnv.settings.url, "http://10.0.0.5:9000");
    assert.equal(fromEnv.kind === "settings" && fromEnv.settings.token, "from-env");
    const fromFlags = agentSettings({
      url: "https://agent.example:8443/tally/",
      token: "flag",
      "dry-run": true,
    }, env);
    assert.deepEqual(fromFlags.kind === "settings" && fromFlags.settings, {
      url: "https://agent.example:8443/tally",
      token: "flag",
      timeoutMs: 10_000,
      waitMs: 5_000,
      dryRun: true,
    });
  });

  it("agentSettings() reads a bare HOST:PORT as http and takes durations for --timeout and --wait", () => {
    const result = agentSettings({ url: "127.0.0.1:9999", timeout: "500ms", wait: "0s" }, { TALLY_URL: "" });
    assert.deepEqual(result.kind === "settings" && result.settings, {
      url: "http://127.0.0.1:9999",
      token: "",
      timeoutMs: 500,
      waitMs: 0,
      dryRun: false,
    });
  });

  it("agentSettings() names the flag or variable and the value it cannot use", () => {
    assert.deepEqual(agentSettings({ url: "ftp://x" }, {}), {
      kind: "error",
      message: 'Invalid --url "ftp://x": expected http://HOST:PORT or https://HOST:PORT',
    });
    assert.deepEqual(agentSettings({}, { TALLY_URL: "http://x/?q=1" }), {
      kind: "error",
      message: 'Invalid TALLY_URL "http://x/?q=1": expected http://HOST:PORT or https://HOST:PORT',
    });
    assert.deepEqual(agentSettings({ timeout: "0s" }, {}), {
      kind: "error",
      message: 'Invalid --timeout "0s": expected a duration above zero like "10s" or "500ms"',
    });
    assert.deepEqual(agentSettings({ wait: "soon" }, {}), {
      kind: "error",
      message: 'Invalid --wait "soon": expected a duration like "5s", or "0s" not to wait',
    });
  });
});

describe("joinNegativeValues()", () => {
  it("joinNegativeValues() joins a named flag with a negative number after it", () => {
    assert.deepEqual(
      joinNegativeValues(["msg", "--start", "-300", "--end", "-0", "--attr", "-x"], ["--start", "--end"]),
      ["msg", "--start=-300", "--end=-0", "--attr", "-x"],
    );
  });

  it("joinNegativeValues() leaves other flags and everything after -- alone", () => {
    assert.deepEqual(
      joinNegativeValues(["--start", "--dry-run", "--", "--start", "-5"], ["--start"]),
      ["--start", "--dry-run", "--", "--start", "-5"],
    );
  });
});
