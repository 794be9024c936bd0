import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Progress } from "./_progress.ts";
import { testIo } from "./_test_io.ts";

describe("Progress", () => {
  it("Progress redraws one line on a terminal, at most every 100 ms, and ends it", () => {
    const t = testIo({ stderrIsTty: true });
    let clock = 0;
    const progress = new Progress(t.io, { now: () => clock });
    progress.sent(1000, 512 * 1024);
    clock = 50;
    progress.sent(2000, 512 * 1024);
    clock = 150;
    progress.sent(3000, 512 * 1024);
    progress.clear();
    progress.done();
    assert.equal(
      t.err(),
      "\r\u001b[Ktally push: 1000 lines, 0.5 MiB sent in 1 request" +
        "\r\u001b[Ktally push: 3000 lines, 1.5 MiB sent in 3 requests" +
        "\r\u001b[K" +
        "\r\u001b[Ktally push: 3000 lines, 1.5 MiB sent in 3 requests\n",
    );
  });

  it("Progress draws nothing when stderr is not a terminal, or under --dry-run", () => {
    for (const [tty, quiet] of [[false, false], [true, true]] as const) {
      const t = testIo({ stderrIsTty: tty });
      const progress = new Progress(t.io, { quiet, now: () => 0 });
      progress.sent(10, 100);
      progress.clear();
      progress.done();
      assert.equal(t.err(), "");
    }
  });
});
