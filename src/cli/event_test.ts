import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { event } from "./event.ts";
import { testIo } from "./_test_io.ts";

/** The event body `--dry-run` printed. */
function printedEvent(out: string): Record<string, unknown> {
  const body = out.slice(out.indexOf("\n\n") + 2);
  return (JSON.parse(body) as { events: Record<string, unknown>[] }).events[0]!;
}

describe("event()", () => {
  it("event() --dry-run sends MESSAGE as the title of an instant event at the agent's now", async () => {
    const t = testIo();
    assert.equal(await event(["Deployed v1.2", "--dry-run"], t.io), 0);
    assert.match(
      t.out(),
      /^POST http:\/\/127\.0\.0\.1:8127\/api\/v1\/events\nContent-Type: application\/json\n\n/,
    );
    assert.deepEqual(printedEvent(t.out()), { title: "Deployed v1.2" });
  });

  it("event() reads --start and --end as CoScale times, negative ones without an =", async () => {
    const t = testIo();
    const before = Date.now();
    assert.equal(await event(["deploy", "--start", "-300", "--end", "0", "--dry-run"], t.io), 0);
    const after = Date.now();
    const body = printedEvent(t.out());
    const start = body["start"] as number;
    const end = body["end"] as number;
    assert.equal(end - start, 300_000);
    assert.ok(end >= before && end <= after, `end ${end} is the time of the call`);
    const absolute = testIo();
    assert.equal(
      await event(["deploy", "--start=1764748800", "--end", "1764748860", "--dry-run"], absolute.io),
      0,
    );
    assert.deepEqual(printedEvent(absolute.out()), {
      title: "deploy",
      start: 1_764_748_800_000,
      end: 1_764_748_860_000,
    });
  });

  it("event() makes MESSAGE the text under --title, and --attr its labels", async () => {
    const t = testIo();
    assert.equal(
      await event(
        ["v1.2 to prod", "--title", "Deploy", "-a", "env=prod", "--attr", "by=ci=yes", "--dry-run"],
        t.io,
      ),
      0,
    );
    assert.deepEqual(printedEvent(t.out()), {
      title: "Deploy",
      text: "v1.2 to prod",
      labels: { env: "prod", by: "ci=yes" },
    });
  });

  it("event() exits 1 naming the URL when the agent is down", async () => {
    const t = testIo({ env: { TALLY_URL: "http://127.0.0.1:1" } });
    assert.equal(await event(["x", "--wait", "0s"], t.io), 1);
    assert.equal(
      t.err(),
      'tally event: Cannot send the event to http://127.0.0.1:1/api/v1/events: connection refused (is "tally run" running?)\n',
    );
  });

  it("event() exits 2 on usage errors, naming them", async () => {
    const cases: [string[], RegExp][] = [
      [[], /^tally event: Expected a MESSAGE\n/],
      [["a", "b"], /^tally event: Expected one MESSAGE \(quote it\), got 2: a b\n/],
      [[" "], /^tally event: The MESSAGE is empty\n/],
      [
        ["x", "--start", "5m"],
        /^tally event: Invalid --start "5m": expected seconds: 0 now, negative for seconds ago/,
      ],
      [["x", "--start", "-10", "--end", "-20"], /^tally event: --end "-20" is before --start "-10"\n/],
      [["x", "--end", "-20"], /^tally event: --end "-20" is before --start "0"\n/],
      [["x", "--attr", "novalue"], /^tally event: Invalid --attr "novalue": expected KEY=VALUE\n/],
      [["x", "--attr", "a=1", "--attr", "a=2"], /^tally event: --attr "a" is given twice\n/],
      [["x", "--title", ""], /^tally event: The --title is empty\n/],
    ];
    for (const [args, message] of cases) {
      const t = testIo();
      assert.equal(await event(args, t.io), 2, args.join(" "));
      assert.match(t.err(), message, args.join(" "));
      assert.match(t.err(), /\n\nUsage: tally event MESSAGE/);
    }
  });
});
