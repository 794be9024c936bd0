import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { waitFor, WaitTimeoutError } from "./wait_for.ts";

describe("waitFor()", () => {
  it("waitFor() returns the first value the condition yields", async () => {
    let calls = 0;
    const value = await waitFor(() => (++calls >= 3 ? `after ${calls}` : undefined), { intervalMs: 1 });
    assert.equal(value, "after 3");
  });

  it("waitFor() treats a throwing condition as not yet and names its last error on timeout", async () => {
    await assert.rejects(
      waitFor(() => {
        throw new Error("connection refused");
      }, { timeoutMs: 30, intervalMs: 5, what: "the server" }),
      (error: unknown) =>
        error instanceof WaitTimeoutError &&
        error.message === "Timed out after 30 ms waiting for the server; last error: connection refused" &&
        error.cause instanceof Error,
    );
  });

  it("waitFor() awaits async conditions and treats false as not yet", async () => {
    let calls = 0;
    const value = await waitFor(() => Promise.resolve(++calls === 2), { intervalMs: 1 });
    assert.equal(value, true);
    assert.equal(calls, 2);
  });

  it("waitFor() stops with the signal's reason when aborted", async () => {
    const controller = new AbortController();
    const reason = new Error("test over");
    setTimeout(() => controller.abort(reason), 20);
    await assert.rejects(
      waitFor(() => false, { timeoutMs: 60_000, intervalMs: 10_000, signal: controller.signal }),
      (error: unknown) => error === reason,
    );
  });
});
