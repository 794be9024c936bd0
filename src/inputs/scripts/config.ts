/**
 * The config of the `scripts` input: which command lines run, in which output format, how often, under
 * which limits and as whom.
 *
 * The config loader adds `type = "scripts"` and makes the table strict, so these are the only other keys.
 *
 * @module
 */

import * as v from "valibot";
import { formatDuration } from "../../config/duration.ts";
import { duration, size } from "../../config/fields.ts";
import { CommandLineError, splitCommandLine } from "./argv.ts";

const KIB = 1024;
const MIB = 1024 * KIB;
const SECOND = 1000;

/** The hard limit a script may be given at most, whatever the operator asks: 60 s (CoScale's "1 minute"). */
export const MAX_TIMEOUT_MS = 60 * SECOND;

/** The output formats a script may print, by config name. */
export const SCRIPT_FORMATS = ["coscale", "nagios", "prometheus", "influx"] as const;

/** The output format of one script. */
export type ScriptFormat = (typeof SCRIPT_FORMATS)[number];

const FILE_ARGUMENT_REGEXP = /^[^\s"'$;|&<>=(){}]+$/;
const LABEL_NAME_REGEXP = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RESERVED_LABELS: ReadonlySet<string> = new Set(["script"]);
const CONCURRENCY_EXPECTED = "an integer from 1 to 256";
const ID_EXPECTED = "a non-empty script id";
/** Interpreters whose first non-flag argument is the script file (`python3 /srv/web_check.py`). */
export const INTERPRETER_REGEXP =
  /^(?:(?:ba|da|k|z)?sh|python[0-9.]*|node(?:js)?|deno|bun|php[0-9.]*|perl[0-9.]*|ruby[0-9.]*|pwsh|powershell(?:\.exe)?)$/;

/** A command line, split like a shell splits words (see `argv.ts`), without running a shell. */
function commandLine() {
  return v.pipe(
    v.string("a command line"),
    v.rawTransform(function toArgv({ dataset, addIssue, NEVER }): string[] {
      try {
        return splitCommandLine(dataset.value);
      } catch (error) {
        if (!(error instanceof CommandLineError)) throw error;
        addIssue({ message: `a command line that splits into words (${error.message})` });
        return NEVER;
      }
    }),
  );
}

/** Environment variables: names as a shell would accept them, string values. */
function environment() {
  return v.record(
    v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name")),
    v.string("a string"),
    "a table of environment variables",
  );
}

const SCRIPT_SCHEMA = v.pipe(
  v.strictObject({
    command: v.pipe(
      commandLine(),
      v.description(
        "The command line, split into words like a shell does (quotes, backslashes) but never run through " +
          'a shell: no $VAR, ~, globs, pipes or redirections. CoScale scripts get "-c" or "-d" appended.',
      ),
    ),
    id: v.optional(
      v.pipe(
        v.string(ID_EXPECTED),
        v.nonEmpty(ID_EXPECTED),
        v.description(
          'The script\'s identity: the value of the "script" label on its metrics and self-metrics. ' +
            'Default: the script file\'s name without extension ("python3 /srv/web_check.py" → "web_check").',
        ),
      ),
    ),
    format: v.optional(
      v.pipe(
        v.picklist(SCRIPT_FORMATS, 'one of "coscale", "nagios", "prometheus" or "influx"'),
        v.description(
          'What the script prints: "coscale" (the CoScale generic-script protocol), "nagios" (plugin ' +
            'status and perfdata), "prometheus" (text exposition) or "influx" (line protocol).',
        ),
      ),
      "coscale",
    ),
    period: v.optional(
      v.pipe(
        duration({ min: 100, max: 86_400_000 }),
        v.description(
          'How often the script runs; at least min_period. Default: the "period" a CoScale script ' +
            "declares, else 60s.",
        ),
      ),
    ),
    timeout: v.optional(
      v.pipe(
        duration({ min: 100, max: MAX_TIMEOUT_MS }),
        v.description(
          "The hard limit of one run (at most 60s); overrides the input's timeout. A CoScale script's " +
            '"maxruntime" can lower it, never raise it.',
        ),
      ),
    ),
    env: v.optional(
      v.pipe(
        environment(),
        v.description("Environment variables for this script, on top of the input's env."),
      ),
    ),
    cwd: v.optional(
      v.pipe(
        v.string("a directory path"),
        v.nonEmpty("a non-empty directory path"),
        v.description("The working directory; default: tally's own."),
      ),
    ),
    user: v.optional(
      v.pipe(
        v.string("a user name"),
        v.nonEmpty("a non-empty user name"),
        v.description(
          'The user to run as when tally runs as root (a name, a uid or "uid:gid"); overrides the input\'s user.',
        ),
      ),
    ),
    labels: v.optional(
      v.pipe(
        v.record(
          v.pipe(
            v.string(),
            v.regex(LABEL_NAME_REGEXP, "a label name like env or host_group"),
            v.check((name) => !RESERVED_LABELS.has(name), 'a label name other than "script"'),
          ),
          v.string("a string"),
          "a table of labels",
        ),
        v.description("Extra labels on everything the script reports."),
      ),
    ),
    precision: v.optional(
      v.pipe(
        v.picklist(["ns", "us", "ms", "s", "m", "h"], 'one of "ns", "us", "ms", "s", "m" or "h"'),
        v.description('The timestamp precision of "influx" output; default "ns".'),
      ),
    ),
  }, "a table"),
  v.transform(function withId(script) {
    return { ...script, id: script.id ?? scriptId(script.command) };
  }),
);

/**
 * The valibot schema of an `[inputs.<id>]` table with `type = "scripts"` (without `type`).
 *
 * Output: each script's `command` is its argv (split), `id` is always set, durations are in ms and sizes
 * in bytes.
 */
export const schema = v.pipe(
  v.strictObject({
    scripts: v.pipe(
      v.array(SCRIPT_SCHEMA, "an array of script tables"),
      v.minLength(1, 'at least one script like { command = "/etc/tally/scripts/check.sh" }'),
      v.description("The scripts, each a table; only command is required."),
    ),
    min_period: v.optional(
      v.pipe(
        duration({ min: 100, max: 86_400_000 }),
        v.description(
          "The shortest period any script may run at; a CoScale script declaring less is raised to it. " +
            "Lower it only for testing.",
        ),
      ),
      "60s",
    ),
    timeout: v.optional(
      v.pipe(
        duration({ min: 100, max: MAX_TIMEOUT_MS }),
        v.description(
          "The hard limit of one run (at most 60s): SIGTERM to the script's process group shortly before, " +
            'SIGKILL at it. A CoScale script\'s "maxruntime" can lower it, never raise it.',
        ),
      ),
      "5s",
    ),
    max_concurrent: v.optional(
      v.pipe(
        v.number(CONCURRENCY_EXPECTED),
        v.integer(CONCURRENCY_EXPECTED),
        v.minValue(1, CONCURRENCY_EXPECTED),
        v.maxValue(256, CONCURRENCY_EXPECTED),
        v.description(
          "The most runs at once; a run waits for a slot until its next run is due, then it is skipped and " +
            "counted.",
        ),
      ),
      8,
    ),
    max_stdout: v.optional(
      v.pipe(
        size({ min: KIB, max: 64 * MIB }),
        v.description("The most stdout kept per run; a script printing more is killed and its output cut."),
      ),
      MIB,
    ),
    max_stderr: v.optional(
      v.pipe(
        size({ min: 0, max: MIB }),
        v.description("The most stderr kept per run (for the rate-limited log line); more is discarded."),
      ),
      64 * KIB,
    ),
    user: v.optional(
      v.pipe(
        v.string("a user name"),
        v.nonEmpty("a non-empty user name"),
        v.description(
          'The user scripts run as when tally runs as root: a name from /etc/passwd, a uid or "uid:gid". ' +
            "Ignored when tally does not run as root.",
        ),
      ),
      "nobody",
    ),
    env: v.optional(
      v.pipe(
        environment(),
        v.description(
          "Environment variables for every script. Scripts get only these and PATH " +
            '("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" unless set here).',
        ),
      ),
      {},
    ),
  }, "a table"),
  v.rawCheck(function checkScripts({ dataset, addIssue }): void {
    if (!dataset.typed) return;
    const config = dataset.value;
    const seen = new Map<string, number>();
    config.scripts.forEach((script, index) => {
      const first = seen.get(script.id);
      if (first !== undefined) {
        addIssue({
          message: `a unique script id (scripts[${first}] has id "${script.id}" too; set id on one of them)`,
          input: script.id,
          path: scriptPath(config, index, "id", script.id),
        });
      }
      seen.set(script.id, index);
      if (script.period !== undefined && script.period < config.min_period) {
        addIssue({
          message: `a period of at least min_period ("${formatDuration(config.min_period)}")`,
          input: formatDuration(script.period),
          path: scriptPath(config, index, "period", script.period),
        });
      }
    });
  }),
  v.description(
    "A scripts input: runs scripts on a schedule in a sandbox and reads what they print " +
      "(see src/inputs/scripts/README.md).",
  ),
);

/** The validated config of a `scripts` input. */
export type ScriptsConfig = v.InferOutput<typeof schema>;

/** The validated config of one script. */
export type ScriptConfig = ScriptsConfig["scripts"][number];

/**
 * A complete example: a CoScale script, a Python CoScale script with its own settings, and a Nagios
 * plugin. It is what `tally config example scripts` prints and what the README's config block shows.
 */
export const example: v.InferInput<typeof schema> = {
  scripts: [
    { command: "/etc/tally/scripts/lvs-check.sh" },
    {
      command: "python3 /etc/tally/scripts/web_check.py",
      id: "web",
      period: "5m",
      timeout: "20s",
      env: { TARGET: "https://example.com" },
      labels: { team: "web" },
    },
    {
      command: "/usr/lib/nagios/plugins/check_load -w 5,4,3 -c 10,8,6",
      id: "load",
      format: "nagios",
      period: "1m",
    },
  ],
  min_period: "60s",
  timeout: "5s",
  max_concurrent: 8,
  max_stdout: "1MiB",
  max_stderr: "64KiB",
  user: "nobody",
  env: {},
};

/**
 * The default id of a script: its file name without extension, the script argument's for an
 * interpreter (`python3 /srv/web_check.py -v` → `web_check`), else the command's (`check_load`).
 *
 * @param argv The split command line.
 * @returns The id; `script` when nothing usable is found.
 */
export function scriptId(argv: readonly string[]): string {
  const command = basename(argv[0] ?? "");
  let file = command;
  if (INTERPRETER_REGEXP.test(command)) {
    // `sh -c 'code'` has inline code, not a script file: then the interpreter names it.
    const script = argv.slice(1).find((arg) => !arg.startsWith("-"));
    if (script !== undefined && FILE_ARGUMENT_REGEXP.test(script)) file = basename(script);
  }
  const stem = file.replace(/\.[A-Za-z0-9]{1,4}$/, "");
  return stem === "" ? "script" : stem;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** The issue path of `scripts[index].key`, so a message reads "at inputs.<id>.scripts[1].period". */
function scriptPath(config: ScriptsConfig, index: number, key: string, value: unknown) {
  const script = config.scripts[index];
  return [
    { type: "object", origin: "value", input: config, key: "scripts", value: config.scripts },
    { type: "array", origin: "value", input: config.scripts, key: index, value: script },
    { type: "object", origin: "value", input: script, key, value },
  ] as [v.ObjectPathItem, v.ArrayPathItem, v.ObjectPathItem];
}
