import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { collectingContext } from "../../../tests/harness/collecting_context.ts";
import { spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import type { Socket as UdpSocket } from "node:dgram";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import type { Socket as TcpSocket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { parseListenAddress } from "../../config/address.ts";
import { FORMAT_IDS } from "../../model/frame.ts";
import type { Closer, Runtime } from "../../runtime/types.ts";
import { schema } from "./config.ts";
import { StatsdInput } from "./listen.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** A runtime whose Unix datagram listener the test drives by hand. */
class FakeUnixRuntime implements Runtime {
  // The real name: the input adapts its UDP sockets (node:dgram) to the runtime it runs on.
  readonly name = "Deno" in globalThis ? "deno" : "bun";
  readonly dgramReceiveBuffer = !("Deno" in globalThis);
  onData: ((bytes: Uint8Array) => void) | undefined;
  path: string | undefined;
  closed = 0;
  failWith: unknown;

  serve(): Promise<never> {
    return Promise.reject(new Error("Cannot serve: not part of this fake"));
  }

  listenUnixDatagram(path: string, onData: (bytes: Uint8Array) => void): Promise<Closer> {
    if (this.failWith !== undefined) return Promise.reject(this.failWith);
    this.path = path;
    this.onData = onData;
    return Promise.resolve({
      close: () => {
        this.closed++;
        return Promise.resolve();
      },
    });
  }
}

/** An InputContext that records every frame (decoded, since emit's bytes are only valid during the call). */
function fakeContext(runtime: Runtime = new FakeUnixRuntime()) {
  const { ctx, frames, formats, stats, logs, abort, selfMetric } = collectingContext({
    type: "statsd",
    id: "test",
  }, {
    runtime,
    record: (bytes) => decoder.decode(bytes),
  });
  function packets(transport: string): number {
    return selfMetric("tally_input_packets_total", { transport });
  }
  /** The lines of every frame, in order; a frame's final newline ends its last line. */
  function lines(): string[] {
    return frames.flatMap((f) => (f.endsWith("\n") ? f.slice(0, -1) : f).split("\n"));
  }
  return { ctx, frames, formats, stats, logs, abort, packets, lines };
}

function config(input: v.InferInput<typeof schema>) {
  return v.parse(schema, input);
}

/** Waits until `done()` holds; fails the test after 5 s rather than hanging (never a speed assertion). */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function hostPortOf(address: string | undefined): { host: string; port: number } {
  const parsed = parseListenAddress(address ?? "");
  if (parsed === undefined || parsed.transport === "unix") {
    throw new Error(`Not a host:port address "${address}"`);
  }
  return parsed;
}

function send(socket: UdpSocket, bytes: Uint8Array, port: number): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.send(bytes, port, "127.0.0.1", (error) => (error ? reject(error) : resolve()))
  );
}

function connectTcp(port: number): Promise<TcpSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1" }, () => resolve(socket));
    socket.once("error", reject);
  });
}

function write(socket: TcpSocket, text: string): Promise<void> {
  return new Promise((resolve, reject) => socket.write(text, (error) => (error ? reject(error) : resolve())));
}

function closed(socket: TcpSocket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once("close", () => resolve());
  });
}

