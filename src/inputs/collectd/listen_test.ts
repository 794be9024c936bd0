import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { collectingContext } from "../../../tests/harness/collecting_context.ts";
import { spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import type { Socket as UdpSocket } from "node:dgram";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { parseListenAddress } from "../../config/address.ts";
import { createCollectdFormat } from "../../formats/collectd.ts";
import { encodeCollectdParts } from "../../formats/_collectd_parts.ts";
import { defaultTypesDb } from "../../formats/_load_types_db.ts";
import { FORMAT_IDS } from "../../model/frame.ts";
import type { BadReason, Sample } from "../../model/sample.ts";
import type { Closer, Runtime } from "../../runtime/types.ts";
import { collectdMissing, startCollectd } from "../../../tests/harness/collectd.ts";
import type { CollectdProcess } from "../../../tests/harness/collectd.ts";
import { schema } from "./config.ts";
import { CollectdInput } from "./listen.ts";
import { sealCollectdPacket } from "./seal.ts";

const decoder = new TextDecoder();
const dir = mkdtempSync(join(tmpdir(), "tally-collectd-listen-"));
const authFile = join(dir, "users.auth");
writeFileSync(authFile, "# tally test users\nu: p\nalice: s3cret\n");
after(() => rmSync(dir, { recursive: true, force: true }));

/** A runtime good enough for a UDP-only input: the name is real, the rest is never called. */
const runtime: Runtime = {
  name: "Deno" in globalThis ? "deno" : "bun",
  dgramReceiveBuffer: !("Deno" in globalThis),
  serve: () => Promise.reject(new Error("Cannot serve: not part of this fake")),
  listenUnixDatagram: (): Promise<Closer> =>
    Promise.reject(new Error("Cannot listen: not part of this fake")),
};

/** An InputContext that records a copy of every frame (emit's bytes are only valid during the call). */
function fakeContext(id = "test") {
  const collected = collectingContext({ type: "collectd", id }, { runtime });
  /** The value of a self-metric series, by name and one label. */
  function selfMetric(name: string, label: string, value: string): number {
    return collected.selfMetric(name, { [label]: value });
  }
  const { ctx, frames, formats, stats, logs, abort } = collected;
  return { ctx, frames, formats, stats, logs, abort, selfMetric };
}

function config(input: v.InferInput<typeof schema>) {
  return v.parse(schema, input);
}

function portOf(input: CollectdInput): number {
  const address = parseListenAddress(input.addresses()[0] ?? "");
  if (address === undefined || address.transport === "unix") throw new Error("Not bound");
  return address.port;
}

/** Waits until `done()` holds; fails the test after `ms` rather than hanging (never a speed assertion). */
async function until(done: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function send(socket: UdpSocket, bytes: Uint8Array, port: number): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.send(bytes, port, "127.0.0.1", (error) => (error ? reject(error) : resolve()))
  );
}

