import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { workerHeapOptions } from "../../src/runtime/worker_heap.ts";

describe("node:worker_threads with SharedArrayBuffer and Atomics", () => {
  it("Worker shares memory and wakes through Atomics.wait/notify/waitAsync", async () => {
    const state = new SharedArrayBuffer(8);
    const data = new SharedArrayBuffer(8 * 1000);
    const flags = new Int32Array(state);
    const worker = new Worker(fileURLToPath(import.meta.resolve("./testdata/sab_worker.ts")), {
      workerData: { state, data },
    });
    const exited = new Promise<number>((resolve) => worker.on("exit", resolve));
    const message = new Promise<unknown>((resolve) => worker.once("message", resolve));
    try {
      const published = Atomics.waitAsync(flags, 1, 0);
      Atomics.store(flags, 0, 1);
      Atomics.notify(flags, 0);
      assert.equal(published.async, true);
      assert.equal(await published.value, "ok");
      assert.equal(Atomics.load(flags, 1), 1000);
      const values = new Float64Array(data);
      assert.equal(values[0], 0);
      assert.equal(values[999], 999 * 1.5);
      assert.equal(await message, "done");
    } finally {
      await worker.terminate();
    }
    assert.equal(typeof (await exited), "number");
  });

  it("Worker starts with the runtime's heap options (Bun's small heap; none on Deno)", async () => {
    assert.deepEqual(workerHeapOptions(), "Bun" in globalThis ? { smol: true } : {});
    const worker = new Worker(fileURLToPath(import.meta.resolve("./testdata/echo_worker.ts")), {
      workerData: { hello: "worker" },
      ...workerHeapOptions(),
    });
    try {
      const message = await new Promise<unknown>((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      });
      assert.deepEqual(message, { hello: "worker" });
    } finally {
      await worker.terminate();
    }
  });
});
