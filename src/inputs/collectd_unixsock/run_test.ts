import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { collectingContext } from "../../../tests/harness/collecting_context.ts";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import type { Server, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { parseCollectdUnixsock } from "../../formats/collectd_unixsock.ts";
import { FORMAT_IDS } from "../../model/frame.ts";
import type { Sample } from "../../model/sample.ts";
import type { Closer, Runtime } from "../../runtime/types.ts";
import { collectdMissing, startCollectd } from "../../../tests/harness/collectd.ts";
import type { CollectdProcess } from "../../../tests/harness/collectd.ts";
import type { InputContext } from "../input.ts";
import { schema } from "./config.ts";
import { CollectdUnixsockInput } from "./run.ts";

const decoder = new TextDecoder();
const dir = mkdtempSync(join(tmpdir(), "tally-unixsock-"));
after(() => rmSync(dir, { recursive: true, force: true }));
let sockets = 0;

const runtime: Runtime = {
  name: "Deno" in globalThis ? "deno" : "bun",
  dgramReceiveBuffer: !("Deno" in globalThis),
  serve: () => Promise.reject(new Error("Cannot serve: not part of this fake")),
  listenUnixDatagram: (): Promise<Closer> =>
    Promise.reject(new Error("Cannot listen: not part of this fake")),
};

/** An InputContext that records every frame as text. */
function fakeContext() {
  const { ctx, frames, formats, stats, logs, abort, selfMetric } = collectingContext(
    { type: "collectd_unixsock", id: "test" },
    { runtime, record: (bytes) => decoder.decode(bytes) },
  );
  function polls(result: string): number {
    return selfMetric("tally_input_polls_total", { result });
  }
  /** Every sample the frames parse to. */
  function samples(): Sample[] {
    const out: Sample[] = [];
    const sink = {
      sample: (s: Sample) => out.push({ ...s }),
      event() {},
      bad: () => assert.fail("a bad line in a frame"),
    };
    for (const frame of frames) parseCollectdUnixsock(new TextEncoder().encode(frame), sink);
    return out;
  }
  return { ctx, frames, formats, stats, logs, abort, polls, samples };
}

/** What the fake collectd answers to one command line: reply text, nothing (hang) or a closed connection. */
type Answer = string | "hang" | "close";

/** A fake collectd unixsock: a Unix stream server answering each command line with a scripted reply. */
class FakeUnixsock {
  readonly path = join(dir, `fake-${++sockets}.sock`);
  readonly commands: string[] = [];
  readonly #server: Server;
  readonly #clients = new Set<Socket>();
  answer: (command: string) => Answer;

  constructor(answer: (command: string) => Answer) {
    this.answer = answer;
    this.#server = createServer((socket) => {
      this.#clients.add(socket);
      socket.on("close", () => this.#clients.delete(socket));
      socket.on("error", () => {});
      let partial = "";
      socket.setEncoding("utf8");
      socket.on("data", (chunk: string) => {
        partial += chunk;
        let newline = partial.indexOf("\n");
        while (newline >= 0) {
          const command = partial.slice(0, newline);
          partial = partial.slice(newline + 1);
          newline = partial.indexOf("\n");
          this.commands.push(command);
          const reply = this.answer(command);
          if (reply === "close") {
            socket.destroy();
            return;
          }
          if (reply !== "hang") socket.write(reply);
        }
      });
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.#server.listen(this.path, resolve));
  }

  close(): Promise<void> {
    for (const client of this.#clients) client.destroy();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** A collectd with two value lists: load (three data sources) and cpu-0/cpu-idle. */
function collectdLike(
  epochs: { load: string; cpu: string } = { load: "1700000000.100", cpu: "1700000000.200" },
) {
  return (command: string): Answer => {
    if (command === "LISTVAL") {
      return `2 Values found\n${epochs.load} h/load/load\n${epochs.cpu} h/cpu-0/cpu-idle\n`;
    }
    if (command === 'GETVAL "h/load/load"') {
      return "3 Values found\nshortterm=1.023438e+00\nmidterm=NaN\nlongterm=1.040527e+00\n";
    }
    if (command === 'GETVAL "h/cpu-0/cpu-idle"') return "1 Value found\nvalue=9.803103e+01\n";
    return "-1 No such value\n";
  };
}

function input(path: string, options: { interval?: string; timeout?: string } = {}) {
  return new CollectdUnixsockInput(
    v.parse(schema, { path, interval: options.interval ?? "1h", timeout: options.timeout ?? "2s" }),
    "test",
  );
}

/** Starts an input (its first poll runs at once) and waits for that poll. */
async function started(i: CollectdUnixsockInput, ctx: InputContext) {
  await i.start(ctx);
  return await i.settled();
}

async function until(done: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("CollectdUnixsockInput against a scripted unixsock", () => {
  it("poll() sends LISTVAL and GETVAL, drops NaN values, and emits one collectd_unixsock frame", async () => {
    const fake = new FakeUnixsock(collectdLike());
    await fake.listen();
    const f = fakeContext();
    const i = input(fake.path);
    try {
      assert.deepEqual(await started(i, f.ctx), { kind: "ok", valueLists: 2, frames: 1 });
      assert.deepEqual(fake.commands, ["LISTVAL", 'GETVAL "h/load/load"', 'GETVAL "h/cpu-0/cpu-idle"']);
      assert.deepEqual(f.frames, [
        "1700000000.100\th/load/load\tshortterm=1.023438e+00\tlongterm=1.040527e+00\n" +
        "1700000000.200\th/cpu-0/cpu-idle\tvalue=9.803103e+01\n",
      ]);
      assert.deepEqual([...f.formats], [FORMAT_IDS.collectd_unixsock]);
      assert.equal(f.stats.dropped("nan_value").get(), 1);
      assert.equal(f.polls("ok"), 1);
      assert.deepEqual(f.samples().map((s) => [s.name, s.value]), [
        ["collectd_load_shortterm", 1.023438],
        ["collectd_load_longterm", 1.040527],
        ["collectd_cpu", 98.03103],
      ]);
    } finally {
      await i.stop();
      await fake.close();
    }
  });

  it("poll() asks only for the value lists collectd updated since the last poll", async () => {
    const epochs = { load: "1700000000.100", cpu: "1700000000.200" };
    const fake = new FakeUnixsock(collectdLike(epochs));
    await fake.listen();
    const f = fakeContext();
    const i = input(fake.path);
    try {
      await started(i, f.ctx);
      fake.commands.length = 0;
      epochs.cpu = "1700000010.200";
      assert.deepEqual(await i.poll(), { kind: "ok", valueLists: 1, frames: 1 });
      assert.deepEqual(fake.commands, ["LISTVAL", 'GETVAL "h/cpu-0/cpu-idle"']);
      fake.commands.length = 0;
      assert.deepEqual(await i.poll(), { kind: "ok", valueLists: 0, frames: 0 });
      assert.deepEqual(fake.commands, ["LISTVAL"]);
      assert.equal(f.frames.length, 2);
    } finally {
      await i.stop();
      await fake.close();
    }
  });

  it("poll() skips an identifier whose GETVAL fails, counts it, and asks again next time", async () => {
    let refuse = true;
    const base = collectdLike();
    const fake = new FakeUnixsock((command) =>
      refuse && command.includes("load") ? "-1 No such value\n" : base(command)
    );
    await fake.listen();
    const f = fakeContext();
    const i = input(fake.path);
    try {
      assert.deepEqual(await started(i, f.ctx), { kind: "ok", valueLists: 1, frames: 1 });
      assert.equal(f.stats.errors("getval").get(), 1);
      refuse = false;
      fake.commands.length = 0;
      assert.deepEqual(await i.poll(), { kind: "ok", valueLists: 1, frames: 1 });
      assert.deepEqual(fake.commands, ["LISTVAL", 'GETVAL "h/load/load"']);
    } finally {
      await i.stop();
      await fake.close();
    }
  });

  it("poll() quotes identifiers with spaces, quotes and backslashes, and skips those a frame cannot carry", async () => {
    const fake = new FakeUnixsock((command) => {
      if (command === "LISTVAL") {
        return '2 Values found\n1700000000.000 h/df-my "disk"\\x/df_complex-free\n1700000000.000 h/x\ty/gauge\n';
      }
      return "1 Value found\nvalue=1.000000e+00\n";
    });
    await fake.listen();
    const f = fakeContext();
    const i = input(fake.path);
    try {
      await started(i, f.ctx);
      assert.deepEqual(fake.commands, ["LISTVAL", 'GETVAL "h/df-my \\"disk\\"\\\\x/df_complex-free"']);
      assert.equal(f.stats.dropped("bad_identifier").get(), 1);
      assert.deepEqual(f.samples().map((s) => s.labels), [[["df", 'my "disk"\\x'], ["instance", "h"], [
        "type",
        "free",
      ]]]);
    } finally {
      await i.stop();
      await fake.close();
    }
  });

  it("poll() reports a failed LISTVAL, a garbled reply and a connection closed mid-reply by error type", async () => {
    const cases: Array<[answer: (command: string) => Answer, errorType: string]> = [
      [() => "-1 Something broke.\n", "listval"],
      [() => "Hello there\n", "protocol"],
      [(c) => (c === "LISTVAL" ? "1 Value found\n1700000000.000 h/load/load\n" : "close"), "connection"],
      [
        (
          c,
        ) => (c === "LISTVAL" ? "1 Value found\n1700000000.000 h/load/load\n" : "1 Value found\nno-equals\n"),
        "protocol",
      ],
    ];
    for (const [answer, errorType] of cases) {
      const fake = new FakeUnixsock(answer);
      await fake.listen();
      const f = fakeContext();
      const i = input(fake.path);
      try {
        const result = await started(i, f.ctx);
        assert.equal(result?.kind, "failed", errorType);
        assert.equal(result?.kind === "failed" && result.error, errorType);
        assert.equal(f.stats.errors(errorType).get(), 1, errorType);
        assert.equal(f.polls("failed"), 1);
        assert.deepEqual(f.frames, []);
      } finally {
        await i.stop();
        await fake.close();
      }
    }
  });

  it("poll() gives up on a collectd that does not answer within the timeout", async () => {
    const fake = new FakeUnixsock(() => "hang");
    await fake.listen();
    const f = fakeContext();
    const i = input(fake.path, { timeout: "100ms" });
    try {
      const result = await started(i, f.ctx);
      assert.deepEqual(result, {
        kind: "failed",
        error: "timeout",
        message: "the poll took longer than 100 ms",
      });
      assert.equal(f.stats.errors("timeout").get(), 1);
    } finally {
      await i.stop();
      await fake.close();
    }
  });

  it("poll() skips and counts a poll due while the previous one still runs", async () => {
    const fake = new FakeUnixsock(() => "hang");
    await fake.listen();
    const f = fakeContext();
    const i = input(fake.path, { timeout: "10s" });
    try {
      await i.start(f.ctx);
      assert.deepEqual(await i.poll(), { kind: "skipped" });
      assert.equal(f.stats.errors("poll_overrun").get(), 1);
      assert.equal(f.polls("skipped"), 1);
      assert.ok(f.logs.some((l) => l.includes("previous one is still running")));
    } finally {
      // stop() abandons the hanging poll at once.
      await i.stop();
      await fake.close();
    }
    assert.equal(await i.settled(), undefined);
    assert.deepEqual(f.frames, []);
  });

  it("poll() splits a large poll into frames of whole lines of at most 64 KiB", async () => {
    const ids = Array.from(
      { length: 3000 },
      (_, k) => `host-with-a-long-name/plugin-${k}/gauge-instance-${k}`,
    );
    const fake = new FakeUnixsock((command) =>
      command === "LISTVAL"
        ? `${ids.length} Values found\n${ids.map((id) => `1700000000.000 ${id}\n`).join("")}`
        : "1 Value found\nvalue=1.000000e+00\n"
    );
    await fake.listen();
    const f = fakeContext();
    const i = input(fake.path);
    try {
      const result = await started(i, f.ctx);
      assert.equal(result?.kind, "ok");
      assert.ok(f.frames.length >= 2, `${f.frames.length} frames`);
      for (const frame of f.frames) {
        assert.ok(new TextEncoder().encode(frame).length <= 65_536);
        assert.ok(frame.endsWith("\n"));
      }
      assert.equal(f.samples().length, ids.length);
    } finally {
      await i.stop();
      await fake.close();
    }
  });

  it("poll() counts a missing socket as a connect error and warns once a minute, not per poll", async () => {
    const f = fakeContext();
    const path = join(dir, "nobody-home.sock");
    const i = input(path);
    try {
      const first = await started(i, f.ctx);
      assert.equal(first?.kind === "failed" && first.error, "connect");
      assert.match(first?.kind === "failed" ? first.message : "", /no such socket/);
      await i.poll();
      assert.equal(f.stats.errors("connect").get(), 2);
      assert.equal(f.logs.filter((l) => l.includes("Cannot poll collectd unixsock")).length, 1);
    } finally {
      await i.stop();
    }
  });
});

describe("CollectdUnixsockInput against the real collectd", () => {
  const missing = collectdMissing();

  it("values arrive, a crash is counted, and polling recovers when collectd comes back on the same socket", async (t) => {
    if (missing !== undefined) return t.skip(missing);
    const home = mkdtempSync(join(dir, "collectd-"));
    const path = join(home, "sock");
    const body = [
      "LoadPlugin load",
      "LoadPlugin memory",
      "LoadPlugin unixsock",
      `<Plugin unixsock>\n  SocketFile "${path}"\n  DeleteSocket true\n</Plugin>`,
    ].join("\n");
    const f = fakeContext();
    const i = input(path, { interval: "1h" });
    let daemon: CollectdProcess | undefined = await startCollectd(home, body);
    try {
      await i.start(f.ctx);
      await until(async () => {
        await i.settled();
        await i.poll();
        const names = new Set(f.samples().map((s) => s.name));
        return names.has("collectd_load_shortterm") && names.has("collectd_memory");
      }, "load and memory values from collectd");
      const used = f.samples().find((s) =>
        s.name === "collectd_memory" && s.labels.some(([, x]) => x === "used")
      );
      assert.ok(used !== undefined && used.value > 0, "memory used is a positive gauge");
      assert.deepEqual(used.labels, [["instance", "tallytest"], ["memory", "used"]]);

      // A crash leaves the socket file behind: connections are refused.
      await daemon.stop("SIGKILL");
      daemon = undefined;
      assert.ok(existsSync(path));
      const down = await i.poll();
      assert.equal(down.kind === "failed" && down.error, "connect");
      assert.match(down.kind === "failed" ? down.message : "", /connection refused/);

      daemon = await startCollectd(home, body);
      const before = f.frames.length;
      await until(async () => {
        const result = await i.poll();
        return result.kind === "ok" && f.frames.length > before;
      }, "values from the restarted collectd");
      assert.ok(f.logs.some((l) => l.includes("Polling collectd unixsock again")));
    } finally {
      await i.stop();
      await daemon?.stop();
    }
  });
});