describe("StatsdInput over UDP", () => {
  it("start() binds and every datagram becomes one statsd frame, up to 65507 bytes", async () => {
    const f = fakeContext();
    const input = new StatsdInput(config({ listen: ["udp:127.0.0.1:0"] }), "test");
    await input.start(f.ctx);
    const { port } = hostPortOf(input.addresses()[0]);
    const client = createSocket("udp4");
    try {
      const sent: string[] = [];
      for (let i = 0; i < 300; i++) {
        const text = i % 3 === 0 ? `c${i}:1|c\ng${i}:${i}|g` : `t${i}:${i}|ms|@0.5|#env:prod`;
        sent.push(text);
        await send(client, encoder.encode(text), port);
        // Paced, so that no kernel buffer overflows (Deno keeps the system's default buffer).
        if (i % 50 === 49) await until(() => f.frames.length === sent.length, `${sent.length} frames`);
      }
      // The largest UDP payload over IPv4: 65535 - 20 (IP) - 8 (UDP).
      const big = `big:1|c\n${"x".repeat(65507 - 16)}\nend:1|c`;
      assert.equal(encoder.encode(big).length, 65507);
      sent.push(big);
      await send(client, encoder.encode(big), port);
      await until(() => f.frames.length === sent.length, `${sent.length} frames`);
      assert.deepEqual([...f.frames].sort(), [...sent].sort());
      assert.deepEqual([...f.formats], [FORMAT_IDS.statsd]);
      assert.equal(f.packets("udp"), sent.length);
    } finally {
      client.close();
      await input.stop();
    }
  });

  it("start() listens on IPv6 loopback too", async (t) => {
    const f = fakeContext();
    const input = new StatsdInput(config({ listen: ["udp:[::1]:0"] }), "test");
    try {
      await input.start(f.ctx);
    } catch (error) {
      return t.skip(`no IPv6 loopback here: ${(error as Error).message}`);
    }
    const address = parseListenAddress(input.addresses()[0] ?? "");
    assert.ok(address !== undefined && address.transport === "udp" && address.host === "::1");
    const client = createSocket("udp6");
    try {
      await new Promise<void>((resolve, reject) =>
        client.send("v6:1|c", address.port, "::1", (error) => (error ? reject(error) : resolve()))
      );
      await until(() => f.frames.length === 1, "one frame");
      assert.deepEqual(f.frames, ["v6:1|c"]);
    } finally {
      client.close();
      await input.stop();
    }
  });

  it("start() rejects a taken port with a sentence naming the address, and keeps the cause", async () => {
    const taken = createSocket("udp4");
    await new Promise<void>((resolve) => taken.bind(0, "127.0.0.1", resolve));
    const address = `udp:127.0.0.1:${taken.address().port}`;
    const f = fakeContext();
    const input = new StatsdInput(config({ listen: ["tcp:127.0.0.1:0", address] }), "test");
    try {
      await assert.rejects(input.start(f.ctx), (error: Error) => {
        assert.equal(error.message, `Cannot bind statsd listener "${address}": address already in use`);
        assert.equal((error.cause as { code?: string }).code, "EADDRINUSE");
        return true;
      });
      // The TCP listener bound before the failure was closed again.
      assert.deepEqual(input.addresses(), []);
    } finally {
      taken.close();
      await input.stop();
    }
  });

  it("stop() is idempotent and nothing is emitted after it resolves", async () => {
    const f = fakeContext();
    const input = new StatsdInput(config({ listen: ["udp:127.0.0.1:0"] }), "test");
    await input.stop(); // before start: a no-op
    const fresh = new StatsdInput(config({ listen: ["udp:127.0.0.1:0"] }), "test");
    await fresh.start(f.ctx);
    const { port } = hostPortOf(fresh.addresses()[0]);
    const client = createSocket("udp4");
    try {
      await send(client, encoder.encode("before:1|c"), port);
      await until(() => f.frames.length === 1, "one frame");
      const first = fresh.stop();
      assert.equal(fresh.stop(), first);
      await first;
      assert.deepEqual(fresh.addresses(), []);
      // The port is closed now: a datagram to it goes nowhere. A datagram sent after it, through the
      // same loopback to a probe socket, arrives only once the first one would have.
      const late = createSocket("udp4");
      late.on("error", () => undefined); // the ICMP "port unreachable" may come back as ECONNREFUSED
      await send(late, encoder.encode("after:1|c"), port).catch(() => undefined);
      const probe = createSocket("udp4");
      await new Promise<void>((resolve) => probe.bind(0, "127.0.0.1", resolve));
      const seen = new Promise<void>((resolve) => probe.once("message", () => resolve()));
      const prober = createSocket("udp4");
      await send(prober, encoder.encode("probe"), probe.address().port);
      await seen;
      for (const socket of [late, probe, prober]) socket.close();
      assert.deepEqual(f.frames, ["before:1|c"]);
      assert.equal(f.packets("udp"), 1);
    } finally {
      client.close();
    }
  });

  it("stop() runs when the collector's signal aborts", async () => {
    const f = fakeContext();
    const input = new StatsdInput(config({ listen: ["udp:127.0.0.1:0", "tcp:127.0.0.1:0"] }), "test");
    await input.start(f.ctx);
    const { port } = hostPortOf(input.addresses()[1]);
    f.abort.abort();
    await until(() => input.addresses().length === 0, "the listeners to close");
    await input.stop();
    // The TCP port no longer accepts.
    await assert.rejects(connectTcp(port));
  });

  it("refreshKernelDrops() counts datagrams the kernel dropped on a full receive buffer", async (t) => {
    if (!existsSync("/proc/net/udp")) return t.skip("no /proc/net/udp on this system");
    if (spawnSync("bash", ["-c", "true"]).status !== 0) return t.skip("no bash to send from");
    const f = fakeContext();
    // The smallest buffer the kernel allows (about 2 KiB) fills after a few datagrams; where read_buffer
    // is not applied (Deno), 1000 datagrams of 1 KiB (each taking about 2 KiB of buffer) overflow the
    // system default (net.core.rmem_default, usually 208 KiB).
    const input = new StatsdInput(config({ listen: ["udp:127.0.0.1:0"], read_buffer: 1 }), "test");
    await input.start(f.ctx);
    try {
      const { port } = hostPortOf(input.addresses()[0]);
      // spawnSync blocks this thread, so nothing reads the socket while bash sends.
      const line = "k:1|c".padEnd(1024, " ");
      const script = `for i in $(seq 1 1000); do printf '%s' '${line}' > /dev/udp/127.0.0.1/${port}; done`;
      assert.equal(spawnSync("bash", ["-c", script]).status, 0);
      const drops = await input.refreshKernelDrops();
      await until(() => f.frames.length + drops >= 1000, "the datagrams the kernel kept");
      assert.ok(drops > 0, `expected kernel drops, found ${drops}`);
      assert.equal(f.frames.length + drops, 1000);
      assert.equal(input.kernelDrops(), drops);
      assert.equal(f.stats.dropped("kernel").get(), drops);
      // A second read adds only what is new.
      assert.equal(await input.refreshKernelDrops(), drops);
      assert.equal(f.stats.dropped("kernel").get(), drops);
    } finally {
      await input.stop();
    }
  });
});

