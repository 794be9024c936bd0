/**
 * The flags every command that talks to a running agent shares (`push`, `event`, `wrap`): where the agent
 * is, the token, the timeouts, and `--dry-run`; with `TALLY_URL`/`TALLY_TOKEN` as fallbacks.
 *
 * @module
 */

import { formatDuration, parseDuration } from "../config/duration.ts";

/** Where `tally run` serves HTTP with the embedded defaults. */
export const DEFAULT_AGENT_URL = "http://127.0.0.1:8127";
/** The bound on one request: connecting, then the answer's headers, then each pause in its body. */
export const DEFAULT_TIMEOUT_MS = 10_000;
/** How long the CLI keeps retrying while the agent is starting (connection refused, or 503). */
export const DEFAULT_WAIT_MS = 5_000;

/** What starts a negative number: a value, not a flag. */
const NEGATIVE_NUMBER_REGEXP = /^-\d/;

/** The `node:util` parseArgs options for the shared flags. */
export const AGENT_OPTIONS = {
  url: { type: "string" },
  token: { type: "string" },
  timeout: { type: "string" },
  wait: { type: "string" },
  "dry-run": { type: "boolean" },
} as const;

/** The shared flags' lines for a command's `--help`. */
export const AGENT_USAGE = `      --url URL          the agent, default $TALLY_URL or ${DEFAULT_AGENT_URL}
      --token TOKEN      the agent's http.token, default $TALLY_TOKEN
      --timeout DUR      the bound on each request (default ${formatDuration(DEFAULT_TIMEOUT_MS)})
      --wait DUR         how long to keep retrying while the agent starts: connection refused or
                         503 (default ${formatDuration(DEFAULT_WAIT_MS)}; 0s fails at once)
      --dry-run          print each request (method, URL, headers with the token masked, the body
                         before compression) instead of sending it
`;

/** The shared flags as parseArgs returns them. */
export interface AgentFlagValues {
  /** `--url`. */
  readonly url?: string | undefined;
  /** `--token`. */
  readonly token?: string | undefined;
  /** `--timeout`. */
  readonly timeout?: string | undefined;
  /** `--wait`. */
  readonly wait?: string | undefined;
  /** `--dry-run`. */
  readonly "dry-run"?: boolean | undefined;
}

/** Where and how to reach the agent, resolved from the flags and the environment. */
export interface AgentSettings {
  /** The base URL without a trailing slash, e.g. `http://127.0.0.1:8127`. */
  readonly url: string;
  /** The bearer token; empty for none. */
  readonly token: string;
  /** The bound on each request, in ms. */
  readonly timeoutMs: number;
  /** How long to retry while the agent starts, in ms. */
  readonly waitMs: number;
  /** Print the requests instead of sending them. */
  readonly dryRun: boolean;
}

/** The settings, or a usage error. */
export type AgentSettingsResult =
  | { readonly kind: "settings"; readonly settings: AgentSettings }
  | { readonly kind: "error"; readonly message: string };

/**
 * Resolves the shared flags: a flag wins over its environment variable, which wins over the default.
 *
 * @param values The parsed flags.
 * @param env The environment (`TALLY_URL`, `TALLY_TOKEN`).
 * @returns The settings, or a usage error naming the flag and the value found.
 */
export function agentSettings(
  values: AgentFlagValues,
  env: Readonly<Record<string, string | undefined>>,
): AgentSettingsResult {
  const rawUrl = values.url ?? nonEmpty(env["TALLY_URL"]) ?? DEFAULT_AGENT_URL;
  const source = values.url !== undefined ? "--url" : env["TALLY_URL"] ? "TALLY_URL" : "the default URL";
  const url = normalizeUrl(rawUrl);
  if (url === undefined) {
    return error(`Invalid ${source} "${rawUrl}": expected http://HOST:PORT or https://HOST:PORT`);
  }
  const timeoutMs = parseDuration(values.timeout ?? formatDuration(DEFAULT_TIMEOUT_MS));
  if (timeoutMs === undefined || timeoutMs === 0) {
    return error(
      `Invalid --timeout "${values.timeout}": expected a duration above zero like "10s" or "500ms"`,
    );
  }
  const waitMs = parseDuration(values.wait ?? formatDuration(DEFAULT_WAIT_MS));
  if (waitMs === undefined) {
    return error(`Invalid --wait "${values.wait}": expected a duration like "5s", or "0s" not to wait`);
  }
  return {
    kind: "settings",
    settings: {
      url,
      token: values.token ?? env["TALLY_TOKEN"] ?? "",
      timeoutMs,
      waitMs,
      dryRun: values["dry-run"] === true,
    },
  };
}

/**
 * Joins `--flag -300` into `--flag=-300` for the named flags, so parseArgs takes a negative number as the
 * flag's value instead of refusing it as ambiguous (`tally event --start -300`).
 *
 * @param args The arguments.
 * @param flags The flags whose values may be negative numbers, e.g. `["--start", "--end"]`.
 * @returns The arguments with those pairs joined; anything after `--` is left alone.
 */
export function joinNegativeValues(args: readonly string[], flags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      out.push(...args.slice(i));
      break;
    }
    const next = args[i + 1];
    if (flags.includes(arg) && next !== undefined && NEGATIVE_NUMBER_REGEXP.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** An http(s) base URL without path, query or trailing slash; a bare `HOST:PORT` means http. */
function normalizeUrl(text: string): string | undefined {
  const withScheme = text.includes("://") ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  if (url.search !== "" || url.hash !== "" || url.username !== "" || url.password !== "") return undefined;
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === "" ? undefined : text;
}

function error(message: string): AgentSettingsResult {
  return { kind: "error", message };
}
