import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";

describe("node:dgram", () => {
  it("createSocket() binds port 0 on 127.0.0.1 and round-trips datagrams exactly", async () => {
    const server = createSocket("udp4");
    const client = createSocket("udp4");
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.bind(0, "127.0.0.1", () => resolve());
      });
      const { port } = server.address();
      assert.ok(port > 0);
      server.setRecvBufferSize(1 << 20);
      assert.ok(server.getRecvBufferSize() >= 1 << 20);
      const got: Buffer[] = [];
      const all = new Promise<void>((resolve) => {
        server.on("message", (msg) => {
          got.push(Buffer.from(msg));
          if (got.length === 3) resolve();
        });
      });
      const payloads = [Buffer.from("a:1|c"), Buffer.alloc(1400, 0xab), Buffer.from("b:2|g\nc:3|ms")];
      for (const payload of payloads) {
        await new Promise<void>((resolve, reject) =>
          client.send(payload, port, "127.0.0.1", (error) => (error ? reject(error) : resolve()))
        );
      }
      await all;
      assert.deepEqual(got, payloads);
    } finally {
      client.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
