import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import type { Socket as UdpSocket } from "node:dgram";
import { existsSync, readFileSync } from "node:fs";
import { parseListenAddress } from "../config/address.ts";
import { createLogger } from "../internal/log.ts";
import { componentStats, SelfStats } from "../internal/self_stats.ts";
import { detectRuntime } from "../runtime/detect.ts";
import { FFI_UNAVAILABLE } from "../runtime/types.ts";
import type { Closer, Runtime } from "../runtime/types.ts";
import type { InputContext } from "./input.ts";
import { UdpListeners } from "./_udp_listeners.ts";
import type { UdpReceive } from "./_udp_receive.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const REAL_RUNTIME = "Deno" in globalThis ? "deno" : "bun";

/**
 * A runtime good enough for UDP sockets: the name and its dgram capability, plus the real runtime's libc
 * sockets when `ffi` says so (without them, every mode reads with node:dgram).
 */
function fakeRuntime(name: Runtime["name"], ffi = false): Runtime {
  const real = detectRuntime();
  return {
    name,
    dgramReceiveBuffer: name !== "deno",
    serve: () => Promise.reject(new Error("Cannot serve: not part of this fake")),
    listenUnixDatagram: (): Promise<Closer> =>
      Promise.reject(new Error("Cannot listen: not part of this fake")),
    ...(ffi && real.openUdp !== undefined ? { openUdp: real.openUdp } : {}),
  };
}

/** Listeners for a made-up `example` input that record every datagram (decoded) and every log line. */
function listeners(
  readBuffer: number,
  options: { readonly runtime?: Runtime; readonly receive?: UdpReceive } = {},
) {
  const messages: string[] = [];
  const logs: string[] = [];
  const stats = componentStats(new SelfStats(), { type: "example", id: "test" });
  const receive = options.receive ?? "dgram";
  const ctx: InputContext = {
    emit: () => true,
    signal: new AbortController().signal,
    runtime: options.runtime ?? fakeRuntime(REAL_RUNTIME, receive !== "dgram"),
    log: createLogger({ component_type: "example", component_id: "test" }, { write: (l) => logs.push(l) }),
    stats,
  };
  function onMessage(bytes: Uint8Array): void {
    messages.push(decoder.decode(bytes));
  }
  const udp = new UdpListeners(ctx, { component: "example", readBuffer, receive, onMessage });
  return { udp, messages, logs, stats };
}

/** The one warning logged; throws when there is none or more. */
function warningIn(logs: readonly string[]): string {
  const warnings = logs.filter((line) => line.includes("level=warn"));
  assert.equal(warnings.length, 1, logs.join("\n"));
  return warnings[0]!;
}

function portOf(address: string | undefined): number {
  const parsed = parseListenAddress(address ?? "");
  if (parsed === undefined || parsed.transport !== "udp") throw new Error(`Not a UDP address "${address}"`);
  return parsed.port;
}

function send(socket: UdpSocket, text: string, port: number): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.send(encoder.encode(text), port, "127.0.0.1", (error) => (error ? reject(error) : resolve()))
  );
}

/** Waits until `done()` holds; fails the test after 5 s rather than hanging (never a speed assertion). */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

