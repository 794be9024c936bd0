/**
 * The CLI's HTTP client for a running agent (`tally run`): bounded requests, retries while the agent is
 * starting, errors that say what failed and what was found, and `--dry-run`.
 *
 * Retrying is limited to what is safe to repeat: a refused connection (nothing was sent) and a 503 (the
 * agent said it took nothing). Before each retry it waits, with backoff and jitter, for `GET /readyz` to
 * answer 200, all within the `--wait` bound. A timeout or a connection dropped mid-request is never
 * retried: the agent may have taken the data, and a counter must not count twice.
 *
 * @module
 */

import { STATUS_CODES } from "node:http";
import { gzipSync } from "node:zlib";
// The file path, not the bare "undici": Bun swaps a bare `undici` import for its own stub.
import { Agent, request } from "undici/index.js";
import { backoffDelay, DEFAULT_BACKOFF } from "./_backoff.ts";
import type { AgentSettings } from "./_agent_settings.ts";
import { VERSION } from "../internal/version.ts";

/** One request to the agent. */
export interface AgentRequest {
  /** The method. */
  readonly method: "GET" | "POST";
  /** The path and query, e.g. `/write?precision=s`. */
  readonly path: string;
  /** The body's content type. */
  readonly contentType?: string;
  /** The body, uncompressed. */
  readonly body?: string | Uint8Array;
  /** Send the body gzipped (`Content-Encoding: gzip`); the agent takes gzip on every POST. */
  readonly gzip?: boolean;
  /** More headers, e.g. CoScale's `HTTPAuthorization`. */
  readonly headers?: Readonly<Record<string, string>>;
  /** What `--dry-run` shows as the body, when the body itself is not readable (CoScale's `cdata`). */
  readonly shownBody?: string;
}

/** The agent's answer to a request it accepted (2xx). */
export interface AgentReply {
  /** The status code. */
  readonly status: number;
  /** The body parsed as JSON, or `undefined` when it is empty or not JSON. */
  readonly json: unknown;
}

/** One field the agent refused in a 400 (`issues` of the contract's JSON errors). */
export interface AgentIssue {
  /** Where, e.g. `metrics[3].value`. */
  readonly path: string;
  /** What is wrong. */
  readonly message: string;
}

/** A request the agent did not accept, or that never reached it. */
export class AgentError extends Error {
  /** The status the agent answered, or `undefined` when there was no answer. */
  readonly status: number | undefined;
  /** The fields a 400 named. */
  readonly issues: readonly AgentIssue[];

  /**
   * @param message What failed and the state found.
   * @param options The status the agent answered, the fields it named, and the cause.
   */
  constructor(
    message: string,
    options: ErrorOptions & { readonly status?: number; readonly issues?: readonly AgentIssue[] } = {},
  ) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = "AgentError";
    this.status = options.status;
    this.issues = options.issues ?? [];
  }
}

/** What an {@link AgentClient} needs besides the settings. */
export interface AgentClientOptions {
  /** Where `--dry-run` prints the requests. */
  readonly print: (s: string) => void;
  /** Aborts waits and requests (Ctrl-C). */
  readonly signal?: AbortSignal;
  /** The clock, `Date.now` by default. */
  readonly now?: () => number;
  /** The jitter source, `Math.random` by default. */
  readonly random?: () => number;
  /** Pauses between retries; a timer by default. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** The first letter of each word of a header name. */
const HEADER_WORD_REGEXP = /(^|-)([a-z])/g;
/** The gzip level for request bodies: loopback is fast, so speed beats the last percent of ratio. */
const GZIP_LEVEL = 1;

/** The agent's HTTP client: one connection pool, closed by {@link AgentClient.close}. */
export class AgentClient {
  readonly #settings: AgentSettings;
  readonly #options: AgentClientOptions;
  readonly #dispatcher: Agent;
  #printed = 0;

