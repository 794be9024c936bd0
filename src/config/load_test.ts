import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { InputPlugin } from "../inputs/input.ts";
import { INPUTS } from "../inputs/registry.ts";
import { ConfigError, loadConfig } from "./load.ts";
import type { ConfigOf, ConfigOverrides } from "./load.ts";

type Config = ConfigOf<typeof INPUTS>;

const dir = mkdtempSync(join(tmpdir(), "tally-load-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function errorOf(path: string | undefined, overrides: ConfigOverrides = {}): ConfigError {
  try {
    loadConfig(path, { plugins: INPUTS, ...overrides });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  assert.fail("Expected a ConfigError");
}

function addresses(config: Config): string[] {
  // Looked up by a runtime key, as the conflict check does: the registry's precise per-plugin types
  // cannot follow a union key.
  return Object.values(config.inputs).flatMap((input) =>
    (INPUTS[input.type] as InputPlugin).resources?.(input) ?? []
  );
}

describe("loadConfig()", () => {
  it("runs on the embedded defaults without a file", () => {
    const config = loadConfig(undefined, { plugins: INPUTS });
    assert.deepEqual(Object.keys(config.inputs), ["statsd", "http", "coscale_api"]);
    assert.equal(config.inputs["statsd"]?.type, "statsd");
    assert.deepEqual(addresses(config), ["udp:127.0.0.1:8125"]);
    assert.deepEqual(config.http.listen, { hostname: "127.0.0.1", port: 8127 });
    assert.equal(config.agent.data_dir, "./data");
    assert.equal(config.agent.flush_interval, 10_000);
  });

  it("resolves the file and data_dir against cwd", () => {
    mkdirSync(join(dir, "etc"), { recursive: true });
    write("etc/tally.toml", '[agent]\ndata_dir = "var/tally"\nflush_interval = "1s"\n');
    const config = loadConfig("etc/tally.toml", { plugins: INPUTS, cwd: dir });
    assert.equal(config.agent.data_dir, join(dir, "var/tally"));
    assert.equal(config.agent.flush_interval, 1000);
  });

  it("reads a complete file", () => {
    const path = write(
      "full.toml",
      `[agent]
workers = 0
log_level = "debug"
ring_size = "1MiB"

[aggregation]
percentiles = [50, 99]
exact_limit = 64

[http]
listen = "127.0.0.1:18127"
max_body = 65536

[store]
retention = "1d"

[inputs.statsd]
type = "statsd"
listen = ["udp:127.0.0.1:18125", "tcp:127.0.0.1:18125"]
`,
    );
    const config = loadConfig(path, { plugins: INPUTS });
    assert.equal(config.agent.workers, 0);
    assert.equal(config.agent.log_level, "debug");
    assert.equal(config.agent.ring_size, 1024 * 1024);
    assert.deepEqual(config.aggregation.percentiles, [50, 99]);
    assert.equal(config.aggregation.exact_limit, 64);
    assert.deepEqual(config.http.listen, { hostname: "127.0.0.1", port: 18127 });
    assert.equal(config.http.max_body, 65536);
    assert.equal(config.store.retention, 86_400_000);
    assert.deepEqual(addresses(config), ["udp:127.0.0.1:18125", "tcp:127.0.0.1:18125"]);
  });

  it("names an unreadable file", () => {
    const error = errorOf(join(dir, "missing.toml"));
    assert.equal(error.message, `Cannot read config "${join(dir, "missing.toml")}": no such file`);
    assert.equal((error.cause as { code?: string }).code, "ENOENT");
    assert.equal(errorOf(dir).message, `Cannot read config "${dir}": it is a directory`);
  });

  it("gives the line and column of a TOML syntax error", () => {
    const path = write("syntax.toml", '[agent]\nworkers = 1\nlog_level = "info\n');
    const error = errorOf(path);
    assert.match(
      error.message,
      new RegExp(`^Invalid config "${path}": TOML syntax error at line 3, column \\d+: `),
    );
    assert.ok(error.cause instanceof Error);
  });

  it('says that a table header is not closed instead of smol-toml\'s "cannot find end of key"', () => {
    const path = write("header.toml", "[agent\nworkers = 1\n");
    const error = errorOf(path);
    assert.equal(
      error.message.split("\n")[0],
      `Invalid config "${path}": TOML syntax error at line 1, column 2: the table header "[agent" is not ` +
        'closed: expected "]" at its end',
    );
    const array = errorOf(write("array.toml", "a = 1\n[[inputs # the inputs\n"));
    assert.match(
      array.message,
      /at line 2, column \d+: the table header "\[\[inputs" is not closed: expected "\]\]"/,
    );
  });

  it("names the file, key path, expectation and value of every problem", () => {
    const path = write(
      "bad.toml",
      '[agent]\nflush_interval = "10 s"\n\n[inputs.statsd]\ntype = "statsd"\nlisten = ["foo"]\n\n[strore]\nretention = "1d"\n',
    );
    const error = errorOf(path);
    const lines = error.message.split("\n");
    assert.equal(lines[0], `Invalid config "${path}": 3 problems`);
    assert.match(lines[1] ?? "", /^ {2}at agent\.flush_interval: expected a duration like .*, found "10 s"$/);
    assert.match(
      lines[2] ?? "",
      /^ {2}at inputs\.statsd\.listen\[0\]: expected .*"udp:HOST:PORT".*, found "foo"$/,
    );
    assert.match(
      lines[3] ?? "",
      /^ {2}at strore: expected one of .* \(did you mean "store"\?\), found the unknown key "strore"$/,
    );
  });

  it("refuses two inputs on one address", () => {
    const path = write(
      "dup.toml",
      '[inputs.a]\ntype = "statsd"\nlisten = ["udp:127.0.0.1:8125"]\n\n[inputs.b]\ntype = "statsd"\nlisten = ["udp:127.0.0.1:8125"]\n',
    );
    assert.match(
      errorOf(path).message,
      /at inputs\.b: .*"udp:127\.0\.0\.1:8125", which inputs\.a also binds$/,
    );
  });

  it("refuses a public HTTP endpoint without a token", () => {
    const path = write("public.toml", '[http]\nlisten = "0.0.0.0:8127"\n');
    assert.match(
      errorOf(path).message,
      new RegExp(`^Invalid config "${path}" at http\\.token: expected a bearer token`),
    );
    assert.equal(loadConfig(path, { plugins: INPUTS, insecure: true }).http.insecure, true);
  });

  it("applies overrides over the file and names bad flags", () => {
    const path = write(
      "base.toml",
      '[agent]\nworkers = 2\n[inputs.statsd]\ntype = "statsd"\nlisten = ["udp:127.0.0.1:8125"]\n',
    );
    const config = loadConfig(path, {
      plugins: INPUTS,
      cwd: dir,
      dataDir: "d",
      statsd: ["tcp:127.0.0.1:9125"],
      http: "127.0.0.1:0",
      flushInterval: "500ms",
      workers: "1",
    });
    assert.equal(config.agent.data_dir, join(dir, "d"));
    assert.deepEqual(addresses(config), ["tcp:127.0.0.1:9125"]);
    assert.deepEqual(config.http.listen, { hostname: "127.0.0.1", port: 0 });
    assert.equal(config.agent.flush_interval, 500);
    assert.equal(config.agent.workers, 1);
    assert.match(
      errorOf(path, { statsd: ["udp:localhost"] }).message,
      new RegExp(`^Invalid config "${path}" at --statsd\\[0\\]: expected .*, found "udp:localhost"$`),
    );
  });
});
