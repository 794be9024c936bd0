/**
 * The HTTP requests of the CoScale CLI (`coscale-cli`, Go, CoScale/coscale-cli @ 2018-06), request for
 * request, for end-to-end tests of tally's CoScale-compatible API. The CLI cannot be built here (no Go module
 * proxy), so this reproduces what its `src/coscale/api/*.go` sends (`reference/coscale.md` §2, §3):
 *
 * - every request: `User-Agent: CoScale Agent`; `Content-Type: application/x-www-form-urlencoded` on POST and
 *   PUT; the body Go's `url.Values.Encode()` (keys sorted, `QueryEscape`d: space as `+`), empty without data;
 *   `HTTPAuthorization: <token>` once logged in;
 * - it logs in (`POST login/`, `accessToken`) before its first call, and on a 401 logs in again and retries
 *   once;
 * - a 409 `{"type": "DUPLICATE", "id"}` makes a create read the existing object (`GET <kind>s/{id}/`);
 * - the commands' sequences: `metric new`, `metric dimension new --metric`, `data insert` (form `cdata`),
 *   `event new`, `event newdata --name`, `event updatedata --name --dataid` (GET, then PUT with `version`).
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { gzipSync } from "node:zlib";

/** One answer: the status and the body text. */
export interface CliAnswer {
  readonly status: number;
  readonly text: string;
}

/** What a command ended with: the CLI's exit code (0, 1, or 2 for authentication) and what it printed. */
export interface CliOutcome {
  readonly code: 0 | 1 | 2;
  readonly output: string;
}

/** Go's `url.QueryEscape`: everything but letters, digits and `-_.~` escaped, a space as `+`. */
export function goQueryEscape(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replaceAll("%20", "+");
}

/** Go's `url.Values.Encode()` of single values: sorted by key. */
export function goEncode(data: Readonly<Record<string, string>> | undefined): string {
  if (data === undefined) return "";
  return Object.keys(data).sort().map((key) => `${goQueryEscape(key)}=${goQueryEscape(data[key]!)}`).join(
    "&",
  );
}

/** The CoScale CLI's API client (`api.Api`), as one process of it would run. */
export class CoscaleCli {
  readonly #baseUrl: string;
  readonly #appId: string;
  readonly #accessToken: string;
  #token = "";
  /** Every request made, as `METHOD path status`, for assertions. */
  readonly log: string[] = [];

  /**
   * @param baseUrl `api.conf`'s `baseurl` (trailing `/` trimmed, as the CLI does).
   * @param appId `appid`.
   * @param accessToken `accesstoken`.
   */
  constructor(baseUrl: string, appId: string, accessToken: string) {
    this.#baseUrl = baseUrl.replace(/\/+$/, "");
    this.#appId = appId;
    this.#accessToken = accessToken;
  }

  /** Forgets the session token, as a new CLI process starts without one. */
  newProcess(): void {
    this.#token = "";
  }

  /** Sets a stale session token, as a session tally forgot. */
  staleToken(token: string): void {
    this.#token = token;
  }