  /**
   * @param settings The URL, token, timeouts, wait bound and dry-run switch.
   * @param options The dry-run printer, the abort signal and, for tests, the clock, jitter and sleep.
   */
  constructor(settings: AgentSettings, options: AgentClientOptions) {
    this.#settings = settings;
    this.#options = options;
    this.#dispatcher = new Agent({
      connectTimeout: settings.timeoutMs,
      headersTimeout: settings.timeoutMs,
      bodyTimeout: settings.timeoutMs,
    });
  }

  /** The agent's base URL. */
  get url(): string {
    return this.#settings.url;
  }

  /** Whether requests are printed instead of sent. */
  get dryRun(): boolean {
    return this.#settings.dryRun;
  }

  /**
   * Sends a request, retrying while the agent starts (see the module doc), or prints it under `--dry-run`.
   *
   * @param req The request.
   * @param action What the request does, for errors: `"push to"` makes `Cannot push to <URL>: …`.
   * @returns The agent's reply, or `undefined` under `--dry-run`.
   * @throws {AgentError} When the agent cannot be reached within the bounds or answers other than 2xx.
   */
  async send(req: AgentRequest, action: string): Promise<AgentReply | undefined> {
    const url = this.#settings.url + req.path;
    const headers = this.#headers(req);
    if (this.#settings.dryRun) {
      this.#print(req, url, headers);
      return undefined;
    }
    const body = req.body === undefined
      ? undefined
      : req.gzip === true
      ? gzipSync(req.body, { level: GZIP_LEVEL })
      : req.body;
    const now = this.#options.now ?? Date.now;
    const deadline = now() + this.#settings.waitMs;
    let attempt = 0;
    for (;;) {
      let state: string;
      let hint = "";
      try {
        const response = await request(url, {
          method: req.method,
          headers,
          ...(body === undefined ? {} : { body }),
          dispatcher: this.#dispatcher,
          ...(this.#options.signal === undefined ? {} : { signal: this.#options.signal }),
        });
        const text = await response.body.text();
        const json = parseJson(text);
        if (response.statusCode >= 200 && response.statusCode < 300) {
          return { status: response.statusCode, json };
        }
        if (response.statusCode !== 503) throw statusError(action, url, response.statusCode, json, text);
        state = `the agent answered 503 (${errorText(json, text) ?? "not ready"})`;
      } catch (error) {
        if (error instanceof AgentError) throw error;
        if (!isRefused(error)) {
          throw new AgentError(`Cannot ${action} ${url}: ${describeFailure(error, this.#settings)}`, {
            cause: error,
          });
        }
        state = "connection refused";
        hint = ' (is "tally run" running?)';
      }
      if (this.#options.signal?.aborted === true) {
        throw new AgentError(`Cannot ${action} ${url}: interrupted`);
      }
      if (now() >= deadline) {
        const retried = attempt > 0 ? `, still after retrying for ${seconds(this.#settings.waitMs)}` : "";
        throw new AgentError(`Cannot ${action} ${url}: ${state}${retried}${hint}`);
      }
      attempt = await this.#waitUntilReady(deadline, attempt);
    }
  }

  /** Closes the connection pool. */
  async close(): Promise<void> {
    await this.#dispatcher.close();
  }

  /** Polls `/readyz` with backoff until it answers 200 or the deadline passes; returns the attempts made. */
  async #waitUntilReady(deadline: number, attempt: number): Promise<number> {
    const now = this.#options.now ?? Date.now;
    const sleep = this.#options.sleep ?? pause;
    const random = this.#options.random ?? Math.random;
    for (;;) {
      const left = deadline - now();
      if (left <= 0) return attempt + 1;
      await sleep(
        Math.min(left, backoffDelay(attempt, { ...DEFAULT_BACKOFF, random })),
        this.#options.signal,
      );
      attempt++;
      if (this.#options.signal?.aborted === true) return attempt;
      try {
        const response = await request(`${this.#settings.url}/readyz`, {
          dispatcher: this.#dispatcher,
          ...(this.#options.signal === undefined ? {} : { signal: this.#options.signal }),
        });
        await response.body.dump();
        // Anything but "not ready" ends the wait: the request itself will tell what the agent thinks.
        if (response.statusCode !== 503) return attempt;
      } catch (error) {
        if (!isRefused(error)) return attempt;
      }
    }
  }

  #headers(req: AgentRequest): Record<string, string> {
    const headers: Record<string, string> = { "user-agent": `tally/${VERSION}`, ...req.headers };
    if (this.#settings.token !== "") headers["authorization"] = `Bearer ${this.#settings.token}`;
    if (req.contentType !== undefined) headers["content-type"] = req.contentType;
    if (req.gzip === true && req.body !== undefined) headers["content-encoding"] = "gzip";
    return headers;
  }

  #print(req: AgentRequest, url: string, headers: Readonly<Record<string, string>>): void {
    let text = this.#printed++ === 0 ? "" : "\n";
    text += `${req.method} ${url}\n`;
    for (const [name, value] of Object.entries(headers)) {
      if (name === "user-agent") continue;
      text += `${headerName(name)}: ${name === "authorization" ? "Bearer ***" : value}\n`;
    }
    const shown = req.shownBody ??
      (typeof req.body === "string"
        ? req.body
        : req.body === undefined
        ? undefined
        : new TextDecoder().decode(req.body));
    if (shown !== undefined) text += `\n${shown}${shown.endsWith("\n") ? "" : "\n"}`;
    this.#options.print(text);
  }
}

