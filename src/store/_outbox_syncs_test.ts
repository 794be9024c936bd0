import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fstatSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeAll } from "./_outbox_segment.ts";
import { OutboxSyncs, syncedFd } from "./_outbox_syncs.ts";

const dir = mkdtempSync(join(tmpdir(), "tally-syncs-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("OutboxSyncs", () => {
  it("folds syncs asked for while one is in flight into one more run, and keeps the file open", async () => {
    const path = join(dir, "a");
    const file = syncedFd(openSync(path, "a"));
    const syncs = new OutboxSyncs();
    writeAll(file.fd, new TextEncoder().encode("one"));
    syncs.sync(file);
    assert.equal(file.syncing, true);
    writeAll(file.fd, new TextEncoder().encode("two"));
    syncs.sync(file);
    syncs.sync(file);
    assert.equal(file.dirty, true);
    await syncs.settled();
    assert.equal(file.syncing, false);
    assert.equal(file.dirty, false);
    assert.equal(fstatSync(file.fd).size, 6);
    syncs.retire(file);
    await syncs.settled();
    assert.equal(readFileSync(path, "utf8"), "onetwo");
  });

  it("closes a retired file once its last sync finished", async () => {
    const file = syncedFd(openSync(join(dir, "b"), "a"));
    const syncs = new OutboxSyncs();
    writeAll(file.fd, new TextEncoder().encode("x"));
    syncs.sync(file);
    syncs.retire(file);
    assert.equal(file.retired, true);
    assert.doesNotThrow(() => fstatSync(file.fd), "still open while its sync runs");
    await syncs.settled();
    assert.throws(() => fstatSync(file.fd), { code: "EBADF" });
  });
});
