import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { detectRuntime } from "../../src/runtime/detect.ts";

const runtime = detectRuntime();

/** Datagram sizes cycled by the sender: empty, tiny, typical, MTU-ish, and the 64 KiB maximum. */
const SIZES = [0, 1, 37, 512, 1500, 8192, 65536];
const COUNT = 1400;

/**
 * Sends COUNT datagrams to argv[1]: datagram i is its index as 4 big-endian bytes followed by a slice of a
 * repeating 0..255 pattern starting at i % 256, cut to SIZES[i % 7] bytes in total.
 */
const SENDER = `
import socket, struct, sys
sizes = [${SIZES.join(",")}]
pattern = bytes(range(256)) * 300
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for i in range(${COUNT}):
    size = sizes[i % len(sizes)]
    s.sendto((struct.pack(">I", i) + pattern[i % 256:i % 256 + size])[:size], sys.argv[1])
`;

function expected(i: number): Uint8Array {
  const size = SIZES[i % SIZES.length]!;
  const out = new Uint8Array(size);
  const head = [(i >>> 24) & 255, (i >>> 16) & 255, (i >>> 8) & 255, i & 255];
  for (let j = 0; j < size; j++) out[j] = j < 4 ? head[j]! : (i % 256 + j - 4) & 255;
  return out;
}

function run(command: string, args: readonly string[]): Promise<number | null> {
  const child = spawn(command, args, { stdio: ["ignore", "inherit", "inherit"] });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => resolve(code));
  });
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
}

const python = spawnSync("python3", ["--version"]).status === 0;

describe(
  `Runtime.listenUnixDatagram() on ${runtime.name}`,
  { skip: python ? false : "python3 not found" },
  () => {
    it("listenUnixDatagram() receives many datagrams byte for byte, in order", async () => {
      const dir = mkdtempSync(join(tmpdir(), "tally-uds-"));
      const path = join(dir, "statsd.sock");
      const got: Uint8Array[] = [];
      const listener = await runtime.listenUnixDatagram(path, (bytes) => got.push(bytes.slice()));
      try {
        assert.ok(lstatSync(path).isSocket());
        assert.equal(await run("python3", ["-c", SENDER, path]), 0);
        await waitFor(() => got.length >= COUNT, `received ${got.length} of ${COUNT}`);
        assert.equal(got.length, COUNT);
        for (let i = 0; i < COUNT; i++) assert.deepEqual(got[i], expected(i), `datagram ${i}`);
      } finally {
        await listener.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("listenUnixDatagram() removes its socket file on close()", async () => {
      const dir = mkdtempSync(join(tmpdir(), "tally-uds-"));
      const path = join(dir, "a.sock");
      try {
        const listener = await runtime.listenUnixDatagram(path, () => {});
        await listener.close();
        assert.equal(existsSync(path), false);
        await listener.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("listenUnixDatagram() replaces a stale socket file", async () => {
      const dir = mkdtempSync(join(tmpdir(), "tally-uds-"));
      const path = join(dir, "stale.sock");
      try {
        // A socket bound by a process that has exited: the file stays, nobody listens.
        const code = await run("python3", [
          "-c",
          "import socket,sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).bind(sys.argv[1])",
          path,
        ]);
        assert.equal(code, 0);
        assert.ok(lstatSync(path).isSocket());
        const got: string[] = [];
        const listener = await runtime.listenUnixDatagram(
          path,
          (bytes) => got.push(new TextDecoder().decode(bytes)),
        );
        try {
          const send =
            "import socket,sys; socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b'up:1|c', sys.argv[1])";
          assert.equal(await run("python3", ["-c", send, path]), 0);
          await waitFor(() => got.length === 1, "datagram received");
          assert.deepEqual(got, ["up:1|c"]);
        } finally {
          await listener.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("listenUnixDatagram() refuses a path a live listener holds", async () => {
      const dir = mkdtempSync(join(tmpdir(), "tally-uds-"));
      const path = join(dir, "live.sock");
      const first = await runtime.listenUnixDatagram(path, () => {});
      try {
        await assert.rejects(runtime.listenUnixDatagram(path, () => {}), {
          message: `Cannot bind unix datagram listener "${path}": address already in use`,
        });
        assert.ok(lstatSync(path).isSocket());
      } finally {
        await first.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("listenUnixDatagram() refuses to replace a file that is not a socket", async () => {
      const dir = mkdtempSync(join(tmpdir(), "tally-uds-"));
      const path = join(dir, "data.txt");
      writeFileSync(path, "keep me");
      try {
        await assert.rejects(runtime.listenUnixDatagram(path, () => {}), {
          message: `Cannot bind unix datagram listener "${path}": the path exists and is not a socket`,
        });
        assert.ok(lstatSync(path).isFile());
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it("listenUnixDatagram() rejects a path longer than sockaddr_un holds", async () => {
      const path = join(tmpdir(), "x".repeat(120));
      await assert.rejects(runtime.listenUnixDatagram(path, () => {}), {
        message:
          `Cannot bind unix datagram listener "${path}": the path is ${path.length} bytes long, the limit is 107`,
      });
    });

    it("listenUnixDatagram() reports the OS error when the directory is missing", async () => {
      const path = join(tmpdir(), "tally-no-such-dir", "x.sock");
      await assert.rejects(runtime.listenUnixDatagram(path, () => {}), (error) => {
        assert.ok(error instanceof Error);
        assert.equal(
          error.message,
          `Cannot bind unix datagram listener "${path}": no such file or directory`,
        );
        assert.equal((error.cause as { code?: string }).code, "ENOENT");
        return true;
      });
    });
  },
);
