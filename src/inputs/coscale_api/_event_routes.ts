/**
 * CoScale event data (coscale.md §2.3, §3.2): an event of a category (`POST events/`), with a start, an
 * optional stop time (none: the event is still open), a message, a subject and attributes. The CoScale
 * CLI's `event newdata` posts one; `event updatedata` reads it back and sends it again changed, with its
 * `version` (the cron wrapper closes its event that way).
 *
 * | route | answer |
 * |---|---|
 * | `POST events/{id}/data/` | 200 the EventData, with its `id` |
 * | `GET events/{id}/data/get/{dataId}/` | 200 the EventData, or 404 |
 * | `PUT events/{id}/data/{dataId}/` | 200 the EventData, its `version` bumped; absent fields keep their value |
 *
 * Each lands in tally's events table at once (`GET /api/v1/events`, `tally query --events`): the title is the
 * category's name, the text the message, the end the stop time, the labels the attributes and the subject.
 * An EventData's times are Unix seconds, as the CLI shows them; a time sent back unchanged by a PUT keeps the
 * stored millisecond.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import * as v from "valibot";
import { PUSH_LABELS_SCHEMA } from "../../formats/json.ts";
import type { BodyIssue } from "../../internal/body_issues.ts";
import type { CoscaleEventData } from "../../store/coscale_catalog.ts";
import { check, integerField, numberField, readFields, SUBJECT_SCHEMA } from "./_fields.ts";
import { idParam, invalid, notFound, route } from "./_api.ts";
import type { Api } from "./_api.ts";

const SECONDS = numberField("seconds: 0 now, < 0 seconds ago, > 0 Unix time");
const ATTRIBUTE = v.pipe(
  v.string('a JSON object text like {"exitCode":"0"}'),
  v.check((text: string) => attributeLabels(text) !== undefined, 'a JSON object text like {"exitCode":"0"}'),
);
const NEW_DATA = v.object({
  message: v.string("a message"),
  timestamp: v.optional(SECONDS, 0),
  stopTime: v.optional(SECONDS),
  subject: v.optional(SUBJECT_SCHEMA, "a"),
  attribute: v.optional(ATTRIBUTE, "{}"),
});
const CHANGED_DATA = v.object({
  message: v.optional(v.string("a message")),
  timestamp: v.optional(SECONDS),
  stopTime: v.optional(SECONDS),
  subject: v.optional(SUBJECT_SCHEMA),
  attribute: v.optional(ATTRIBUTE),
  version: v.optional(integerField("a version number")),
});

/**
 * Adds the event data routes to the app.
 *
 * @param app The app.
 * @param api The catalog, sessions, counters and clock.
 * @param subjectLabel The `subject` label of a subject id (as for metric data).
 */
export function eventRoutes(app: Hono, api: Api, subjectLabel: (subject: string) => string): void {
  const categoryOf = (c: Context) => api.catalog.get("event", idParam(c, "id"));

  route(app, api, { method: "POST", path: "/events/:id{[0-9]+}/data" }, async function addData(c) {
    const category = categoryOf(c);
    if (category === undefined) return notFound(c, `Event ${idParam(c, "id")}`);
    const body = await readFields(c);
    if (body.kind === "invalid") return invalid(c, api, body.msg);
    const checked = check(NEW_DATA, body.fields);
    if (checked.kind === "invalid") return invalid(c, api, "Invalid event data", checked.issues);
    const data = checked.value;
    const nowMs = api.now();
    const issues: BodyIssue[] = [];
    const start = eventTime(data.timestamp, nowMs, "timestamp", issues);
    const stop = data.stopTime === undefined
      ? undefined
      : eventTime(data.stopTime, nowMs, "stopTime", issues);
    const labels = eventLabels(data.attribute, data.subject, subjectLabel, issues);
    if (start !== undefined && stop !== undefined && stop < start) issues.push(stopBeforeStart(stop, start));
    if (issues.length > 0 || start === undefined || labels === undefined) {
      return invalid(c, api, "Invalid event data", issues);
    }
    const stored = api.catalog.addEventData({
      categoryId: category.id,
      event: {
        kind: "event",
        title: category.name,
        text: data.message,
        timeMs: start,
        ...(stop === undefined ? {} : { endMs: stop }),
        labels: Object.entries(labels).sort((a, b) => (a[0] < b[0] ? -1 : 1)),
        status: -1,
      },
      open: stop === undefined,
      subject: data.subject,
      attribute: data.attribute,
    }, nowMs);
    api.stats.received.add();
    api.stats.receivedBytes.add(body.bytes);
    return c.json(renderEventData(stored, c.req.param("appId") ?? ""));
  });

  route(
    app,
    api,
    { method: "GET", path: "/events/:id{[0-9]+}/data/get/:dataId{[0-9]+}" },
    function getData(c) {
      const found = api.catalog.eventData(idParam(c, "id"), idParam(c, "dataId"));
      if (found === undefined) {
        return notFound(
          c,
          `Event data ${idParam(c, "dataId")} of event ${idParam(c, "id")}`,
        );
      }
      return c.json(renderEventData(found, c.req.param("appId") ?? ""));
    },
  );

  route(
    app,
    api,
    { method: "PUT", path: "/events/:id{[0-9]+}/data/:dataId{[0-9]+}" },
    async function putData(c) {
      const categoryId = idParam(c, "id");
      const current = api.catalog.eventData(categoryId, idParam(c, "dataId"));
      if (current === undefined) {
        return notFound(
          c,
          `Event data ${idParam(c, "dataId")} of event ${categoryId}`,
        );
      }
      const body = await readFields(c);
      if (body.kind === "invalid") return invalid(c, api, body.msg);
      const checked = check(CHANGED_DATA, body.fields);
      if (checked.kind === "invalid") return invalid(c, api, "Invalid event data", checked.issues);
      const data = checked.value;
      const nowMs = api.now();
      const issues: BodyIssue[] = [];
      const start = data.timestamp === undefined
        ? current.event.t
        : keptTime(data.timestamp, current.event.t) ?? eventTime(data.timestamp, nowMs, "timestamp", issues);
      const end = data.stopTime === undefined
        ? current.event.end
        : keptTime(data.stopTime, current.event.end) ?? eventTime(data.stopTime, nowMs, "stopTime", issues);
      const subject = data.subject ?? current.subject;
      const attribute = data.attribute ?? current.attribute;
      const labels = eventLabels(attribute, subject, subjectLabel, issues);
      if (start !== undefined && end !== undefined && end !== null && end < start) {
        issues.push(stopBeforeStart(end, start));
      }
      if (issues.length > 0 || start === undefined || end === undefined || labels === undefined) {
        return invalid(c, api, "Invalid event data", issues);
      }
      const updated = api.catalog.updateEventData(categoryId, current.id, {
        event: { t: start, end, labels, ...(data.message === undefined ? {} : { text: data.message }) },
        subject,
        attribute,
      }, nowMs);
      if (updated === undefined) return notFound(c, `Event data ${current.id} of event ${categoryId}`);
      api.stats.receivedBytes.add(body.bytes);
      return c.json(renderEventData(updated, c.req.param("appId") ?? ""));
    },
  );
}