  /** `coscale-cli metric new --name … --dataType … --subject … [--period 60 --unit '' --description '']`. */
  async metricNew(name: string, dataType: string, subject: string): Promise<CliOutcome> {
    return await this.#create("metric", {
      name,
      description: "",
      dataType,
      period: "60",
      unit: "",
      subject,
      source: "cli",
    });
  }

  /** `coscale-cli metric dimension new --name … --metric …`. */
  async dimensionNew(name: string, metric: string): Promise<CliOutcome> {
    const dimension = await this.#create("dimension", { name });
    if (dimension.code !== 0) return dimension;
    const found = await this.#call("GET", `/${this.#app()}/metrics/?selectByName=${goQueryEscape(metric)}`);
    if (found.status !== 200) return this.#failed(found);
    const [metricObject] = JSON.parse(found.text) as { id: number }[];
    if (metricObject === undefined) return { code: 1, output: '{"msg":"Not Found"}' };
    const dimensionId = (JSON.parse(dimension.output) as { id: number }).id;
    return this.#outcome(
      await this.#call("POST", `/${this.#app()}/metrics/${metricObject.id}/dimensions/${dimensionId}/`),
    );
  }

  /** `coscale-cli data insert --data …`, given the JSON array its parser makes of the data string. */
  async dataInsert(payload: string): Promise<CliOutcome> {
    const cdata = Buffer.from(gzipSync(payload)).toString("base64");
    return this.#outcome(await this.#call("POST", `/${this.#app()}/data/`, { cdata }));
  }

  /** `coscale-cli event new --name … [--attributeDescriptions '[]']`. */
  async eventNew(name: string, attributeDescriptions = "[]"): Promise<CliOutcome> {
    return await this.#create("event", {
      name,
      description: "",
      attributeDescriptions,
      type: "",
      source: "cli",
    });
  }

  /** `coscale-cli event newdata --name … --message … --subject … [--attribute --timestamp --stopTime]`. */
  async eventNewData(
    name: string,
    fields: { message: string; subject: string; attribute?: string; timestamp?: number; stopTime?: number },
  ): Promise<CliOutcome> {
    const event = await this.#eventByName(name);
    if ("code" in event) return event;
    const data: Record<string, string> = {
      message: fields.message,
      timestamp: String(fields.timestamp ?? 0),
      subject: fields.subject,
      attribute: fields.attribute ?? "{}",
    };
    if (fields.stopTime !== undefined) data["stopTime"] = String(fields.stopTime);
    return this.#outcome(await this.#call("POST", `/${this.#app()}/events/${event.id}/data/`, data));
  }

  /** `coscale-cli event updatedata --name … --dataid … [--message --attribute --stopTime]`. */
  async eventUpdateData(
    name: string,
    dataId: number,
    fields: { message?: string; attribute?: string; stopTime?: number },
  ): Promise<CliOutcome> {
    const event = await this.#eventByName(name);
    if ("code" in event) return event;
    const got = await this.#call("GET", `/${this.#app()}/events/${event.id}/data/get/${dataId}/`);
    if (got.status !== 200) return this.#failed(got);
    // Go decodes into EventData{ID, Timestamp, Stoptime, Message, Attribute, Subject, Version, UpdateTime}.
    const current = JSON.parse(got.text) as {
      id: number;
      timestamp: number;
      message: string;
      attribute: string;
      subject: string;
      version: number;
    };
    const data: Record<string, string> = {
      message: fields.message ?? current.message,
      timestamp: String(current.timestamp),
      subject: current.subject,
      attribute: fields.attribute ?? current.attribute,
      version: String(current.version),
    };
    // Without --stopTime, the fetched one is thrown away: no stopTime field.
    if (fields.stopTime !== undefined) data["stopTime"] = String(fields.stopTime);
    return this.#outcome(
      await this.#call("PUT", `/${this.#app()}/events/${event.id}/data/${current.id}/`, data),
    );
  }

  async #eventByName(name: string): Promise<{ readonly id: number } | CliOutcome> {
    const found = await this.#call("GET", `/${this.#app()}/events/?selectByName=${goQueryEscape(name)}`);
    if (found.status !== 200) return this.#failed(found);
    const [event] = JSON.parse(found.text) as { id: number }[];
    return event ?? { code: 1, output: '{"msg":"Not Found"}' };
  }

  /** A create: POST, and on 409 DUPLICATE the existing object's GET. */
  async #create(kind: string, data: Record<string, string>): Promise<CliOutcome> {
    const created = await this.#call("POST", `/${this.#app()}/${kind}s/`, data);
    if (created.status === 409) {
      const body = JSON.parse(created.text) as { type?: string; id?: number };
      if (body.type === "DUPLICATE") {
        return this.#outcome(await this.#call("GET", `/${this.#app()}/${kind}s/${body.id}/`));
      }
    }
    return this.#outcome(created);
  }

  #app(): string {
    return `api/v1/app/${this.#appId}`;
  }

  /** `makeRawCall`: log in first, and again once on a 401. */
  async #call(method: string, path: string, data?: Record<string, string>): Promise<CliAnswer> {
    if (this.#token === "" && !(await this.#login())) {
      return { status: 401, text: '{"msg":"Authentication failed!"}' };
    }
    const first = await this.#request(method, path, data);
    if (first.status !== 401) return first;
    if (!(await this.#login())) return { status: 401, text: '{"msg":"Authentication failed!"}' };
    return await this.#request(method, path, data);
  }

  async #login(): Promise<boolean> {
    const answer = await this.#request(
      "POST",
      `/${this.#app()}/login/`,
      { accessToken: this.#accessToken },
      "",
    );
    if (answer.status !== 200) {
      this.#token = "";
      return false;
    }
    this.#token = (JSON.parse(answer.text) as { token: string }).token;
    return true;
  }

  async #request(
    method: string,
    path: string,
    data?: Record<string, string>,
    token = this.#token,
  ): Promise<CliAnswer> {
    const headers: Record<string, string> = { "User-Agent": "CoScale Agent" };
    if (method === "POST" || method === "PUT") headers["Content-Type"] = "application/x-www-form-urlencoded";
    if (token !== "") headers["HTTPAuthorization"] = token;
    const res = await fetch(`${this.#baseUrl}${path}`, {
      method,
      headers,
      ...(method === "GET" ? {} : { body: goEncode(data) }),
    });
    const text = await res.text();
    this.log.push(`${method} ${path.replace(`/${this.#app()}`, "")} ${res.status}`);
    return { status: res.status, text };
  }

  /** `PrintResult`: 0 and the body on 200, 2 when authentication failed, else 1. */
  #outcome(answer: CliAnswer): CliOutcome {
    return answer.status === 200 ? { code: 0, output: answer.text } : this.#failed(answer);
  }

  #failed(answer: CliAnswer): CliOutcome {
    return { code: answer.status === 401 ? 2 : 1, output: answer.text };
  }
}
