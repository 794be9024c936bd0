import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "smol-toml";
import type { CliIo } from "./cli_io.ts";
import { config } from "./config.ts";

const dir = mkdtempSync(join(tmpdir(), "tally-cli-config-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function runConfig(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (s) => void out.push(s),
    stderr: (s) => void err.push(s),
    env: {},
    cwd: dir,
    shutdown: new AbortController().signal,
  };
  const code = await config(args, io);
  return { code, out: out.join(""), err: err.join("") };
}

describe("config check", () => {
  it("summarises a valid file and exits 0", async () => {
    writeFileSync(join(dir, "ok.toml"), '[agent]\nflush_interval = "1s"\n');
    const { code, out, err } = await runConfig("check", "ok.toml");
    assert.equal(err, "");
    assert.equal(code, 0);
    assert.equal(
      out,
      `Config "ok.toml" is valid: 3 inputs (statsd: udp:127.0.0.1:8125; http; coscale_api), http 127.0.0.1:8127, ` +
        `data dir ${join(dir, "data")}, flush every 1s\n`,
    );
  });

  it("names inputs whose id differs from their type", async () => {
    writeFileSync(
      join(dir, "two.toml"),
      '[inputs.edge]\ntype = "statsd"\nlisten = ["udp:127.0.0.1:9125"]\n\n' +
        '[inputs.local]\ntype = "statsd"\nlisten = ["unix:/tmp/tally-test.sock"]\n',
    );
    const { code, out } = await runConfig("check", "two.toml");
    assert.equal(code, 0);
    assert.match(
      out,
      /: 2 inputs \(edge \(statsd\): udp:127\.0\.0\.1:9125; local \(statsd\): unix:\/tmp\/tally-test\.sock\), /,
    );
  });

  it("lists the outputs with their receivers", async () => {
    writeFileSync(
      join(dir, "out.toml"),
      '[outputs.vm]\ntype = "remote_write"\nurl = "http://127.0.0.1:8428/api/v1/write"\n',
    );
    const { code, out } = await runConfig("check", "out.toml");
    assert.equal(code, 0);
    assert.match(
      out,
      /\), 1 output \(vm \(remote_write\): http:\/\/127\.0\.0\.1:8428\/api\/v1\/write\), http /,
    );
  });

  it("prints the error and exits 2 for an invalid or missing file", async () => {
    writeFileSync(join(dir, "bad.toml"), "[agent]\nworkers = -3\n");
    const bad = await runConfig("check", "bad.toml");
    assert.equal(bad.code, 2);
    assert.equal(bad.out, "");
    assert.equal(
      bad.err,
      'Invalid config "bad.toml" at agent.workers: expected "auto" or an integer from 0 to 256, found -3\n',
    );
    const missing = await runConfig("check", "missing.toml");
    assert.equal(missing.code, 2);
    assert.equal(missing.err, 'Cannot read config "missing.toml": no such file\n');
  });

  it("fails, as run would, when the collectd auth_file or a script's files do not exist or cannot run", async () => {
    const script = join(dir, "not_executable.sh");
    writeFileSync(script, "#!/bin/sh\necho M1 1\n", { mode: 0o644 });
    writeFileSync(
      join(dir, "files.toml"),
      '[inputs.c]\ntype = "collectd"\nsecurity_level = "sign"\nauth_file = "/nonexistent/collectd.auth"\n' +
        'types_db = ["/nonexistent/types.db"]\n\n' +
        `[inputs.s]\ntype = "scripts"\nscripts = [{ command = "/nonexistent/check.sh" }, { command = "${script}" }, ` +
        '{ command = "python3 /nonexistent/web_check.py" }, { command = "sh -c \'echo M1 1\'" }]\n',
    );
    const { code, out, err } = await runConfig("check", "files.toml");
    assert.equal(code, 2);
    assert.equal(out, "");
    const lines = err.trimEnd().split("\n");
    assert.equal(lines[0], 'Invalid config "files.toml": 5 problems');
    assert.equal(
      lines[1],
      '  at inputs.c.auth_file: Cannot read collectd auth_file "/nonexistent/collectd.auth": no such file',
    );
    assert.match(
      lines[2]!,
      /^ {2}at inputs\.c\.types_db\[0\]: Cannot read types\.db file "\/nonexistent\/types\.db": /,
    );
    assert.equal(
      lines[3],
      '  at inputs.s.scripts[0].command: Cannot run "/nonexistent/check.sh": "/nonexistent/check.sh" does not exist',
    );
    assert.equal(
      lines[4],
      `  at inputs.s.scripts[1].command: Cannot run "${script}": "${script}" is not executable`,
    );
    assert.equal(
      lines[5],
      '  at inputs.s.scripts[2].command: cannot read the script file "/nonexistent/web_check.py" that "python3" runs',
    );
    assert.equal(lines.length, 6, err);
  });

  it("exits 2 with usage without exactly one FILE", async () => {
    for (const args of [["check"], ["check", "a.toml", "b.toml"]]) {
      const { code, err } = await runConfig(...args);
      assert.equal(code, 2, args.join(" "));
      assert.match(err, /^Expected exactly one FILE\n\nUsage: tally config check FILE/);
    }
  });
});

describe("config example", () => {
  it("prints the whole example", async () => {
    const { code, out } = await runConfig("example");
    assert.equal(code, 0);
    const document = parse(out);
    assert.deepEqual(Object.keys(document), ["agent", "aggregation", "http", "store", "inputs", "outputs"]);
  });

  it("prints one plugin's table", async () => {
    const { code, out } = await runConfig("example", "statsd");
    assert.equal(code, 0);
    assert.deepEqual(Object.keys(parse(out)), ["inputs"]);
    assert.match(out, /^\[inputs\.statsd\]$/m);
  });

  it("prints one output's table", async () => {
    const { code, out } = await runConfig("example", "remote_write");
    assert.equal(code, 0);
    assert.deepEqual(Object.keys(parse(out)), ["outputs"]);
    assert.match(out, /^\[outputs\.remote_write\]$/m);
  });

  it("exits 2 for an unknown plugin or too many arguments", async () => {
    const unknown = await runConfig("example", "nope");
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.err,
      /^Unknown plugin "nope"; known inputs: "statsd".*; known outputs: "remote_write"/,
    );
    const many = await runConfig("example", "statsd", "more");
    assert.equal(many.code, 2);
  });
});

describe("config", () => {
  it("exits 2 without an action or with an unknown one or flag", async () => {
    assert.equal((await runConfig()).code, 2);
    const unknown = await runConfig("lint");
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /^Unknown config action "lint"/);
    assert.equal((await runConfig("check", "--strict", "x.toml")).code, 2);
  });

  it("prints usage on --help", async () => {
    const { code, out } = await runConfig("--help");
    assert.equal(code, 0);
    assert.match(out, /^Usage: tally config check FILE\n {7}tally config example \[PLUGIN\]/);
  });
});