for (const receive of ["dgram", "recvmmsg"] as const) {
  describe(`UdpListeners reading with ${receive}`, () => {
    it("bind() returns the port the system picked and hands every datagram to onMessage", async () => {
      const l = listeners(0, { receive });
      const client = createSocket("udp4");
      try {
        const first = await l.udp.bind("udp:127.0.0.1:0");
        const second = await l.udp.bind("udp:127.0.0.1:0");
        assert.deepEqual(l.udp.addresses(), [first, second]);
        assert.notEqual(portOf(first), portOf(second));
        assert.ok(
          l.logs.some((line) => line.includes(`bound=${first} receive=${receive}`)),
          l.logs.join("\n"),
        );
        await send(client, "a:1|c", portOf(first));
        await send(client, "b:2|c", portOf(second));
        await until(() => l.messages.length === 2, "two datagrams");
        assert.deepEqual([...l.messages].sort(), ["a:1|c", "b:2|c"]);
      } finally {
        client.close();
        await l.udp.close();
      }
    });

    it("bind() rejects a taken port and a non-UDP address with sentences naming the component", async () => {
      const taken = createSocket("udp4");
      await new Promise<void>((resolve) => taken.bind(0, "127.0.0.1", resolve));
      const address = `udp:127.0.0.1:${taken.address().port}`;
      const l = listeners(0, { receive });
      try {
        await assert.rejects(l.udp.bind(address), (error: Error) => {
          assert.equal(error.message, `Cannot bind example listener "${address}": address already in use`);
          assert.equal((error.cause as { code?: string }).code, "EADDRINUSE");
          return true;
        });
        await assert.rejects(l.udp.bind("tcp:127.0.0.1:0"), {
          message: 'Cannot bind example listener "tcp:127.0.0.1:0": not a UDP address',
        });
        assert.deepEqual(l.udp.addresses(), []);
      } finally {
        taken.close();
        await l.udp.close();
      }
    });

    it("bind() leaves read_buffer out on Deno's node:dgram, and says so", async (t) => {
      if (receive !== "dgram") return t.skip("libc sockets apply read_buffer on both runtimes");
      const l = listeners(1 << 20, { runtime: fakeRuntime("deno"), receive });
      try {
        await l.udp.bind("udp:127.0.0.1:0");
        const warning = warningIn(l.logs);
        assert.match(warning, /msg="read_buffer is not applied on Deno; UDP sockets keep/);
        assert.match(warning, / read_buffer=1048576/);
      } finally {
        await l.udp.close();
      }
    });

    it("bind() warns when the kernel grants a smaller receive buffer than read_buffer", async (t) => {
      if (REAL_RUNTIME === "deno" && receive === "dgram") {
        return t.skip("Deno's node:dgram does not apply recvBufferSize");
      }
      const max = existsSync("/proc/sys/net/core/rmem_max")
        ? Number(readFileSync("/proc/sys/net/core/rmem_max", "utf8"))
        : Number.NaN;
      if (!(max < 1 << 30)) return t.skip("no net.core.rmem_max below 1 GiB to be capped by");
      // Even where tally may force the size past rmem_max (SO_RCVBUFFORCE, CAP_NET_ADMIN), Linux caps a
      // forced buffer at INT_MAX / 2, one byte short of the 1 GiB asked for here: the warning shows either way.
      const l = listeners(1 << 30, { runtime: fakeRuntime("bun", receive !== "dgram"), receive });
      try {
        await l.udp.bind("udp:127.0.0.1:0");
        const warning = warningIn(l.logs);
        assert.match(warning, /msg="UDP receive buffer capped by the kernel; raise it with sysctl/);
        assert.match(warning, / read_buffer=1073741824 granted=\d+/);
      } finally {
        await l.udp.close();
      }
    });

    it("close() frees the ports, calls onMessage no more, and may be called again", async () => {
      const l = listeners(0, { receive });
      const port = portOf(await l.udp.bind("udp:127.0.0.1:0"));
      await l.udp.watchKernelDrops();
      await l.udp.close();
      await l.udp.close();
      assert.deepEqual(l.udp.addresses(), []);
      // The port is free again: a new socket binds it exclusively and takes the datagram instead.
      const again = createSocket("udp4");
      const client = createSocket("udp4");
      try {
        await new Promise<void>((resolve, reject) => {
          again.once("error", reject);
          again.bind({ port, address: "127.0.0.1", exclusive: true }, resolve);
        });
        const received = new Promise<string>((resolve) =>
          again.once("message", (m) => resolve(decoder.decode(m)))
        );
        await send(client, "late:1|c", port);
        assert.equal(await received, "late:1|c");
        assert.deepEqual(l.messages, []);
      } finally {
        client.close();
        again.close();
      }
    });

    it("refreshKernelDrops() counts datagrams the kernel dropped on a full receive buffer", async (t) => {
      if (!existsSync("/proc/net/udp")) return t.skip("no /proc/net/udp on this system");
      if (spawnSync("bash", ["-c", "true"]).status !== 0) return t.skip("no bash to send from");
      // The smallest buffer the kernel allows (about 2 KiB) fills after a few datagrams; where read_buffer
      // is not applied (Deno), 1000 datagrams of 1 KiB overflow the system default (net.core.rmem_default).
      const l = listeners(1, { receive });
      const port = portOf(await l.udp.bind("udp:127.0.0.1:0"));
      await l.udp.watchKernelDrops();
      try {
        assert.equal(l.udp.kernelDrops(), 0);
        // spawnSync blocks this thread, so nothing reads the socket while bash sends.
        const datagram = "d".repeat(1024);
        const script =
          `for i in $(seq 1 1000); do printf '%s' '${datagram}' > /dev/udp/127.0.0.1/${port}; done`;
        assert.equal(spawnSync("bash", ["-c", script]).status, 0);
        const drops = await l.udp.refreshKernelDrops();
        await until(() => l.messages.length + drops >= 1000, "the datagrams the kernel kept");
        assert.ok(drops > 0, `expected kernel drops, found ${drops}`);
        assert.equal(l.messages.length + drops, 1000);
        assert.equal(l.udp.kernelDrops(), drops);
        assert.equal(l.stats.dropped("kernel").get(), drops);
        // A second read adds only what is new, and the count outlives the sockets.
        assert.equal(await l.udp.refreshKernelDrops(), drops);
        await l.udp.close();
        assert.equal(l.udp.kernelDrops(), drops);
        assert.equal(l.stats.dropped("kernel").get(), drops);
      } finally {
        await l.udp.close();
      }
    });
  });
}

describe("UdpListeners choosing how to read", () => {
  it('udp_receive = "auto" reads with recvmmsg where the runtime has FFI', async (t) => {
    if (detectRuntime().openUdp === undefined) return t.skip("this runtime has no FFI sockets");
    const l = listeners(0, { receive: "auto" });
    try {
      await l.udp.bind("udp:127.0.0.1:0");
      assert.ok(l.logs.some((line) => line.includes("receive=recvmmsg")), l.logs.join("\n"));
    } finally {
      await l.udp.close();
    }
  });

  it('udp_receive = "auto" falls back to node:dgram, with a warning, where libc cannot be loaded', async () => {
    const unavailable: Runtime = {
      ...fakeRuntime(REAL_RUNTIME),
      openUdp: () =>
        Promise.reject(
          Object.assign(new Error("Cannot load libc through FFI: none here"), { code: FFI_UNAVAILABLE }),
        ),
    };
    const l = listeners(0, { runtime: unavailable, receive: "auto" });
    const client = createSocket("udp4");
    try {
      const port = portOf(await l.udp.bind("udp:127.0.0.1:0"));
      assert.match(
        warningIn(l.logs),
        /msg="Cannot read UDP in batches; falling back to node:dgram".*error="Cannot load libc/,
      );
      assert.ok(l.logs.some((line) => line.includes("receive=dgram")), l.logs.join("\n"));
      await send(client, "a:1|c", port);
      await until(() => l.messages.length === 1, "the datagram");
    } finally {
      client.close();
      await l.udp.close();
    }
  });

  it('udp_receive = "recvmmsg" refuses to fall back: the bind fails, naming why', async () => {
    const l = listeners(0, { runtime: fakeRuntime(REAL_RUNTIME), receive: "recvmmsg" });
    await assert.rejects(l.udp.bind("udp:127.0.0.1:0"), {
      message: `Cannot bind example listener "udp:127.0.0.1:0": udp_receive "recvmmsg" needs FFI, which ` +
        `${REAL_RUNTIME} lacks here`,
    });
    await l.udp.close();
  });

  it("a host name is resolved before a libc socket binds it", async (t) => {
    if (detectRuntime().openUdp === undefined) return t.skip("this runtime has no FFI sockets");
    const l = listeners(0, { receive: "recvmmsg" });
    const client = createSocket("udp4");
    try {
      const bound = await l.udp.bind("udp:localhost:0");
      assert.match(bound, /^udp:127\.0\.0\.1:\d+$/);
      await send(client, "a:1|c", portOf(bound));
      await until(() => l.messages.length === 1, "the datagram");
    } finally {
      client.close();
      await l.udp.close();
    }
  });

  it("a socket of an input with a format is handed to the workers, and taken back before it closes", async (t) => {
    if (detectRuntime().openUdp === undefined) return t.skip("this runtime has no FFI sockets");
    const logs: string[] = [];
    const events: string[] = [];
    const ctx: InputContext = {
      emit: () => true,
      attachSocket(fd, format, onPackets) {
        events.push(`attach fd=${fd > 2} format=${format}`);
        onPackets(7);
        return Promise.resolve(() => {
          events.push("detach");
          return Promise.resolve();
        });
      },
      signal: new AbortController().signal,
      runtime: fakeRuntime(REAL_RUNTIME, true),
      log: createLogger({ component_type: "example", component_id: "test" }, { write: (l) => logs.push(l) }),
      stats: componentStats(new SelfStats(), { type: "example", id: "test" }),
    };
    let packets = 0;
    const messages: Uint8Array[] = [];
    const udp = new UdpListeners(ctx, {
      component: "example",
      readBuffer: 0,
      receive: "recvmmsg",
      format: 1,
      onPackets: (n) => (packets += n),
      onMessage: (bytes) => messages.push(bytes),
    });
    const port = portOf(await udp.bind("udp:127.0.0.1:0"));
    assert.ok(logs.some((line) => line.includes("receive=recvmmsg read_by=workers")), logs.join("\n"));
    assert.deepEqual(events, ["attach fd=true format=1"]);
    assert.equal(packets, 7);
    await udp.close();
    assert.deepEqual(events, ["attach fd=true format=1", "detach"]);
    // Closed after the detach: the port is free again.
    const again = createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      again.once("error", reject);
      again.bind({ port, address: "127.0.0.1", exclusive: true }, resolve);
    });
    again.close();
    assert.deepEqual(messages, []);
  });
});
