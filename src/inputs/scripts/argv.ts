/**
 * Splits a command line into words the way a POSIX shell does, without running a shell.
 *
 * Scripts are configured as one string (`python /srv/scripts/check.py --verbose`, as in CoScale's agent
 * config) but run without `/bin/sh`: no expansion of `$VAR`, `~`, globs or `$(…)`, no pipes, no
 * redirections. Only the quoting rules of the shell apply (POSIX.1-2017 XCU §2.2, "Quoting"):
 *
 * - blanks (space, tab, newline) separate words outside quotes;
 * - `'…'` keeps everything literally, backslashes included;
 * - `"…"` keeps everything literally except that a backslash escapes `"`, `\`, `$`, `` ` `` and a
 *   newline (which disappears); before any other character the backslash stays;
 * - an unquoted `\` escapes the next character (`\` + newline disappears);
 * - `''` and `""` make an empty word; adjacent quoted and unquoted parts join (`a"b c"d` → `ab cd`).
 *
 * Rejected with a {@link CommandLineError}: an unterminated quote, a trailing backslash, an empty command
 * line, and the unquoted shell operators `|`, `&`, `;`, `<`, `>`, `(`, `)` and `` ` ``, which a reader
 * would expect to work and which would otherwise silently become literal arguments. Quote them to pass
 * them as arguments. `$`, `~`, `*`, `?`, `[` and `#` are ordinary characters.
 *
 * @module
 */

/** A command line that cannot be split. */
export class CommandLineError extends Error {
  override readonly name = "CommandLineError";
  /** The command line as given. */
  readonly commandLine: string;

  /**
   * @param message What is wrong, sentence case.
   * @param commandLine The command line as given.
   */
  constructor(message: string, commandLine: string) {
    super(message);
    this.commandLine = commandLine;
  }
}

const OPERATORS = "|&;<>()`";
const DOUBLE_QUOTE_ESCAPES = '"\\$`\n';

/**
 * Splits `commandLine` into argv words like a POSIX shell, without any expansion.
 *
 * @param commandLine The command line, e.g. `python "/srv/my scripts/check.py" -v`.
 * @returns The words; never empty.
 * @throws {CommandLineError} On an unterminated quote, a trailing backslash, an unquoted shell operator
 *   or a line with no words.
 * @example
 * ```ts
 * splitCommandLine(`python '/srv/my scripts/x.py' "a \\"b\\""`); // ["python", "/srv/my scripts/x.py", 'a "b"']
 * ```
 */
export function splitCommandLine(commandLine: string): string[] {
  const words: string[] = [];
  let word = "";
  // A word exists once anything (even an empty quote pair) was seen since the last blank.
  let inWord = false;
  let i = 0;
  const n = commandLine.length;
  while (i < n) {
    const c = commandLine[i]!;
    if (c === " " || c === "\t" || c === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i++;
    } else if (c === "'") {
      const close = commandLine.indexOf("'", i + 1);
      if (close < 0) throw unterminated("single", i, commandLine);
      word += commandLine.slice(i + 1, close);
      inWord = true;
      i = close + 1;
    } else if (c === '"') {
      const open = i;
      i++;
      let closed = false;
      while (i < n) {
        const d = commandLine[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === "\\" && i + 1 < n && DOUBLE_QUOTE_ESCAPES.includes(commandLine[i + 1]!)) {
          if (commandLine[i + 1] !== "\n") word += commandLine[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      if (!closed) throw unterminated("double", open, commandLine);
      inWord = true;
    } else if (c === "\\") {
      if (i + 1 >= n) {
        throw new CommandLineError(
          `Cannot split command line ${
            JSON.stringify(commandLine)
          }: it ends with an unfinished backslash escape`,
          commandLine,
        );
      }
      const next = commandLine[i + 1]!;
      if (next !== "\n") {
        word += next;
        inWord = true;
      }
      i += 2;
    } else if (OPERATORS.includes(c)) {
      throw new CommandLineError(
        `Cannot split command line ${
          JSON.stringify(commandLine)
        }: "${c}" at offset ${i} is a shell operator, ` +
          "but scripts run without a shell; quote it to pass it as an argument, or put the pipeline in a script",
        commandLine,
      );
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  if (words.length === 0) {
    throw new CommandLineError(
      `Cannot split command line ${JSON.stringify(commandLine)}: it holds no command`,
      commandLine,
    );
  }
  return words;
}

function unterminated(kind: "single" | "double", at: number, commandLine: string): CommandLineError {
  return new CommandLineError(
    `Cannot split command line ${
      JSON.stringify(commandLine)
    }: the ${kind} quote at offset ${at} is never closed`,
    commandLine,
  );
}