describe("StatsdInput over TCP", () => {
  it("frames hold whole lines: split writes, CRLF and a final line without a newline", async () => {
    const f = fakeContext();
    const input = new StatsdInput(config({ listen: ["tcp:127.0.0.1:0"] }), "test");
    await input.start(f.ctx);
    try {
      const { port } = hostPortOf(input.addresses()[0]);
      const client = await connectTcp(port);
      await write(client, "a:1|c\nb:");
      await write(client, "2|c\r\nc:3");
      await write(client, "|ms\nd:4|g");
      client.end();
      await closed(client);
      await until(() => f.lines().length === 4, "four lines");
      assert.deepEqual(f.lines(), ["a:1|c", "b:2|c\r", "c:3|ms", "d:4|g"]);
      for (const frame of f.frames.slice(0, -1)) {
        assert.ok(frame.endsWith("\n"), `frame ${JSON.stringify(frame)}`);
      }
      assert.equal(f.frames.at(-1), f.frames.length === 1 ? "a:1|c\nb:2|c\r\nc:3|ms\nd:4|g" : "d:4|g");
      assert.ok(f.packets("tcp") >= 1);
    } finally {
      await input.stop();
    }
  });

  it("a line longer than max_line_length is skipped and counted, its neighbours kept", async () => {
    const f = fakeContext();
    const input = new StatsdInput(config({ listen: ["tcp:127.0.0.1:0"], max_line_length: 16 }), "test");
    await input.start(f.ctx);
    try {
      const { port } = hostPortOf(input.addresses()[0]);
      const client = await connectTcp(port);
      await write(client, `ok:1|c\n${"x".repeat(40)}`);
      await write(client, `${"y".repeat(40)}\nok:2|c\n${"z".repeat(17)}\nok:3|c\n`);
      client.end();
      await closed(client);
      await until(() => f.lines().length === 3, "three lines");
      assert.deepEqual(f.lines(), ["ok:1|c", "ok:2|c", "ok:3|c"]);
      assert.equal(f.stats.dropped("line_too_long").get(), 2);
    } finally {
      await input.stop();
    }
  });

  it("many connections at once each keep their own partial line", async () => {
    const f = fakeContext();
    const input = new StatsdInput(config({ listen: ["tcp:127.0.0.1:0"] }), "test");
    await input.start(f.ctx);
    try {
      const { port } = hostPortOf(input.addresses()[0]);
      const clients = await Promise.all(Array.from({ length: 20 }, () => connectTcp(port)));
      const expected: string[] = [];
      for (let round = 0; round < 10; round++) {
        await Promise.all(clients.map((client, c) => {
          const line = `conn${c}.round${round}:${round}|c`;
          expected.push(line);
          // Each line is cut in two writes, interleaved with every other connection's.
          return write(client, line.slice(0, 7)).then(() => write(client, `${line.slice(7)}\n`));
        }));
      }
      for (const client of clients) client.end();
      await Promise.all(clients.map(closed));
      await until(() => f.lines().length === expected.length, `${expected.length} lines`);
      assert.deepEqual(f.lines().sort(), expected.sort());
    } finally {
      await input.stop();
    }
  });

  it("a connection past max_tcp_connections is refused and counted", async () => {
    const f = fakeContext();
    const input = new StatsdInput(config({ listen: ["tcp:127.0.0.1:0"], max_tcp_connections: 2 }), "test");
    await input.start(f.ctx);
    try {
      const { port } = hostPortOf(input.addresses()[0]);
      const first = await connectTcp(port);
      const second = await connectTcp(port);
      await write(first, "one:1|c\n");
      await write(second, "two:1|c\n");
      await until(() => f.lines().length === 2, "both accepted connections");
      const third = await connectTcp(port);
      third.on("error", () => undefined);
      await closed(third);
      assert.equal(f.stats.errors("tcp_connection_limit").get(), 1);
      assert.ok(!first.destroyed && !second.destroyed);
      first.destroy();
      second.destroy();
    } finally {
      await input.stop();
    }
  });

  it("stop() closes open connections, drops their partial line, and emits nothing after", async () => {
    const f = fakeContext();
    const input = new StatsdInput(config({ listen: ["tcp:127.0.0.1:0"] }), "test");
    await input.start(f.ctx);
    const { port } = hostPortOf(input.addresses()[0]);
    const client = await connectTcp(port);
    client.on("error", () => undefined);
    await write(client, "whole:1|c\npart");
    await until(() => f.lines().length === 1, "the whole line");
    await input.stop();
    await closed(client);
    assert.deepEqual(f.frames, ["whole:1|c\n"]);
    assert.equal(f.stats.dropped("incomplete_line").get(), 1);
  });

  it("start() rejects a taken TCP port with the listener's address", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    const input = new StatsdInput(config({ listen: [`tcp:127.0.0.1:${port}`] }), "test");
    try {
      await assert.rejects(
        input.start(fakeContext().ctx),
        new Error(`Cannot bind statsd listener "tcp:127.0.0.1:${port}": address already in use`),
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("StatsdInput over a Unix datagram socket", () => {
  it("each datagram from the runtime becomes one frame, none after stop()", async () => {
    const runtime = new FakeUnixRuntime();
    const f = fakeContext(runtime);
    const input = new StatsdInput(config({ listen: ["unix:/run/tally/statsd.sock"] }), "test");
    await input.start(f.ctx);
    assert.equal(runtime.path, "/run/tally/statsd.sock");
    assert.deepEqual(input.addresses(), ["unix:/run/tally/statsd.sock"]);
    const onData = runtime.onData!;
    // The runtime reuses its buffer, so the input must not keep the view.
    const buffer = encoder.encode("a:1|c\nb:2|g");
    onData(buffer);
    buffer.set(encoder.encode("z:9|c\nz:9|c"));
    onData(encoder.encode("_e{5,4}:title|text"));
    assert.deepEqual(f.frames, ["a:1|c\nb:2|g", "_e{5,4}:title|text"]);
    assert.equal(f.packets("unix"), 2);
    await input.stop();
    assert.equal(runtime.closed, 1);
    onData(encoder.encode("late:1|c"));
    assert.equal(f.frames.length, 2);
  });

  it("start() rewords the runtime's bind error for the statsd listener", async () => {
    const runtime = new FakeUnixRuntime();
    const cause = Object.assign(
      new Error('Cannot bind unix datagram listener "/tmp/x.sock": the path exists and is not a socket'),
      {},
    );
    runtime.failWith = cause;
    const input = new StatsdInput(config({ listen: ["unix:/tmp/x.sock"] }), "test");
    await assert.rejects(input.start(fakeContext(runtime).ctx), (error: Error) => {
      assert.equal(
        error.message,
        'Cannot bind statsd listener "unix:/tmp/x.sock": the path exists and is not a socket',
      );
      assert.equal(error.cause, cause);
      return true;
    });
  });

  it("round-trips datagrams through the real runtime", async (t) => {
    let detect: typeof import("../../runtime/detect.ts").detectRuntime;
    try {
      ({ detectRuntime: detect } = await import("../../runtime/detect.ts"));
    } catch {
      return t.skip("src/runtime/detect.ts is not there yet");
    }
    if (spawnSync("python3", ["-c", "import socket"]).status !== 0) return t.skip("no python3 to send from");
    const dir = mkdtempSync(join(tmpdir(), "tally-statsd-"));
    const path = join(dir, "statsd.sock");
    const f = fakeContext(detect());
    const input = new StatsdInput(config({ listen: [`unix:${path}`] }), "test");
    await input.start(f.ctx);
    try {
      const sender = [
        "import socket, sys",
        "s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)",
        "for i in range(5): s.sendto(('u%d:1|c' % i).encode(), sys.argv[1])",
      ].join("\n");
      const sent = spawnSync("python3", ["-c", sender, path], { encoding: "utf8" });
      assert.equal(sent.status, 0, sent.stderr);
      await until(() => f.frames.length === 5, "five datagrams");
      assert.deepEqual(f.frames, ["u0:1|c", "u1:1|c", "u2:1|c", "u3:1|c", "u4:1|c"]);
      assert.equal(f.packets("unix"), 5);
    } finally {
      await input.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
