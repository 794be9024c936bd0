import { createSocket } from "node:dgram";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { freePort } from "./free_port.ts";

describe("freePort()", () => {
  it("freePort() returns a tcp port that can be bound on 127.0.0.1", async () => {
    const port = await freePort("tcp");
    assert.ok(port > 0 && port < 65536);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", resolve);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("freePort() returns a udp port that can be bound on 127.0.0.1", async () => {
    const port = await freePort("udp");
    assert.ok(port > 0 && port < 65536);
    const socket = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.bind(port, "127.0.0.1", resolve);
    });
    assert.equal(socket.address().port, port);
    await new Promise<void>((resolve) => socket.close(resolve));
  });

  it("freePort() never gives one process the same port twice", async () => {
    for (const protocol of ["udp", "tcp"] as const) {
      const ports = [];
      for (let i = 0; i < 200; i++) ports.push(await freePort(protocol));
      assert.equal(new Set(ports).size, ports.length, `${protocol} ports repeated`);
    }
  });
});
