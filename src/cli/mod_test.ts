import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { CliIo } from "./cli_io.ts";
import { cli } from "./mod.ts";
import { VERSION } from "../internal/version.ts";

function capture(): { io: CliIo; out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdout: (s) => void out.push(s),
    stderr: (s) => void err.push(s),
    env: {},
    cwd: process.cwd(),
    shutdown: new AbortController().signal,
  };
  return { io, out: () => out.join(""), err: () => err.join("") };
}

async function runCli(...argv: string[]) {
  const { io, out, err } = capture();
  const code = await cli(argv, io);
  return { code, out: out(), err: err() };
}

const VERSION_LINE_REGEXP = new RegExp(
  `^tally ${
    VERSION.replaceAll(".", "\\.")
  } \\(commit [^ ,]+, target [^ ,]+, (bun|deno|node) [^ ,]+ on [a-z0-9]+/[a-z0-9]+\\)\\n$`,
);

describe("cli()", () => {
  it("prints usage on stdout and exits 0 for --help, -h and help", async () => {
    for (const argv of [["--help"], ["-h"], ["help"]]) {
      const { code, out, err } = await runCli(...argv);
      assert.equal(code, 0, argv.join(" "));
      assert.match(out, /^Usage: tally COMMAND \[options\]\n/);
      assert.match(out, /\n {2}config check FILE /);
      assert.equal(err, "");
    }
  });

  it("exits 2 with usage on stderr without a command", async () => {
    const { code, out, err } = await runCli();
    assert.equal(code, 2);
    assert.equal(out, "");
    assert.match(err, /^Expected a command\n\nUsage: tally COMMAND/);
  });

  it("exits 2 for an unknown command or flag", async () => {
    const unknown = await runCli("frobnicate", "--x");
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /^Unknown command "frobnicate"\n\nUsage: tally COMMAND/);
    const inherited = await runCli("toString");
    assert.equal(inherited.code, 2);
    assert.match(inherited.err, /^Unknown command "toString"/);
    const flag = await runCli("--frobnicate", "version");
    assert.equal(flag.code, 2);
    assert.match(flag.err, /--frobnicate/);
    assert.match(flag.err, /Usage: tally COMMAND/);
  });

  it("prints the version line for version and --version", async () => {
    for (const argv of [["version"], ["--version"]]) {
      const { code, out } = await runCli(...argv);
      assert.equal(code, 0);
      assert.match(out, VERSION_LINE_REGEXP);
    }
  });

  it("prints a command's usage for COMMAND --help and help COMMAND", async () => {
    for (const argv of [["version", "--help"], ["version", "-h"], ["help", "version"]]) {
      const { code, out } = await runCli(...argv);
      assert.equal(code, 0, argv.join(" "));
      assert.match(out, /^Usage: tally version\n/);
    }
    for (const argv of [["config", "--help"], ["help", "config"]]) {
      const { code, out } = await runCli(...argv);
      assert.equal(code, 0, argv.join(" "));
      assert.match(out, /^Usage: tally config check FILE\n/);
    }
  });

  it("exits 2 for help on an unknown topic and for a command's unknown flag", async () => {
    const topic = await runCli("help", "frobnicate");
    assert.equal(topic.code, 2);
    assert.match(topic.err, /^Unknown help topic "frobnicate"/);
    const flag = await runCli("version", "--frobnicate");
    assert.equal(flag.code, 2);
    assert.match(flag.err, /--frobnicate/);
    assert.match(flag.err, /Usage: tally version/);
  });

  it("dispatches config with its arguments", async () => {
    const { code, out } = await runCli("config", "example");
    assert.equal(code, 0);
    assert.match(out, /^## tally configuration/);
  });

  it("hands query, run, push, event and wrap their --help", async () => {
    for (const command of ["query", "run", "push", "event", "wrap"]) {
      const { code, out } = await runCli(command, "--help");
      assert.equal(code, 0, command);
      assert.match(out, new RegExp(`^Usage: tally ${command}`));
    }
  });
});
