/**
 * `tally push`: sends metrics to a running agent, from arguments (`NAME=VALUE[,LABEL=VALUE…]`) or from
 * standard input in one of four formats (StatsD, Influx line protocol, JSON, the CoScale `data insert`
 * grammar), in order, in bodies that stay under the agent's body limit.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { AgentClient, AgentError } from "./_agent_client.ts";
import type { AgentIssue } from "./_agent_client.ts";
import { AGENT_OPTIONS, AGENT_USAGE, agentSettings } from "./_agent_settings.ts";
import { DEFAULT_METRIC_TYPE, isMetricType, METRIC_TYPES, parseMetricArg } from "./_push_args.ts";
import type { PushMetric } from "./_push_args.ts";
import { INFLUX_PRECISIONS, STDIN_FORMATS, stdinRequests, TEXT_BATCH_BYTES } from "./_stdin_requests.ts";
import type { InfluxPrecision, StdinFormat, StdinProblem, StdinRequest } from "./_stdin_requests.ts";
import { Progress } from "./_progress.ts";
import type { CliIo } from "./cli_io.ts";

/** The CoScale application id used in the URL when `--app-id` is not given. */
export const DEFAULT_APP_ID = "default";
/** An issue path of a push body: `metrics[3].value` → 3 and `value`. */
const METRIC_PATH_REGEXP = /^metrics\[(\d+)\]\.?(.*)$/;
/** Malformed input lines reported one by one; past that, only their number. */
const PROBLEMS_SHOWN = 10;

const USAGE = `Usage: tally push [options] NAME=VALUE[,LABEL=VALUE...] ...
       tally push --stdin [--format statsd|influx|json|coscale] [options]

Sends metrics to a running agent ("tally run"). Each NAME=VALUE argument is one metric, and the pairs
after it are its labels: temperature=21.5,room=kitchen. A backslash escapes "," and "=".

With --stdin, reads standard input in the given format and sends it in order, in gzipped bodies of at
most 512 KiB, showing progress on stderr when stderr is a terminal:
  statsd    StatsD lines, any dialect the StatsD input takes (POST /api/v1/statsd); the default
  influx    Influx line protocol (POST /write)
  json      one metric per line ({"name","type","value","labels","timestamp"}), or an array of them,
            or a whole {"metrics":[...]} body; or the input as one such document (POST /api/v1/push)
  coscale   the CoScale CLI's "data insert" grammar: M1:S100:-60:1.2;M2:A:[-60:1,0:2]
            (POST /api/v1/app/APP_ID/data/, form cdata; logs in first when a token is set)
Malformed JSON lines and CoScale entries are reported and skipped; the rest is sent.

Options:
  -t, --type TYPE        the type of NAME=VALUE metrics: ${DEFAULT_METRIC_TYPE} (default), ${
  METRIC_TYPES.filter((t) => t !== DEFAULT_METRIC_TYPE).slice(0, 2).join(", ")
},
                         ${METRIC_TYPES.filter((t) => t !== DEFAULT_METRIC_TYPE).slice(2).join(", ")}
      --stdin            read metrics from standard input
  -f, --format FORMAT    the --stdin format (default statsd)
      --precision UNIT   influx: the timestamps' unit, ns (default), us, ms or s
      --app-id ID        coscale: the application id in the URL (default "${DEFAULT_APP_ID}")
${AGENT_USAGE}  -h, --help             show this help

Examples:
  tally push deploys=1,env=prod --type counter
  echo "queue.depth:42|g|#queue:mail" | tally push --stdin

Exit codes: 0 all sent; 1 the agent was unreachable or refused data, or input was malformed (the rest
was sent); 2 usage error.
`;

/**
 * Runs `tally push`.
 *
 * @param args The arguments after `push`.
 * @param io Output streams, environment (`TALLY_URL`, `TALLY_TOKEN`), standard input and the shutdown signal.
 * @returns 0 when everything was sent, 1 on a runtime failure or malformed input, 2 on a usage error.
 */
