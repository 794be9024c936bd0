import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { existsSync, readFileSync } from "node:fs";
import { detectRuntime } from "../../src/runtime/detect.ts";

const runtime = detectRuntime();

/** Datagram sizes cycled by the sender: empty, tiny, typical, MTU-ish, and the largest IPv4 payload. */
const SIZES = [0, 1, 37, 512, 1500, 8192, 65507];
const COUNT = 300;

function datagram(i: number): Uint8Array {
  const size = SIZES[i % SIZES.length]!;
  const out = new Uint8Array(size);
  for (let j = 0; j < size; j++) out[j] = (i + j) & 255;
  if (size >= 2) new DataView(out.buffer).setUint16(0, i);
  return out;
}

describe(`Runtime.openUdp() on ${runtime.name}`, () => {
  it("openUdp() binds port 0, and a batch reads many datagrams byte for byte", async () => {
    const socket = await runtime.openUdp!({ host: "127.0.0.1", port: 0, receiveBufferBytes: 4 << 20 });
    const client = createSocket("udp4");
    try {
      assert.ok(socket.port > 0);
      const batch = socket.createBatch(16);
      assert.equal(batch.receive(), 0, "nothing waits yet");
      const got: Uint8Array[] = [];
      for (let i = 0; i < COUNT; i++) {
        await new Promise<void>((resolve, reject) =>
          client.send(datagram(i), socket.port, "127.0.0.1", (error) => (error ? reject(error) : resolve()))
        );
        // Read now and then so the batch is seen full and partly full.
        if (i % 40 === 39) {
          for (let n = batch.receive(); n > 0; n = batch.receive()) {
            for (let k = 0; k < n; k++) {
              // The range in the batch's memory is the same bytes as the view.
              const start = batch.start(k);
              assert.deepEqual(batch.bytes.subarray(start, start + batch.length(k)), batch.datagram(k));
              got.push(batch.datagram(k).slice());
            }
          }
        }
      }
      for (let tries = 0; got.length < COUNT && tries < 500; tries++) {
        const n = batch.receive();
        for (let k = 0; k < n; k++) got.push(batch.datagram(k).slice());
        if (n === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(got.length, COUNT);
      // Order on loopback is the send order for one sender.
      for (let i = 0; i < COUNT; i++) assert.deepEqual(got[i], datagram(i), `datagram ${i}`);
    } finally {
      client.close();
      await socket.close();
    }
  });

  it("openUdp() binds IPv6, reports what the kernel granted, and refuses a taken port with EADDRINUSE", async () => {
    const socket = await runtime.openUdp!({ host: "::1", port: 0, receiveBufferBytes: 65536 });
    try {
      assert.ok(socket.grantedReceiveBuffer() >= 4096);
      await assert.rejects(runtime.openUdp!({ host: "::1", port: socket.port, receiveBufferBytes: 0 }), {
        code: "EADDRINUSE",
        message: `Cannot bind UDP socket "[::1]:${socket.port}": address already in use`,
      });
      await assert.rejects(runtime.openUdp!({ host: "localhost", port: 0, receiveBufferBytes: 0 }), {
        message: 'Cannot bind UDP socket "localhost:0": the host is not an IP address',
      });
    } finally {
      await socket.close();
    }
  });

  it("openUdp() gets the receive buffer asked for past rmem_max with CAP_NET_ADMIN, else at most rmem_max", async (t) => {
    if (!existsSync("/proc/sys/net/core/rmem_max")) return t.skip("no /proc/sys/net/core/rmem_max");
    const max = Number(readFileSync("/proc/sys/net/core/rmem_max", "utf8"));
    // CAP_NET_ADMIN is capability 12 of the effective set.
    const capEff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? "0";
    const mayForce = (BigInt(`0x${capEff}`) & (1n << 12n)) !== 0n;
    const asked = Math.min(2 * max, 1 << 29);
    const socket = await runtime.openUdp!({ host: "127.0.0.1", port: 0, receiveBufferBytes: asked });
    try {
      if (mayForce) assert.equal(socket.grantedReceiveBuffer(), asked);
      else assert.ok(socket.grantedReceiveBuffer() <= max, `${socket.grantedReceiveBuffer()} > ${max}`);
    } finally {
      await socket.close();
    }
  });

  it("datagramBatch() reads a socket by its descriptor, as a worker thread would", async () => {
    const socket = await runtime.openUdp!({ host: "127.0.0.1", port: 0, receiveBufferBytes: 0 });
    const client = createSocket("udp4");
    try {
      const batch = await runtime.datagramBatch!(socket.fd, 4);
      await new Promise<void>((resolve) => client.send("a:1|c", socket.port, "127.0.0.1", () => resolve()));
      let n = 0;
      for (let tries = 0; n === 0 && tries < 500; tries++) {
        n = batch.receive();
        if (n === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(n, 1);
      assert.equal(new TextDecoder().decode(batch.datagram(0)), "a:1|c");
      assert.equal(batch.length(0), 5);
      assert.equal(
        new TextDecoder().decode(batch.bytes.subarray(batch.start(0), batch.start(0) + 5)),
        "a:1|c",
      );
    } finally {
      client.close();
      await socket.close();
    }
  });
});
