/**
 * A static file server on a loopback port, standing in for the release host in install tests: each URL
 * prefix maps to a folder, everything else is a 404. It runs in the test's own process, so whatever it
 * serves to must be spawned asynchronously (a synchronous spawn would block the event loop it answers
 * from).
 *
 * @module
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, normalize } from "node:path";

/** A running server. */
export interface ServedDir {
  /** The base URL, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  readonly url: string;
  /** The paths requested so far, in order, with their status, e.g. `200 /v0.1.0/SHA256SUMS`. */
  readonly requests: readonly string[];
  /** Stops the server and closes its connections. */
  close(): Promise<void>;
}

/**
 * Serves folders under URL prefixes on 127.0.0.1, on a port the kernel picks.
 *
 * @param routes URL prefix (e.g. `/v0.1.0/`) to folder.
 * @returns The running server.
 */
export async function serveDir(routes: Readonly<Record<string, string>>): Promise<ServedDir> {
  const requests: string[] = [];
  const server = createServer(async function serve(request, response) {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://localhost").pathname);
    const file = resolveRoute(routes, path);
    const info = file === undefined ? undefined : await stat(file).catch(() => undefined);
    if (file === undefined || info === undefined || !info.isFile()) {
      requests.push(`404 ${path}`);
      response.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    requests.push(`200 ${path}`);
    response.writeHead(200, { "content-type": "application/octet-stream", "content-length": info.size });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function resolveRoute(routes: Readonly<Record<string, string>>, path: string): string | undefined {
  for (const [prefix, dir] of Object.entries(routes)) {
    if (!path.startsWith(prefix)) continue;
    const rest = normalize(path.slice(prefix.length));
    if (rest.startsWith("..") || rest.startsWith("/")) return undefined;
    return join(dir, rest);
  }
  return undefined;
}