export async function push(args: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        type: { type: "string", short: "t" },
        stdin: { type: "boolean" },
        format: { type: "string", short: "f" },
        precision: { type: "string" },
        "app-id": { type: "string" },
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

  if (flags.stdin === true) {
    if (parsed.positionals.length > 0) {
      return usageError(
        io,
        `Expected either NAME=VALUE arguments or --stdin, got both ("${parsed.positionals[0]}")`,
      );
    }
    if (flags.type !== undefined) {
      return usageError(io, "--type applies to NAME=VALUE arguments, not to --stdin");
    }
    const format = flags.format ?? "statsd";
    if (!(STDIN_FORMATS as readonly string[]).includes(format)) {
      return usageError(io, `Invalid --format "${format}": expected one of ${STDIN_FORMATS.join(", ")}`);
    }
    const precision = flags.precision ?? "ns";
    if (!(INFLUX_PRECISIONS as readonly string[]).includes(precision)) {
      return usageError(
        io,
        `Invalid --precision "${precision}": expected one of ${INFLUX_PRECISIONS.join(", ")}`,
      );
    }
    if (flags.precision !== undefined && format !== "influx") {
      return usageError(io, "--precision applies to --format influx");
    }
    if (flags["app-id"] !== undefined && format !== "coscale") {
      return usageError(io, "--app-id applies to --format coscale");
    }
    const appId = flags["app-id"] ?? DEFAULT_APP_ID;
    if (appId === "") return usageError(io, 'Invalid --app-id "": expected an application id');
    const client = new AgentClient(settings.settings, { print: io.stdout, signal: io.shutdown });
    try {
      return await pushStdin(client, io, format as StdinFormat, {
        precision: precision as InfluxPrecision,
        appId,
        token: settings.settings.token,
      });
    } finally {
      await client.close();
    }
  }

  for (
    const [flag, value] of [["--format", flags.format], ["--precision", flags.precision], [
      "--app-id",
      flags["app-id"],
    ]]
  ) {
    if (value !== undefined) return usageError(io, `${flag} applies to --stdin`);
  }
  if (parsed.positionals.length === 0) return usageError(io, "Expected NAME=VALUE arguments or --stdin");
  const type = flags.type ?? DEFAULT_METRIC_TYPE;
  if (!isMetricType(type)) {
    return usageError(io, `Invalid --type "${type}": expected one of ${METRIC_TYPES.join(", ")}`);
  }
  const metrics: PushMetric[] = [];
  for (const arg of parsed.positionals) {
    const metric = parseMetricArg(arg, type);
    if (metric.kind === "error") return usageError(io, metric.message);
    metrics.push(metric.metric);
  }
  const client = new AgentClient(settings.settings, { print: io.stdout, signal: io.shutdown });
  try {
    await client.send({
      method: "POST",
      path: "/api/v1/push",
      contentType: "application/json",
      body: JSON.stringify({ metrics }),
    }, "push to");
    return 0;
  } catch (error) {
    if (!(error instanceof AgentError)) throw error;
    const origins = parsed.positionals.map((arg, i) => `argument ${i + 1} "${arg}"`);
    io.stderr(`tally push: ${error.message}\n${issueLines(error.issues, origins)}`);
    return 1;
  } finally {
    await client.close();
  }
}

