import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { TallyEvent } from "../model/sample.ts";
import { Store } from "./store.ts";

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const dirs: string[] = [];

after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function openStore(): Store {
  const dir = mkdtempSync(join(tmpdir(), "tally-events-"));
  dirs.push(dir);
  return Store.open(dir);
}

function event(title: string, timeMs: number, endMs?: number): TallyEvent {
  return {
    kind: "event",
    title,
    text: "",
    timeMs,
    ...(endMs === undefined ? {} : { endMs }),
    labels: [["env", "prod"]],
    status: -1,
  };
}

describe("Store events with an end", () => {
  it("Store.appendEvents() returns the ids and keeps the end; an instant event ends at its start", () => {
    const store = openStore();
    const ids = store.appendEvents(
      [event("run", T0, T0 + 60_000), event("tick", T0 + 1), event("now", 0)],
      T0 + 5,
    );
    assert.deepEqual(ids, [1, 2, 3]);
    assert.deepEqual(store.events({ sinceMs: 0 }).map((e) => [e.id, e.title, e.t, e.end]), [
      [3, "now", T0 + 5, T0 + 5],
      [2, "tick", T0 + 1, T0 + 1],
      [1, "run", T0, T0 + 60_000],
    ]);
    assert.deepEqual(store.appendEvents([], T0), []);
    store.close();
  });

  it("Store.appendEvents() stores an end before the start as an instant event", () => {
    const store = openStore();
    store.appendEvents([event("backwards", T0, T0 - 1000)], T0);
    assert.equal(store.events({ sinceMs: 0 })[0]?.end, T0);
    store.close();
  });

  it("Store.updateEvent() changes the given fields only, can reopen and close an event, and says when none matched", () => {
    const store = openStore();
    const [id] = store.appendEvents([event("deploy", T0)], T0);
    const reopened = store.updateEvent(id!, { end: null, text: "running" });
    assert.deepEqual(reopened, {
      id,
      t: T0,
      end: null,
      kind: "event",
      title: "deploy",
      text: "running",
      labels: { env: "prod" },
      status: -1,
    });
    store.updateEvent(id!, { end: T0 + 90_000, labels: { env: "prod", result: "ok" } });
    const [stored] = store.events({ sinceMs: 0 });
    assert.deepEqual([stored?.end, stored?.text, stored?.labels], [T0 + 90_000, "running", {
      env: "prod",
      result: "ok",
    }]);
    assert.equal(store.updateEvent(999, { end: T0 }), undefined);
    store.close();
  });
});
