/**
 * `tally event MESSAGE`: sends one event, with a start and an end, to a running agent and prints its id.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { AgentClient, AgentError } from "./_agent_client.ts";
import { AGENT_OPTIONS, AGENT_USAGE, agentSettings, joinNegativeValues } from "./_agent_settings.ts";
import { resolveCoscaleTime } from "./_coscale_time.ts";
import type { CliIo } from "./cli_io.ts";

const USAGE = `Usage: tally event MESSAGE [options]

Sends one event to the running agent ("tally run") and prints its id. Times are the CoScale CLI's:
0 is now, a negative number is that many seconds ago, a positive one is Unix time in seconds.

Options:
      --title TITLE      the event's title, MESSAGE then being its text (default: MESSAGE is the title)
      --start SECONDS    when it began (default: now)
      --end SECONDS      when it ended (default: its start, an instant event)
  -a, --attr KEY=VALUE   an attribute, repeatable
${AGENT_USAGE}  -h, --help             show this help

Example:
  tally event "Deployed v1.2" --start -300 --end 0 --attr env=prod

Exit codes: 0 sent, 1 the agent was unreachable or refused the event, 2 usage error.
`;

/** The flags whose value may be a negative number of seconds. */
const TIME_FLAGS = ["--start", "--end"];
const TIME_EXPECTED = "expected seconds: 0 now, negative for seconds ago, positive for Unix time";

/** One event of a `POST /api/v1/events` body. */
interface EventBody {
  readonly title: string;
  readonly text?: string;
  readonly start?: number;
  readonly end?: number;
  readonly labels?: Readonly<Record<string, string>>;
}

/**
 * Runs `tally event`.
 *
 * @param args The arguments after `event`.
 * @param io Output streams, environment (`TALLY_URL`, `TALLY_TOKEN`) and the shutdown signal.
 * @returns 0 when the event was sent, 1 on a runtime failure, 2 on a usage error.
 */
export async function event(args: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(args, TIME_FLAGS),
      allowPositionals: true,
      options: {
        title: { type: "string" },
        start: { type: "string" },
        end: { type: "string" },
        attr: { type: "string", short: "a", multiple: true },
        help: { type: "boolean", short: "h" },
        ...AGENT_OPTIONS,
      },
    });
  } catch (error) {
    return usageError(io, (error as Error).message);
  }
  const flags = parsed.values;
  if (flags.help === true) {
    io.stdout(USAGE);
    return 0;
  }
  const settings = agentSettings(flags, io.env);
  if (settings.kind === "error") return usageError(io, settings.message);
  if (parsed.positionals.length !== 1) {
    return usageError(
      io,
      parsed.positionals.length === 0
        ? "Expected a MESSAGE"
        : `Expected one MESSAGE (quote it), got ${parsed.positionals.length}: ${
          parsed.positionals.join(" ")
        }`,
    );
  }
  const message = parsed.positionals[0]!;
  if (message.trim() === "") return usageError(io, "The MESSAGE is empty");
  if (flags.title !== undefined && flags.title.trim() === "") return usageError(io, "The --title is empty");

  const nowMs = Date.now();
  let start: number | undefined;
  let end: number | undefined;
  for (const [flag, text] of [["--start", flags.start], ["--end", flags.end]] as const) {
    if (text === undefined) continue;
    const ms = resolveCoscaleTime(text, nowMs);
    if (ms === undefined) return usageError(io, `Invalid ${flag} "${text}": ${TIME_EXPECTED}`);
    if (flag === "--start") start = ms;
    else end = ms;
  }
  // An end alone still needs a start to span from: now, as CoScale's default timestamp 0.
  if (end !== undefined && start === undefined) start = nowMs;
  if (start !== undefined && end !== undefined && end < start) {
    return usageError(io, `--end "${flags.end}" is before --start "${flags.start ?? "0"}"`);
  }
  const labels: [string, string][] = [];
  for (const pair of flags.attr ?? []) {
    const eq = pair.indexOf("=");
    if (eq <= 0) return usageError(io, `Invalid --attr "${pair}": expected KEY=VALUE`);
    const key = pair.slice(0, eq);
    if (labels.some(([k]) => k === key)) return usageError(io, `--attr "${key}" is given twice`);
    labels.push([key, pair.slice(eq + 1)]);
  }

  const body: EventBody = {
    title: flags.title ?? message,
    ...(flags.title === undefined ? {} : { text: message }),
    ...(start === undefined ? {} : { start }),
    ...(end === undefined ? {} : { end }),
    // fromEntries defines own properties, so an attribute named "__proto__" stays one.
    ...(labels.length === 0 ? {} : { labels: Object.fromEntries(labels) }),
  };
  const client = new AgentClient(settings.settings, { print: io.stdout, signal: io.shutdown });
  try {
    const reply = await client.send({
      method: "POST",
      path: "/api/v1/events",
      contentType: "application/json",
      body: JSON.stringify({ events: [body] }),
    }, "send the event to");
    if (reply === undefined) return 0;
    const ids = (reply.json as { ids?: unknown } | undefined)?.ids;
    if (Array.isArray(ids)) { for (const id of ids) io.stdout(`${String(id)}\n`); }
    return 0;
  } catch (error) {
    if (!(error instanceof AgentError)) throw error;
    io.stderr(`tally event: ${error.message}\n`);
    for (const issue of error.issues) {
      io.stderr(`  ${issue.path.replace(/^events\[0\]\.?/, "") || "event"}: ${issue.message}\n`);
    }
    return 1;
  } finally {
    await client.close();
  }
}

function usageError(io: CliIo, message: string): number {
  io.stderr(`tally event: ${message}\n\n${USAGE}`);
  return 2;
}
