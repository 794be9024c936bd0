import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";

describe("node:sqlite", () => {
  it("DatabaseSync runs WAL mode, prepared statements and transactions on a file", () => {
    const dir = mkdtempSync(join(tmpdir(), "tally-sqlite-"));
    const db = new DatabaseSync(join(dir, "store.db"));
    try {
      const mode = db.prepare("PRAGMA journal_mode = WAL").get() as { journal_mode: string };
      assert.equal(mode.journal_mode, "wal");
      db.exec(
        "CREATE TABLE points (key TEXT NOT NULL, t INTEGER NOT NULL, v REAL NOT NULL, PRIMARY KEY (key, t))",
      );
      const insert = db.prepare("INSERT INTO points (key, t, v) VALUES (?, ?, ?)");
      db.exec("BEGIN");
      for (let i = 0; i < 100; i++) insert.run(`k${i % 3}`, 1_700_000_000_000 + i, i / 2);
      db.exec("COMMIT");
      const rows = db.prepare("SELECT key, count(*) AS n, sum(v) AS s FROM points GROUP BY key ORDER BY key")
        .all();
      assert.deepEqual(rows.map((r) => ({ ...r })), [
        { key: "k0", n: 34, s: 841.5 },
        { key: "k1", n: 33, s: 808.5 },
        { key: "k2", n: 33, s: 825 },
      ]);
      const big = db.prepare("SELECT max(t) AS t FROM points").get() as { t: number };
      assert.equal(big.t, 1_700_000_000_099);
      db.exec("BEGIN");
      insert.run("k9", 1, 1);
      db.exec("ROLLBACK");
      assert.deepEqual({ ...db.prepare("SELECT count(*) AS n FROM points WHERE key = 'k9'").get() }, {
        n: 0,
      });
    } finally {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