/** Sends standard input in `format`, one request in flight while the next is read and compressed. */
async function pushStdin(
  client: AgentClient,
  io: CliIo,
  format: StdinFormat,
  options: { readonly precision: InfluxPrecision; readonly appId: string; readonly token: string },
): Promise<number> {
  const { precision, appId } = options;
  const progress = new Progress(io, { quiet: client.dryRun });
  let problems = 0;
  function onProblem(problem: StdinProblem): void {
    if (++problems <= PROBLEMS_SHOWN) {
      progress.clear();
      io.stderr(`tally push: ${problem.message}\n`);
    }
  }
  const coscale = format === "coscale" ? new CoscaleSession(client, appId, options.token) : undefined;
  const sendOne = async (item: StdinRequest): Promise<void> => {
    if (coscale === undefined) await client.send(item.request, "push to");
    else await coscale.send(item.request);
    progress.sent(item.lastLine, item.request.body?.length ?? 0);
  };

  let sentThrough = 0;
  let inflight: { item: StdinRequest; outcome: Promise<unknown> } | undefined;
  const failed = async (): Promise<number | undefined> => {
    if (inflight === undefined) return undefined;
    const { item, outcome } = inflight;
    inflight = undefined;
    const error = await outcome;
    if (error === undefined) {
      sentThrough = item.lastLine;
      return undefined;
    }
    if (!(error instanceof AgentError)) throw error;
    progress.clear();
    const sent = sentThrough === 0 ? "nothing was sent" : `lines 1-${sentThrough} were sent`;
    const limit = error.status === 413
      ? `tally push: --stdin sends bodies of up to ${
        TEXT_BATCH_BYTES / 1024
      } KiB; the agent's http.max_body must ` +
        "be at least that (default 1 MiB)\n"
      : "";
    io.stderr(
      `tally push: ${error.message}\n${issueLines(error.issues, item.origins ?? [])}${limit}` +
        `tally push: stopped at lines ${item.firstLine}-${item.lastLine}; ${sent}\n`,
    );
    return 1;
  };
  try {
    for await (const item of stdinRequests(io.stdin ?? NO_INPUT, format, { precision, appId, onProblem })) {
      const code = await failed();
      if (code !== undefined) return code;
      if (io.shutdown.aborted) {
        progress.clear();
        io.stderr(
          `tally push: interrupted; ${
            sentThrough === 0 ? "nothing was sent" : `lines 1-${sentThrough} were sent`
          }\n`,
        );
        return 1;
      }
      inflight = { item, outcome: sendOne(item).then(() => undefined, (error: unknown) => error) };
    }
    const code = await failed();
    if (code !== undefined) return code;
  } finally {
    progress.done();
  }
  if (problems > PROBLEMS_SHOWN) {
    io.stderr(`tally push: ${problems - PROBLEMS_SHOWN} more malformed lines not shown\n`);
  }
  if (problems > 0) {
    io.stderr(`tally push: ${problems} malformed ${problems === 1 ? "entry was" : "entries were"} skipped\n`);
    return 1;
  }
  return 0;
}

/**
 * CoScale's authentication: `login/` with the access token gives a token for the `HTTPAuthorization`
 * header; on a 401 the CoScale CLI logs in again and retries once, and so does this.
 */
class CoscaleSession {
  readonly #client: AgentClient;
  readonly #appId: string;
  readonly #accessToken: string;
  #token: string | undefined;

  constructor(client: AgentClient, appId: string, accessToken: string) {
    this.#client = client;
    this.#appId = appId;
    this.#accessToken = accessToken;
  }

  async send(request: StdinRequest["request"]): Promise<void> {
    for (let attempt = 0;; attempt++) {
      const token = await this.#login();
      try {
        await this.#client.send(
          { ...request, headers: token === "" ? {} : { httpauthorization: token } },
          "push to",
        );
        return;
      } catch (error) {
        if (!(error instanceof AgentError) || error.status !== 401 || token === "" || attempt > 0) {
          throw error;
        }
        this.#token = undefined;
      }
    }
  }

  /** The session token; empty without an access token (`--token`/`TALLY_TOKEN`) to log in with. */
  async #login(): Promise<string> {
    if (this.#token !== undefined) return this.#token;
    const accessToken = this.#accessToken;
    if (accessToken === "") return (this.#token = "");
    const reply = await this.#client.send({
      method: "POST",
      path: `/api/v1/app/${encodeURIComponent(this.#appId)}/login/`,
      contentType: "application/x-www-form-urlencoded",
      body: new URLSearchParams({ accessToken }).toString(),
      shownBody: "accessToken=***",
    }, "log in to");
    if (reply === undefined) return (this.#token = "<token from login/>");
    const token = (reply.json as { token?: unknown } | undefined)?.token;
    if (typeof token !== "string" || token === "") {
      throw new AgentError(`Cannot log in to ${this.#client.url}: the answer carries no "token"`);
    }
    return (this.#token = token);
  }
}

/**
 * The agent's 400 issues, one per line, with `metrics[i]` replaced by where metric i came from.
 */
function issueLines(issues: readonly AgentIssue[], origins: readonly string[]): string {
  let text = "";
  for (const issue of issues) {
    const m = METRIC_PATH_REGEXP.exec(issue.path);
    const origin = m === null ? undefined : origins[Number(m[1])];
    const where = origin === undefined ? issue.path : m![2] === "" ? origin : `${origin}, ${m![2]}`;
    text += `  ${where}: ${issue.message}\n`;
  }
  return text;
}

/** Standard input when the process has none to give. */
const NO_INPUT: AsyncIterable<Uint8Array> = {
  [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ done: true, value: undefined }) }),
};

function usageError(io: CliIo, message: string): number {
  io.stderr(`tally push: ${message}\n\n${USAGE}`);
  return 2;
}
