// Worker for worker_threads_test.ts: posts its workerData back.
import { parentPort, workerData } from "node:worker_threads";

parentPort?.postMessage(workerData);