/**
 * The EventData object CoScale answers with (coscale.md §3.2), times in Unix seconds.
 *
 * @param data The stored event data.
 * @param appId The application id of the request's path.
 * @returns The object.
 */
export function renderEventData(data: CoscaleEventData, appId: string): Record<string, unknown> {
  return {
    id: data.id,
    eventId: data.categoryId,
    applicationId: appId,
    timestamp: Math.floor(data.event.t / 1000),
    stopTime: data.event.end === null ? null : Math.floor(data.event.end / 1000),
    updateTime: Math.floor(data.updatedMs / 1000),
    message: data.event.text,
    subject: data.subject,
    attribute: data.attribute,
    version: data.version,
  };
}

/** A time in ms by CoScale's rule, or `undefined` (and an issue) when it is before 1970. */
function eventTime(seconds: number, nowMs: number, field: string, issues: BodyIssue[]): number | undefined {
  const ms = Math.round(seconds <= 0 ? nowMs + seconds * 1000 : seconds * 1000);
  if (Number.isSafeInteger(ms) && ms >= 0) return ms;
  issues.push({
    path: field,
    message: `expected a time after 1970 (0 now, < 0 seconds ago, > 0 Unix seconds), found ${seconds}`,
  });
  return undefined;
}

/** The stored time when `seconds` is what an EventData showed of it (a GET sent back by a PUT). */
function keptTime(seconds: number, storedMs: number | null): number | undefined {
  return storedMs !== null && seconds > 0 && Math.floor(storedMs / 1000) === seconds ? storedMs : undefined;
}

function stopBeforeStart(stop: number, start: number): BodyIssue {
  return {
    path: "stopTime",
    message: `expected a stop time at or after the start (${start} ms), found ${stop} ms`,
  };
}

/** The event's labels: the attributes, and the subject; `undefined` (and an issue) when they cannot be. */
function eventLabels(
  attribute: string,
  subject: string,
  subjectLabel: (subject: string) => string,
  issues: BodyIssue[],
): Record<string, string> | undefined {
  const labels = attributeLabels(attribute);
  if (labels === undefined) return undefined;
  if (Object.hasOwn(labels, "subject")) {
    issues.push({
      path: "attribute",
      message: 'expected no attribute named "subject" (the label of the event\'s subject), found one',
    });
    return undefined;
  }
  return { ...labels, subject: subjectLabel(subject) };
}

/**
 * An attribute text's labels: a JSON object whose values become text (numbers and booleans as written,
 * objects and lists as JSON), or `undefined` when the text is not a JSON object with usable names.
 */
function attributeLabels(text: string): Record<string, string> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const labels: Record<string, string> = {};
  for (const [name, value] of Object.entries(json)) {
    labels[name] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return v.is(PUSH_LABELS_SCHEMA, labels) ? labels : undefined;
}
