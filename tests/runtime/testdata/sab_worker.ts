// Worker for worker_threads_test.ts: waits for the go signal, fills the shared data, then publishes.
import { parentPort, workerData } from "node:worker_threads";

const { state, data } = workerData as { state: SharedArrayBuffer; data: SharedArrayBuffer };
const flags = new Int32Array(state);
const values = new Float64Array(data);
// Blocks this thread until the main thread stores 1 into flags[0].
Atomics.wait(flags, 0, 0);
for (let i = 0; i < values.length; i++) values[i] = i * 1.5;
Atomics.store(flags, 1, values.length);
Atomics.notify(flags, 1);
parentPort?.postMessage("done");
