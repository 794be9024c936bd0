/**
 * CoScale's authentication (coscale.md §3.1): `POST login/` trades an access token for a session token,
 * which every other request sends in the non-standard `HTTPAuthorization` header; a 401 makes the CoScale
 * CLI and the statsd backend log in again and retry.
 *
 * The access token is tally's `http.token`: login hands out a session only to a client that knows it, and a
 * request may also send tally's own `Authorization: Bearer <http.token>`. Without a token (loopback only,
 * as every other route of tally) nothing is checked and any access token logs in.
 *
 * Sessions live in memory: a restart forgets them, and the clients' next request gets the 401 that makes
 * them log in again. They are bounded, least recently used going first.
 *
 * @module
 */

import { randomUUID } from "node:crypto";
import { sameToken } from "../../internal/http_app.ts";

/** The most sessions kept; every CoScale CLI run logs in anew, so old ones must go. */
const MAX_SESSIONS = 4096;

/** Why a request is refused, for its 401 `msg`; `undefined` when it may go on. */
export type Refusal = string | undefined;

/**
 * The session tokens handed out since the start: a resource owning them.
 *
 * @example
 * ```ts
 * const sessions = new Sessions("s3cret");
 * const token = sessions.login("s3cret"); // a new session token, or undefined for a wrong access token
 * sessions.check({ httpAuthorization: token }); // undefined: go on
 * ```
 */
export class Sessions {
  readonly #token: string;
  readonly #sessions = new Map<string, true>();
  readonly #max: number;

  /**
   * @param token The configured `http.token`; empty for none.
   * @param max The most sessions kept (the least recently used go first).
   */
  constructor(token: string, max = MAX_SESSIONS) {
    this.#token = token;
    this.#max = max;
  }

  /** Whether requests are checked at all (a token is configured). */
  get enabled(): boolean {
    return this.#token !== "";
  }

  /**
   * Starts a session for a client that knows the token.
   *
   * @param accessToken The `accessToken` the client sent, if any.
   * @returns The new session token, or `undefined` when a token is configured and this is not it.
   */
  login(accessToken: string | undefined): string | undefined {
    if (this.enabled && (accessToken === undefined || !sameToken(accessToken, this.#token))) return undefined;
    const session = randomUUID();
    this.#sessions.set(session, true);
    if (this.#sessions.size > this.#max) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
    return session;
  }

  /**
   * Checks a request's credentials: a session token in `HTTPAuthorization`, or the configured token as
   * `Authorization: Bearer`.
   *
   * @param headers The request's `HTTPAuthorization` and `Authorization` headers.
   * @returns `undefined` when the request may go on, else why not (for the 401).
   */
  check(
    headers: { readonly httpAuthorization: string | undefined; readonly authorization: string | undefined },
  ): Refusal {
    if (!this.enabled) return undefined;
    const session = headers.httpAuthorization?.trim();
    if (session !== undefined && session !== "" && this.#sessions.has(session)) {
      // Most recently used last: the oldest unused sessions go first.
      this.#sessions.delete(session);
      this.#sessions.set(session, true);
      return undefined;
    }
    const bearer = headers.authorization === undefined
      ? undefined
      : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(headers.authorization)?.[1];
    if (bearer !== undefined && sameToken(bearer, this.#token)) return undefined;
    if (session !== undefined && session !== "") {
      return "Invalid or expired token: log in again with POST login/ (sessions end when tally restarts)";
    }
    return "Authentication required: send the token from POST login/ in the HTTPAuthorization header, " +
      "or Authorization: Bearer <http.token>";
  }
}
