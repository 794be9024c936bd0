/**
 * collectd notifications (a message part, with the identifier, time and severity parts before it in the
 * packet) as tally events: title and text are the message, `status` 2 for FAILURE, 1 for WARNING, 0 for
 * OKAY (the service-check scale), labels `instance` (host), `plugin`, `plugin_instance`, `type`,
 * `type_instance` (each only when non-empty) and `severity`.
 *
 * @module
 */

import type { BadReason, Label, SampleSink } from "../model/sample.ts";
import type { CollectdIdentifier } from "./collectd_naming.ts";

// Notification severities (collectd NOTIF_*).
const NOTIF_FAILURE = 1;
const NOTIF_WARNING = 2;
const NOTIF_OKAY = 4;

const SEVERITY_NAMES: Readonly<Record<number, string>> = {
  [NOTIF_FAILURE]: "failure",
  [NOTIF_WARNING]: "warning",
  [NOTIF_OKAY]: "okay",
};
const SEVERITY_STATUS: Readonly<Record<number, number>> = {
  [NOTIF_FAILURE]: 2,
  [NOTIF_WARNING]: 1,
  [NOTIF_OKAY]: 0,
};

/** What the packet's parts set before its message part. */
export interface CollectdNotificationParts extends CollectdIdentifier {
  /** The message. */
  readonly text: string;
  /** The severity part's value (0 when absent, -1 when past 32 bits). */
  readonly severity: number;
  /** Why the identifier's strings cannot be used (a separator byte, invalid UTF-8), or null. */
  readonly stringReason: BadReason | null;
  /** ms since the epoch; 0 for arrival time; NaN when out of range. */
  readonly timeMs: number;
}

/**
 * Dispatches the notification a message part completes, with collectd's own checks: a severity other
 * than FAILURE, WARNING or OKAY, or an empty message, is `bad_event`; unusable identifier strings and an
 * out-of-range time are counted with their own reasons. A notification without a time keeps 0 (arrival
 * time), where collectd drops it.
 *
 * @param parts The message and what the packet set before it (read, not kept).
 * @param sink Receives one event or one `bad`.
 */
export function dispatchCollectdNotification(parts: CollectdNotificationParts, sink: SampleSink): void {
  const severity = SEVERITY_NAMES[parts.severity];
  if (severity === undefined || parts.text === "") {
    sink.bad("bad_event");
    return;
  }
  if (parts.stringReason !== null) {
    sink.bad(parts.stringReason);
    return;
  }
  if (Number.isNaN(parts.timeMs)) {
    sink.bad("bad_timestamp");
    return;
  }
  // Already in name order: instance < plugin < plugin_instance < severity < type < type_instance.
  const labels: Label[] = [];
  if (parts.host !== "") labels.push(["instance", parts.host]);
  if (parts.plugin !== "") labels.push(["plugin", parts.plugin]);
  if (parts.pluginInstance !== "") labels.push(["plugin_instance", parts.pluginInstance]);
  labels.push(["severity", severity]);
  if (parts.type !== "") labels.push(["type", parts.type]);
  if (parts.typeInstance !== "") labels.push(["type_instance", parts.typeInstance]);
  sink.event({
    kind: "event",
    title: parts.text,
    text: parts.text,
    timeMs: parts.timeMs,
    labels,
    status: SEVERITY_STATUS[parts.severity]!,
  });
}
