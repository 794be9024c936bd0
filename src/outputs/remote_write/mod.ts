/**
 * The `remote_write` output plugin: Prometheus remote-write 1.0 through a durable outbox.
 *
 * @module
 */

import { Forwarder } from "../_forwarder.ts";
import type { OutputPlugin } from "../output.ts";
import { example, schema } from "./config.ts";
import type { RemoteWriteConfig } from "./config.ts";
import { createRemoteWriteEncoder } from "./encode.ts";

/**
 * The remote_write output plugin, registered under `type = "remote_write"`.
 *
 * @example
 * ```ts
 * const output = remoteWrite.create(v.parse(remoteWrite.schema, { url: "http://127.0.0.1:8428/api/v1/write" }), "vm");
 * await output.start(ctx);
 * output.write(flush);
 * ```
 */
export const remoteWrite: OutputPlugin<typeof schema> = {
  type: "remote_write",
  schema,
  example,
  create: createRemoteWriteOutput,
};

/**
 * Creates a remote_write output; it opens and sends nothing until `start()`.
 *
 * @param config The validated config.
 * @param id The component id.
 * @returns The output.
 */
function createRemoteWriteOutput(config: RemoteWriteConfig, id: string): Forwarder {
  const encoder = createRemoteWriteEncoder({
    externalLabels: config.external_labels,
    maxBatchSamples: config.max_batch_samples,
    maxBatchBytes: config.max_batch_size,
  });
  return new Forwarder({ type: "remote_write", id, config, encoder });
}
