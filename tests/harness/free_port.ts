/**
 * Finds a free loopback port by binding port 0 and releasing it.
 *
 * There is a short window between release and reuse in which another process could take the port; on a
 * test machine that is rare enough, and the caller's bind fails loudly if it happens. The kernel may also
 * hand the same released port out twice in a row, so a port this process was given once is never given
 * again (a test that asked for five UDP ports got one twice and its config was refused).
 *
 * @module
 */
import { createSocket } from "node:dgram";
import { createServer } from "node:net";

/** The transport a port is wanted for. */
export type PortProtocol = "tcp" | "udp";

/**
 * Binds port 0 on 127.0.0.1 for `protocol`, reads the port the kernel chose, and closes the socket.
 *
 * @param protocol `tcp` (default) or `udp`.
 * @returns The port number.
 * @throws {Error} When the socket cannot be bound.
 */
export async function freePort(protocol: PortProtocol = "tcp"): Promise<number> {
  const given = GIVEN[protocol];
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = protocol === "udp" ? await freeUdpPort() : await freeTcpPort();
    if (given.has(port)) continue;
    given.add(port);
    return port;
  }
  throw new Error(`Cannot find a free ${protocol} port not given before: 20 tries`);
}

/** The ports handed out so far in this process, per protocol. */
const GIVEN: Readonly<Record<PortProtocol, Set<number>>> = { tcp: new Set(), udp: new Set() };

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1", exclusive: true }, function onListening() {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(function onClose() {
        if (port > 0) resolve(port);
        else reject(new Error(`Cannot find a free tcp port: the bound address was "${String(address)}"`));
      });
    });
  });
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket("udp4");
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", function onBound() {
      const port = socket.address().port;
      socket.close(function onClose() {
        resolve(port);
      });
    });
  });
}
