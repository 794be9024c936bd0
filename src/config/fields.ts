/**
 * Valibot schemas for the value kinds that config files share: durations, sizes, listen addresses,
 * `HOST:PORT` and HTTP URLs. Plugins build their config schemas from these so that every file reads the same way.
 *
 * Messages in config schemas are *expectations* ("a duration like \"10s\""): the loader renders each
 * issue as `at PATH: expected MESSAGE, found VALUE`, so a message must complete "expected …".
 *
 * @module
 */

import * as v from "valibot";
import { formatListenAddress, parseHostPort, parseListenAddress } from "./address.ts";
import type { ListenAddress } from "./address.ts";
import { formatDuration, parseDuration } from "./duration.ts";
import { formatSize, parseSize } from "./size.ts";

/** Bounds for {@link duration} and {@link size}, in milliseconds or bytes. */
export interface Bounds {
  /** The smallest accepted value (inclusive). */
  readonly min?: number;
  /** The largest accepted value (inclusive). */
  readonly max?: number;
}

/** A transport a listener may use. */
export type Transport = ListenAddress["transport"];

/** A bound host and port, shaped like the options of `Runtime.serve`. */
export interface HostPort {
  /** The host name or IP address (IPv6 without brackets). */
  readonly hostname: string;
  /** The port, 0 to 65535. */
  readonly port: number;
}

const DURATION_EXPECTED = 'a duration like "500ms", "10s", "5m", "1h" or "7d"';
const SIZE_EXPECTED = 'a size like "512KiB", "4MiB", "1GiB" or an integer of bytes';
const HOST_PORT_EXPECTED = 'an address like "HOST:PORT"';
const URL_EXPECTED = 'an http:// or https:// URL like "http://127.0.0.1:8428/api/v1/write"';

/**
 * A duration string, converted to milliseconds.
 *
 * @param bounds The accepted range in milliseconds.
 * @returns A schema from `string` to `number`.
 * @example
 * ```ts
 * const schema = v.strictObject({ timeout: v.optional(duration({ min: 1 }), "5s") });
 * ```
 */
export function duration(bounds: Bounds = {}) {
  return v.pipe(
    v.string(DURATION_EXPECTED),
    v.rawTransform(function toMilliseconds({ dataset, addIssue, NEVER }) {
      const ms = parseDuration(dataset.value);
      if (ms === undefined) {
        addIssue({ message: DURATION_EXPECTED });
        return NEVER;
      }
      const outOf = outOfBounds(ms, bounds, formatDuration);
      if (outOf !== undefined) {
        addIssue({ message: `a duration ${outOf}` });
        return NEVER;
      }
      return ms;
    }),
  );
}

/**
 * A size string (or an integer of bytes), converted to bytes.
 *
 * @param bounds The accepted range in bytes.
 * @returns A schema from `string | number` to `number`.
 * @example
 * ```ts
 * const schema = v.strictObject({ max_body: v.optional(size({ min: 1 }), "1MiB") });
 * ```
 */
export function size(bounds: Bounds = {}) {
  return v.pipe(
    v.union([v.string(), v.number()], SIZE_EXPECTED),
    v.rawTransform(function toBytes({ dataset, addIssue, NEVER }) {
      const bytes = parseSize(dataset.value);
      if (bytes === undefined) {
        addIssue({ message: SIZE_EXPECTED });
        return NEVER;
      }
      const outOf = outOfBounds(bytes, bounds, formatSize);
      if (outOf !== undefined) {
        addIssue({ message: `a size ${outOf}` });
        return NEVER;
      }
      return bytes;
    }),
  );
}

/**
 * A listen address (`udp:HOST:PORT`, `tcp:HOST:PORT`, `unix:PATH`), kept as its canonical text.
 *
 * The output stays a string so that it can be logged, compared for conflicts and handed back to
 * {@link parseListenAddress} by the listener.
 *
 * @param transports The transports the component supports.
 * @returns A schema from `string` to the canonical address text.
 * @example
 * ```ts
 * const schema = v.strictObject({ listen: v.array(listenAddress(["udp", "tcp"])) });
 * ```
 */
export function listenAddress(transports: readonly Transport[] = ["udp", "tcp", "unix"]) {
  const expected = `an address like ${transports.map(exampleOf).join(", ").replace(/, ([^,]*)$/, " or $1")}`;
  return v.pipe(
    v.string(expected),
    v.rawTransform(function toCanonicalAddress({ dataset, addIssue, NEVER }) {
      const address = parseListenAddress(dataset.value);
      if (address === undefined || !transports.includes(address.transport)) {
        addIssue({ message: expected });
        return NEVER;
      }
      return formatListenAddress(address);
    }),
  );
}

/**
 * A `HOST:PORT` address (IPv6 in brackets), converted to `{ hostname, port }`.
 *
 * @returns A schema from `string` to {@link HostPort}.
 */
export function hostPort() {
  return v.pipe(
    v.string(HOST_PORT_EXPECTED),
    v.rawTransform(function toHostPort({ dataset, addIssue, NEVER }): HostPort {
      const parsed = parseHostPort(dataset.value);
      if (parsed === undefined) {
        addIssue({ message: HOST_PORT_EXPECTED });
        return NEVER;
      }
      return { hostname: parsed.host, port: parsed.port };
    }),
  );
}

/**
 * An `http://` or `https://` URL with a host, kept as its canonical text (`new URL(…).href`). For the
 * receivers of forwarders.
 *
 * @returns A schema from `string` to the canonical URL text.
 * @example
 * ```ts
 * const schema = v.strictObject({ url: httpUrl() });
 * v.parse(schema, { url: "http://127.0.0.1:8428/api/v1/write" }).url;
 * ```
 */
export function httpUrl() {
  return v.pipe(
    v.string(URL_EXPECTED),
    v.rawTransform(function toCanonicalUrl({ dataset, addIssue, NEVER }) {
      let url: URL;
      try {
        url = new URL(dataset.value);
      } catch {
        addIssue({ message: URL_EXPECTED });
        return NEVER;
      }
      if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
        addIssue({ message: URL_EXPECTED });
        return NEVER;
      }
      return url.href;
    }),
  );
}

function exampleOf(transport: Transport): string {
  return transport === "unix" ? '"unix:PATH"' : `"${transport}:HOST:PORT"`;
}

function outOfBounds(value: number, bounds: Bounds, format: (n: number) => string): string | undefined {
  const { min, max } = bounds;
  if (min !== undefined && max !== undefined && (value < min || value > max)) {
    return `from "${format(min)}" to "${format(max)}"`;
  }
  if (min !== undefined && value < min) return `of at least "${format(min)}"`;
  if (max !== undefined && value > max) return `of at most "${format(max)}"`;
  return undefined;
}