/** The parts of a plain packet as `type:string` for string parts and `type` for others; throws if they do not tile it. */
function partsOf(bytes: Uint8Array): string[] {
  const parts: string[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  while (offset < bytes.length) {
    const type = view.getUint16(offset);
    const length = view.getUint16(offset + 2);
    assert.ok(length >= 4 && offset + length <= bytes.length, `part at ${offset} has length ${length}`);
    const isString = type <= 0x0005 && type !== 0x0001;
    parts.push(
      isString ? `${type}:${decoder.decode(bytes.subarray(offset + 4, offset + length - 1))}` : `${type}`,
    );
    offset += length;
  }
  return parts;
}

const PAYLOAD = encodeCollectdParts([
  { kind: "string", type: 0x0000, text: "h1" },
  { kind: "number", type: 0x0008, value: 1_700_000_000n << 30n },
  { kind: "string", type: 0x0002, text: "load" },
  { kind: "string", type: 0x0004, text: "load" },
  { kind: "values", values: [{ code: 1, value: 0.5 }] },
]);

describe("CollectdInput with packets built here", () => {
  it("start() binds and a plain datagram at level none becomes one collectd frame, byte for byte", async () => {
    const f = fakeContext();
    const input = new CollectdInput(config({ listen: ["udp:127.0.0.1:0"] }), "test");
    await input.start(f.ctx);
    const client = createSocket("udp4");
    try {
      await send(client, PAYLOAD, portOf(input));
      await until(() => f.frames.length === 1, "one frame");
      assert.deepEqual(f.frames, [PAYLOAD]);
      assert.deepEqual([...f.formats], [FORMAT_IDS.collectd]);
      assert.equal(f.selfMetric("tally_input_packets_total", "transport", "udp"), 1);
    } finally {
      client.close();
      await input.stop();
    }
  });

  it("the input counts refused packets by reason and emits none of them", async () => {
    const f = fakeContext();
    const input = new CollectdInput(
      config({ listen: ["udp:127.0.0.1:0"], security_level: "sign", auth_file: authFile }),
      "test",
    );
    await input.start(f.ctx);
    const client = createSocket("udp4");
    const port = portOf(input);
    try {
      await send(client, PAYLOAD, port);
      await send(client, sealCollectdPacket(PAYLOAD, { mode: "sign", user: "mallory", password: "p" }), port);
      await send(client, sealCollectdPacket(PAYLOAD, { mode: "sign", user: "u", password: "wrong" }), port);
      await send(
        client,
        sealCollectdPacket(PAYLOAD, { mode: "encrypt", user: "u", password: "wrong" }),
        port,
      );
      await send(
        client,
        sealCollectdPacket(PAYLOAD, { mode: "encrypt", user: "alice", password: "s3cret" }),
        port,
      );
      await until(
        () => f.selfMetric("tally_input_packets_total", "transport", "udp") === 5,
        "five datagrams",
      );
      assert.deepEqual(f.frames, [PAYLOAD]);
      for (const reason of ["required", "unknown_user", "bad_signature", "bad_checksum"]) {
        assert.equal(f.stats.dropped(`auth_${reason}`).get(), 1, reason);
        assert.equal(f.selfMetric("tally_collectd_auth_failures_total", "reason", reason), 1, reason);
      }
      assert.ok(f.logs.some((l) => l.includes("Refused a collectd packet") && l.includes("mallory")));
    } finally {
      client.close();
      await input.stop();
    }
  });

  it("the input re-reads a rewritten auth_file and takes the new password", async () => {
    const path = join(dir, "rotating.auth");
    writeFileSync(path, "u: old\n");
    let now = 0;
    const f = fakeContext();
    const input = new CollectdInput(
      config({ listen: ["udp:127.0.0.1:0"], security_level: "encrypt", auth_file: path }),
      "test",
      { now: () => now },
    );
    await input.start(f.ctx);
    const client = createSocket("udp4");
    const port = portOf(input);
    const sealed = (password: string) =>
      sealCollectdPacket(PAYLOAD, { mode: "encrypt", user: "u", password });
    try {
      await send(client, sealed("old"), port);
      await until(() => f.frames.length === 1, "the first frame");
      writeFileSync(path, "u: brand-new\n");
      now += 1_000;
      await send(client, sealed("old"), port);
      await send(client, sealed("brand-new"), port);
      await until(() => f.frames.length === 2, "the second frame");
      assert.equal(f.stats.dropped("auth_bad_checksum").get(), 1);
      assert.deepEqual(f.frames, [PAYLOAD, PAYLOAD]);
      assert.ok(f.logs.some((l) => l.includes("Re-read auth_file")));
      // A vanished file keeps the last users and counts the failure.
      rmSync(path);
      now += 1_000;
      await send(client, sealed("brand-new"), port);
      await until(() => f.frames.length === 3, "the third frame");
      assert.equal(f.stats.errors("auth_file").get(), 1);
    } finally {
      client.close();
      await input.stop();
    }
  });

  it("start() refuses a missing auth_file and a taken port with sentences naming them", async () => {
    const missing = join(dir, "nope.auth");
    const f = fakeContext();
    const input = new CollectdInput(
      config({ listen: ["udp:127.0.0.1:0"], security_level: "sign", auth_file: missing }),
      "test",
    );
    await assert.rejects(input.start(f.ctx), {
      message: `Cannot read collectd auth_file "${missing}": no such file`,
    });
    await input.stop();

    const taken = createSocket("udp4");
    await new Promise<void>((resolve) => taken.bind(0, "127.0.0.1", resolve));
    const address = `udp:127.0.0.1:${taken.address().port}`;
    const second = new CollectdInput(config({ listen: ["udp:127.0.0.1:0", address] }), "test");
    try {
      await assert.rejects(second.start(fakeContext().ctx), (error: Error) => {
        assert.equal(error.message, `Cannot bind collectd listener "${address}": address already in use`);
        assert.equal((error.cause as { code?: string }).code, "EADDRINUSE");
        return true;
      });
      assert.deepEqual(second.addresses(), []);
    } finally {
      taken.close();
      await second.stop();
    }
  });

  it("stop() closes the sockets: nothing is emitted after it resolves", async () => {
    const f = fakeContext();
    const input = new CollectdInput(config({ listen: ["udp:127.0.0.1:0"] }), "test");
    await input.start(f.ctx);
    const port = portOf(input);
    await input.stop();
    assert.deepEqual(input.addresses(), []);
    const client = createSocket("udp4");
    try {
      await send(client, PAYLOAD, port);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(f.frames, []);
    } finally {
      client.close();
    }
  });

  it("refreshKernelDrops() counts datagrams the kernel dropped on a full receive buffer", async (t) => {
    if (!existsSync("/proc/net/udp")) return t.skip("no /proc/net/udp on this system");
    if (spawnSync("bash", ["-c", "true"]).status !== 0) return t.skip("no bash to send from");
    const f = fakeContext();
    // The smallest buffer the kernel allows fills after a few datagrams; where read_buffer is not applied
    // (Deno), 1000 datagrams of 1 KiB overflow the system default (net.core.rmem_default).
    const input = new CollectdInput(config({ listen: ["udp:127.0.0.1:0"], read_buffer: 1 }), "test");
    await input.start(f.ctx);
    try {
      // spawnSync blocks this thread, so nothing reads the socket while bash sends.
      const datagram = "x".repeat(1024);
      const script = `for i in $(seq 1 1000); do printf '%s' '${datagram}' > /dev/udp/127.0.0.1/${
        portOf(input)
      }; done`;
      assert.equal(spawnSync("bash", ["-c", script]).status, 0);
      const drops = await input.refreshKernelDrops();
      await until(() => f.frames.length + drops >= 1000, "the datagrams the kernel kept");
      assert.ok(drops > 0, `expected kernel drops, found ${drops}`);
      assert.equal(f.frames.length + drops, 1000);
      assert.equal(f.stats.dropped("kernel").get(), drops);
      assert.equal(await input.refreshKernelDrops(), drops);
    } finally {
      await input.stop();
    }
  });

  it("aborting the collector's signal stops the input", async () => {
    const f = fakeContext();
    const input = new CollectdInput(config({ listen: ["udp:127.0.0.1:0"] }), "test");
    await input.start(f.ctx);
    f.abort.abort();
    await input.stop();
    assert.deepEqual(input.addresses(), []);
  });
});

describe("CollectdInput against the real collectd", () => {
  const missing = collectdMissing();
  /** Each Server block of one collectd run, and the tally input listening for it. */
  const cases = [
    { name: "plain", level: "none", send: "None", user: "u", password: "p" },
    { name: "sign", level: "sign", send: "Sign", user: "u", password: "p" },
    { name: "encrypt", level: "encrypt", send: "Encrypt", user: "u", password: "p" },
    { name: "sign_via_encrypt", level: "sign", send: "Encrypt", user: "alice", password: "s3cret" },
    { name: "wrong_password_sign", level: "sign", send: "Sign", user: "u", password: "wrong" },
    { name: "wrong_password_encrypt", level: "encrypt", send: "Encrypt", user: "u", password: "wrong" },
    { name: "unknown_user", level: "sign", send: "Sign", user: "mallory", password: "p" },
    { name: "plain_refused", level: "sign", send: "None", user: "u", password: "p" },
    { name: "signed_refused", level: "encrypt", send: "Sign", user: "u", password: "p" },
  ] as const;
  const running = new Map<string, { input: CollectdInput; f: ReturnType<typeof fakeContext> }>();
  let daemon: CollectdProcess | undefined;
  const parse = createCollectdFormat({ typesDb: defaultTypesDb() });

  before(async () => {
    if (missing !== undefined) return;
    const servers: string[] = [];
    for (const c of cases) {
      const f = fakeContext(c.name);
      const input = new CollectdInput(
        config({ listen: ["udp:127.0.0.1:0"], security_level: c.level, auth_file: authFile }),
        c.name,
      );
      await input.start(f.ctx);
      running.set(c.name, { input, f });
      servers.push(
        `  <Server "127.0.0.1" "${portOf(input)}">\n    SecurityLevel ${c.send}\n` +
          `    Username "${c.user}"\n    Password "${c.password}"\n  </Server>`,
      );
    }
    const collectdDir = mkdtempSync(join(dir, "collectd-"));
    daemon = await startCollectd(
      collectdDir,
      [
        "LoadPlugin cpu",
        "LoadPlugin interface",
        "LoadPlugin load",
        "LoadPlugin memory",
        "LoadPlugin network",
        // Small packets fill (and leave) sooner: collectd sends a packet when its buffer is full.
        "<Plugin network>\n  MaxPacketSize 1024",
        ...servers,
        "</Plugin>",
      ].join("\n"),
    );
    // Wait until the accepting listeners have frames with memory and load values, the others a refusal.
    await until(
      () => cases.every((c) => settled(c.name)),
      "datagrams from collectd on every listener",
      20_000,
    );
  }, { timeout: 60_000 });

  after(async () => {
    await daemon?.stop();
    for (const { input } of running.values()) await input.stop();
  });

  const REFUSED: Readonly<Record<string, string>> = {
    wrong_password_sign: "auth_bad_signature",
    wrong_password_encrypt: "auth_bad_checksum",
    unknown_user: "auth_unknown_user",
    plain_refused: "auth_required",
    signed_refused: "auth_required",
  };

  function settled(name: string): boolean {
    const reason = REFUSED[name];
    if (reason !== undefined) return dropped(name, reason) >= 1;
    const parts = frames(name).flatMap(partsOf);
    return parts.includes("2:load") && parts.includes("2:memory");
  }

  function frames(name: string): Uint8Array[] {
    return running.get(name)!.f.frames;
  }

  function dropped(name: string, reason: string): number {
    return running.get(name)!.f.stats.dropped(reason).get();
  }

  /** Asserts the frames are whole plain packets from host "tallytest" carrying load and memory values. */
  function assertPlainValueLists(name: string): void {
    const got = frames(name);
    assert.ok(got.length >= 1, `${name}: no frames`);
    const parts = got.flatMap(partsOf);
    assert.ok(parts.includes("0:tallytest"), `${name}: no host part in ${parts.slice(0, 8).join(" ")}`);
    assert.ok(parts.includes("2:load"), `${name}: no load plugin part`);
    assert.ok(parts.includes("2:memory"), `${name}: no memory plugin part`);
    assert.ok(!parts.includes("512") && !parts.includes("528"), `${name}: a security part reached a frame`);
    // The workers' format reads every value list of them.
    const samples: Sample[] = [];
    const bad: BadReason[] = [];
    for (const frame of got) {
      parse(frame, {
        sample: (s) => samples.push({ ...s }),
        event() {},
        bad: (r) => bad.push(r),
      });
    }
    assert.deepEqual(bad, [], `${name}: bad records`);
    const load = samples.find((s) => s.name === "collectd_load_shortterm");
    assert.equal(load?.kind, "gauge", `${name}: no load gauge`);
    assert.deepEqual(load?.labels, [["instance", "tallytest"]]);
    assert.ok(
      samples.some((s) => s.name === "collectd_memory" && s.kind === "gauge"),
      `${name}: no memory gauge`,
    );
  }

  it("a plain collectd packet reaches the workers as whole parts", (t) => {
    if (missing !== undefined) return t.skip(missing);
    assertPlainValueLists("plain");
  });

  it("SecurityLevel Sign from collectd is verified and emitted as plain parts", (t) => {
    if (missing !== undefined) return t.skip(missing);
    assertPlainValueLists("sign");
    assert.equal(dropped("sign", "auth_bad_signature"), 0);
  });

  it("SecurityLevel Encrypt from collectd is decrypted, checked and emitted as plain parts", (t) => {
    if (missing !== undefined) return t.skip(missing);
    assertPlainValueLists("encrypt");
    assert.equal(dropped("encrypt", "auth_bad_checksum"), 0);
  });

  it("a sign listener takes encrypted packets too", (t) => {
    if (missing !== undefined) return t.skip(missing);
    assertPlainValueLists("sign_via_encrypt");
  });

  it("wrong passwords, unknown users and missing security are counted and never emitted", (t) => {
    if (missing !== undefined) return t.skip(missing);
    const expected = Object.entries(REFUSED);
    assert.equal(expected.length, 5);
    for (const [name, reason] of expected) {
      assert.deepEqual(frames(name), [], name);
      const f = running.get(name)!.f;
      const received = f.selfMetric("tally_input_packets_total", "transport", "udp");
      assert.ok(dropped(name, reason) >= 1, `${name}: ${reason} not counted`);
      assert.equal(dropped(name, reason), received, `${name}: every datagram counted as ${reason}`);
    }
  });
});
