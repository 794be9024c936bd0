import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { closeSync, fdatasync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";

const dir = mkdtempSync(join(tmpdir(), "tally-fs-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("node:fs and node:zlib as the outbox uses them", () => {
  it("appends with writeSync, reads at a position with readSync, and syncs with async fdatasync", async () => {
    const path = join(dir, "segment");
    const fd = openSync(path, "a");
    assert.equal(writeSync(fd, new TextEncoder().encode("hello "), 0, 6), 6);
    assert.equal(writeSync(fd, new TextEncoder().encode("world")), 5);
    await new Promise<void>((resolve, reject) =>
      fdatasync(fd, (error) => (error ? reject(error) : resolve()))
    );
    closeSync(fd);
    const reader = openSync(path, "r");
    const out = new Uint8Array(5);
    assert.equal(readSync(reader, out, 0, 5, 6), 5);
    assert.equal(new TextDecoder().decode(out), "world");
    assert.equal(readSync(reader, out, 0, 5, 11), 0);
    closeSync(reader);
  });

  it("writes in place at a position with writeSync on an r+ descriptor", () => {
    const path = join(dir, "slots");
    const fd = openSync(path, "w+");
    writeSync(fd, new Uint8Array(8).fill(1), 0, 8, 0);
    writeSync(fd, new Uint8Array(4).fill(2), 0, 4, 2);
    const out = new Uint8Array(8);
    readSync(fd, out, 0, 8, 0);
    assert.deepEqual([...out], [1, 1, 2, 2, 2, 2, 1, 1]);
    closeSync(fd);
  });

  it("computes zlib's CRC-32, also continued from a previous value", () => {
    const text = new TextEncoder().encode("123456789");
    assert.equal(crc32(text), 0xcbf43926);
    assert.equal(crc32(text.subarray(4), crc32(text.subarray(0, 4))), 0xcbf43926);
  });
});
