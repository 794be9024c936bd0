import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PositionFile } from "./_outbox_position.ts";

const dir = mkdtempSync(join(tmpdir(), "tally-position-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("PositionFile", () => {
  it("reads back the last position written, across reopening", () => {
    const path = join(dir, "a");
    const file = new PositionFile(path);
    assert.equal(file.position, undefined);
    assert.equal(file.damaged, false);
    file.write({ seq: 3, offset: 100 });
    file.write({ seq: 3, offset: 250 });
    file.write({ seq: 4, offset: 0 });
    file.close();
    const again = new PositionFile(path);
    assert.deepEqual(again.position, { seq: 4, offset: 0 });
    again.write({ seq: 4, offset: 10 });
    again.close();
    assert.deepEqual(new PositionFile(path).position, { seq: 4, offset: 10 });
  });

  it("falls back to the other slot when the newer one is torn", () => {
    const path = join(dir, "b");
    const file = new PositionFile(path);
    file.write({ seq: 1, offset: 40 }); // slot 1
    file.write({ seq: 1, offset: 80 }); // slot 0
    file.close();
    const bytes = readFileSync(path);
    bytes[20] = bytes[20]! ^ 0x55; // inside slot 0's segment field
    writeFileSync(path, bytes);
    const reopened = new PositionFile(path);
    assert.deepEqual(reopened.position, { seq: 1, offset: 40 });
    assert.equal(reopened.damaged, false);
    reopened.close();
  });

  it("says it is damaged when no slot is valid", () => {
    const path = join(dir, "c");
    writeFileSync(path, "x".repeat(64));
    const file = new PositionFile(path);
    assert.equal(file.position, undefined);
    assert.equal(file.damaged, true);
    file.close();
  });
});
