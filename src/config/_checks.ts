/**
 * Checks that span several keys, run after the schema: two components binding the same address, and an
 * HTTP endpoint reachable from the network without a token.
 *
 * @module
 */

import { parseListenAddress } from "./address.ts";
import type { ConfigIssue, PathSegment } from "./config_error.ts";
import type { HostPort } from "./fields.ts";
import { renderPath } from "./_issues.ts";
import type { InputRegistry } from "./configurable_plugin.ts";
import type { FlagPath } from "./_issues.ts";

/** What the cross-checks look at: the validated HTTP table and inputs. */
export interface CheckedConfig {
  /** The validated `[http]` table. */
  readonly http: { readonly listen: HostPort; readonly token: string; readonly insecure: boolean };
  /** The validated inputs, keyed by component id. */
  readonly inputs: Readonly<Record<string, { readonly type: string }>>;
}

interface Binding {
  readonly component: string;
  readonly path: readonly PathSegment[];
  readonly address: string;
}

/**
 * Runs the cross-checks.
 *
 * @param config The validated config.
 * @param options The input registry (for `resources()`) and the key paths set by flags.
 * @returns The issues found; empty when the config is consistent.
 */
export function crossCheck(
  config: CheckedConfig,
  options: { readonly plugins: InputRegistry; readonly flags: readonly FlagPath[] },
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const issue = (path: readonly PathSegment[], text: string) =>
    issues.push({ path, where: renderPath(path, options.flags), text });

  const { listen, token, insecure } = config.http;
  if (!isLoopback(listen.hostname) && token === "" && !insecure) {
    issue(
      ["http", "token"],
      `expected a bearer token, found "": ${renderPath(["http", "listen"], options.flags)} ` +
        `"${hostPortText(listen)}" is not a loopback address, so anyone who can reach it could push ` +
        'metrics and read the store. Either set http.token (clients then send "Authorization: Bearer ' +
        '<token>"), or accept an open endpoint with --insecure (http.insecure = true)',
    );
  }

  const bindings: Binding[] = [
    { component: "http", path: ["http", "listen"], address: `tcp:${hostPortText(listen)}` },
  ];
  for (const [id, input] of Object.entries(config.inputs)) {
    const plugin = options.plugins[input.type];
    for (const address of plugin?.resources?.(input) ?? []) {
      bindings.push({ component: `inputs.${renderPath([id])}`, path: ["inputs", id], address });
    }
  }
  for (const [i, binding] of bindings.entries()) {
    const earlier = bindings.slice(0, i).find((b) => overlaps(b.address, binding.address));
    if (earlier === undefined) continue;
    const clash = earlier.component === binding.component
      ? " twice"
      : `, which ${earlier.component} also binds`;
    issue(binding.path, `expected an address no other listener binds, found "${binding.address}"${clash}`);
  }
  return issues;
}

/** Whether two listen addresses would collide when bound: same unix path, or same transport and port on hosts that overlap. */
function overlaps(a: string, b: string): boolean {
  const x = parseListenAddress(a);
  const y = parseListenAddress(b);
  if (x === undefined || y === undefined || x.transport !== y.transport) return false;
  if (x.transport === "unix" || y.transport === "unix") {
    return x.transport === "unix" && y.transport === "unix" && x.path === y.path;
  }
  // Port 0 asks the kernel for a free port, so it never collides.
  if (x.port !== y.port || x.port === 0) return false;
  return x.host === y.host || covers(x.host, y.host) || covers(y.host, x.host);
}

/** Whether binding the wildcard `host` takes the port on `other` too (`::` is dual-stack on Linux). */
function covers(host: string, other: string): boolean {
  if (host === "::" || host === "") return true;
  return host === "0.0.0.0" && !other.includes(":");
}

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || /^127\.\d+\.\d+\.\d+$/.test(hostname) ||
    /^::ffff:127\./i.test(hostname);
}

function hostPortText({ hostname, port }: HostPort): string {
  return `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}