/** `content-type` → `Content-Type`, and CoScale's header as CoScale spells it. */
function headerName(name: string): string {
  if (name.toLowerCase() === "httpauthorization") return "HTTPAuthorization";
  return name.replace(HEADER_WORD_REGEXP, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}

function statusError(action: string, url: string, status: number, json: unknown, text: string): AgentError {
  const detail = errorText(json, text);
  const issues = issuesOf(json);
  const reason = STATUS_CODES[status] ?? "";
  let message = `Cannot ${action} ${url}: the agent answered ${status}${reason === "" ? "" : ` ${reason}`}`;
  if (detail !== undefined) message += `: ${detail}`;
  if (status === 401) message += " (set --token or TALLY_TOKEN to the agent's http.token)";
  if (status === 404) message += " (is a tally with the HTTP push API listening at that URL?)";
  return new AgentError(message, { status, issues });
}

/** The contract's `{"error": …}`, CoScale's `{"msg": …}`, or the first line of a short text body. */
function errorText(json: unknown, text: string): string | undefined {
  if (typeof json === "object" && json !== null) {
    const record = json as Record<string, unknown>;
    if (typeof record["error"] === "string") return record["error"];
    if (typeof record["msg"] === "string") return record["msg"];
  }
  const line = text.trim().split("\n")[0] ?? "";
  return line === "" ? undefined : line.slice(0, 200);
}

function issuesOf(json: unknown): AgentIssue[] {
  if (typeof json !== "object" || json === null) return [];
  const issues = (json as Record<string, unknown>)["issues"];
  if (!Array.isArray(issues)) return [];
  return issues.flatMap((issue: unknown) => {
    if (typeof issue !== "object" || issue === null) return [];
    const { path, message } = issue as Record<string, unknown>;
    return typeof path === "string" && typeof message === "string" ? [{ path, message }] : [];
  });
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function codeOf(error: unknown): string | undefined {
  for (let e: unknown = error; typeof e === "object" && e !== null; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}

function isRefused(error: unknown): boolean {
  return codeOf(error) === "ECONNREFUSED";
}

/** What went wrong with a request that got no answer, in a few words. */
function describeFailure(error: unknown, settings: AgentSettings): string {
  const timeout = seconds(settings.timeoutMs);
  switch (codeOf(error)) {
    case "UND_ERR_CONNECT_TIMEOUT":
      return `no connection within ${timeout} (--timeout)`;
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
      return `no answer within ${timeout} (--timeout); the data may or may not have been taken`;
    case "ECONNRESET":
    case "UND_ERR_SOCKET":
    case "EPIPE":
      return "the agent closed the connection before answering; the data may or may not have been taken";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `host "${new URL(settings.url).hostname}" not found`;
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable";
    case "UND_ERR_ABORTED":
    case "ABORT_ERR":
      return "interrupted";
  }
  if (error instanceof Error && error.name === "AbortError") return "interrupted";
  return error instanceof Error ? error.message : String(error);
}

/** `5000` → `5s`, `1500` → `1.5s`. */
function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
