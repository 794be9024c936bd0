/**
 * Listen addresses in the Vector form: `udp:HOST:PORT`, `tcp:HOST:PORT`, `unix:PATH`.
 *
 * @module
 */

/** A parsed listen address. */
export type ListenAddress =
  | { readonly transport: "udp" | "tcp"; readonly host: string; readonly port: number }
  | { readonly transport: "unix"; readonly path: string };

const HOST_PORT_REGEXP = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]]+)):(\d{1,5})$/;

/**
 * Parses `udp:HOST:PORT`, `tcp:HOST:PORT` or `unix:PATH` (IPv6 hosts in brackets: `udp:[::1]:8125`).
 *
 * @param text The address as written in config or on the command line.
 * @returns The address, or `undefined` when it does not parse.
 * @example
 * ```ts
 * parseListenAddress("udp:127.0.0.1:8125"); // { transport: "udp", host: "127.0.0.1", port: 8125 }
 * ```
 */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const colon = text.indexOf(":");
  if (colon < 0) return undefined;
  const transport = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  if (transport === "unix") return rest.length > 0 ? { transport, path: rest } : undefined;
  if (transport !== "udp" && transport !== "tcp") return undefined;
  const hostPort = parseHostPort(rest);
  return hostPort === undefined ? undefined : { transport, ...hostPort };
}

/**
 * Parses `HOST:PORT` (IPv6 in brackets).
 *
 * @param text The text.
 * @returns The host and port, or `undefined` when it does not parse or the port is out of range.
 */
export function parseHostPort(text: string): { readonly host: string; readonly port: number } | undefined {
  const m = HOST_PORT_REGEXP.exec(text);
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? m[2] ?? "", port };
}

/**
 * Formats an address back to its config form.
 *
 * @param address The address.
 * @returns The text, e.g. `udp:127.0.0.1:8125`.
 */
export function formatListenAddress(address: ListenAddress): string {
  if (address.transport === "unix") return `unix:${address.path}`;
  const host = address.host.includes(":") ? `[${address.host}]` : address.host;
  return `${address.transport}:${host}:${address.port}`;
}
