import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { CommandLineError, splitCommandLine } from "./argv.ts";

describe("splitCommandLine()", () => {
  it("splitCommandLine() splits on runs of blanks", () => {
    assert.deepEqual(splitCommandLine("  python\t/srv/x.py \n -v  "), ["python", "/srv/x.py", "-v"]);
  });

  it("splitCommandLine() keeps single-quoted text literally, backslashes included", () => {
    assert.deepEqual(splitCommandLine(`echo 'a  b\\n "c"'`), ["echo", 'a  b\\n "c"']);
  });

  it('splitCommandLine() unescapes only " \\ $ ` and newline inside double quotes', () => {
    assert.deepEqual(splitCommandLine(`x "a \\"b\\" \\\\ \\$HOME \\q"`), ["x", 'a "b" \\ $HOME \\q']);
    assert.deepEqual(splitCommandLine('x "a\\\nb"'), ["x", "ab"]);
  });

  it("splitCommandLine() applies unquoted backslash escapes and line continuations", () => {
    assert.deepEqual(splitCommandLine("a\\ b c\\\\d e\\\nf"), ["a b", "c\\d", "ef"]);
  });

  it("splitCommandLine() joins adjacent quoted and unquoted parts and keeps empty words", () => {
    assert.deepEqual(splitCommandLine(`a"b c"d'e' '' ""`), ["ab cde", "", ""]);
  });

  it("splitCommandLine() expands nothing: $VAR, ~, globs and # stay as written", () => {
    assert.deepEqual(splitCommandLine("echo $HOME ~ *.sh [ab] #x"), [
      "echo",
      "$HOME",
      "~",
      "*.sh",
      "[ab]",
      "#x",
    ]);
  });

  it("splitCommandLine() rejects unterminated quotes with the offset", () => {
    assert.throws(() => splitCommandLine("echo 'abc"), (error: Error) => {
      assert.ok(error instanceof CommandLineError);
      assert.equal(
        error.message,
        `Cannot split command line "echo 'abc": the single quote at offset 5 is never closed`,
      );
      return true;
    });
    assert.throws(() => splitCommandLine('echo "a\\"'), /double quote at offset 5 is never closed/);
  });

  it("splitCommandLine() rejects a trailing backslash and an empty line", () => {
    assert.throws(() => splitCommandLine("echo a\\"), /unfinished backslash escape/);
    assert.throws(() => splitCommandLine(" \t "), /holds no command/);
  });

  it("splitCommandLine() rejects unquoted shell operators but accepts quoted ones", () => {
    for (const line of ["a | b", "a && b", "a; b", "a > f", "a < f", "(a)", "a `b`"]) {
      assert.throws(() => splitCommandLine(line), /is a shell operator/, line);
    }
    assert.deepEqual(splitCommandLine(`a "|" '>' \\;`), ["a", "|", ">", ";"]);
  });

  it("splitCommandLine() agrees with bash on quoting", () => {
    const lines = [
      `a 'b c' "d e" f\\ g`,
      `"x\\"y" 'p\\q' r\\\\s`,
      `'' "" a''b`,
      `"$HOME" '$HOME'`,
      `"tab\there" nl\\\nx`,
    ];
    for (const line of lines) {
      // `$` is escaped so bash does not expand it either; the words must then be identical.
      const escaped = line.replaceAll("$HOME", "\\$HOME");
      const out = spawnSync("bash", ["-c", `printf '%s\\0' ${escaped}`], { encoding: "utf8" });
      assert.equal(out.status, 0, out.stderr);
      assert.deepEqual(splitCommandLine(escaped), out.stdout.split("\0").slice(0, -1), line);
    }
  });
});
