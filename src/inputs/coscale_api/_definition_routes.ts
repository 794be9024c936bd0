/**
 * The CoScale definition routes (coscale.md §3.2): create-or-get, list and get for metrics, dimensions,
 * metric groups, servers, server groups and event categories, and the links between them.
 *
 * | route | answer |
 * |---|---|
 * | `POST <kind>/` | 200 the new object, or 409 `{"msg", "type": "DUPLICATE", "id"}` for an existing name |
 * | `GET <kind>/?selectByName=&selectByParent_id=&selectByRoot=` | 200 a list of objects |
 * | `GET <kind>/{id}/` | 200 the object, or 404 |
 * | `GET metrics/{id}/dimensions/`, `POST metrics/{id}/dimensions/{dimId}/` | the metric's dimensions; link: 200, or 409 DUPLICATE |
 * | `GET metricgroups/{gid}/metrics/`, `POST metricgroups/{gid}/metrics/{mid}/` | membership: 200, or 409 (already a member) |
 * | `GET servergroups/{gid}/servers/`, `POST servergroups/{gid}/servers/{sid}/` | the same for servers |
 *
 * A name is unique per kind (per parent for groups, which nest with `parentId`). A duplicate answers 409 with
 * the existing id, as CoScale did, and its clients then read that object: creating is idempotent, so a
 * client restarting (or tally restarting under it) never makes a second object.
 *
 * @module
 */

import type { Context, Hono } from "hono";
import type { CoscaleDefinition, CoscaleLinkKind } from "../../store/coscale_catalog.ts";
import { check, readFields } from "./_fields.ts";
import { OBJECT_SPECS, renderObject, storedFields } from "./_objects.ts";
import type { ObjectSpec } from "./_objects.ts";
import { idParam, invalid, notFound, reply, route } from "./_api.ts";
import type { Api } from "./_api.ts";

const ID = "{[0-9]+}";

/** A link route: the parent kind's path, the child's, and the store's link kind. */
interface LinkSpec {
  readonly parent: ObjectSpec;
  readonly child: ObjectSpec;
  readonly kind: CoscaleLinkKind;
  /** Whether a repeated link is a 409 DUPLICATE (create-or-get) or a plain 409 (CoScale's "already a member"). */
  readonly duplicateType: boolean;
}

/**
 * Adds the definition routes to the app.
 *
 * @param app The app.
 * @param api The catalog, sessions, counters and clock.
 */
export function definitionRoutes(app: Hono, api: Api): void {
  const spec = (kind: ObjectSpec["kind"]) => OBJECT_SPECS.find((s) => s.kind === kind)!;
  for (const objects of OBJECT_SPECS) objectRoutes(app, api, objects);
  const links: readonly LinkSpec[] = [
    { parent: spec("metric"), child: spec("dimension"), kind: "metric_dimension", duplicateType: true },
    { parent: spec("metricgroup"), child: spec("metric"), kind: "metricgroup_metric", duplicateType: false },
    { parent: spec("servergroup"), child: spec("server"), kind: "servergroup_server", duplicateType: false },
  ];
  for (const link of links) linkRoutes(app, api, link);
}

function objectRoutes(app: Hono, api: Api, spec: ObjectSpec): void {
  route(app, api, { method: "POST", path: `/${spec.path}` }, async function create(c) {
    const body = await readFields(c);
    if (body.kind === "invalid") return invalid(c, api, body.msg);
    const checked = check(spec.schema, body.fields);
    if (checked.kind === "invalid") {
      return invalid(c, api, `Invalid ${spec.title.toLowerCase()}`, checked.issues);
    }
    const { name, parentId } = checked.value;
    if (parentId !== undefined && spec.nests && api.catalog.get(spec.kind, parentId) === undefined) {
      return invalid(c, api, `Invalid ${spec.title.toLowerCase()}`, [{
        path: "parentId",
        message: `expected the id of an existing ${spec.title.toLowerCase()}, found ${parentId}`,
      }]);
    }
    const { outcome, definition } = api.catalog.define(
      spec.kind,
      name,
      spec.nests ? parentId ?? null : null,
      storedFields(checked.value),
      api.now(),
    );
    if (outcome === "duplicate") {
      return reply(c, 409, `${spec.title} ${JSON.stringify(name)} exists already`, {
        type: "DUPLICATE",
        id: definition.id,
      });
    }
    return c.json(renderObject(definition));
  });

  route(app, api, { method: "GET", path: `/${spec.path}` }, function list(c) {
    const name = c.req.query("selectByName");
    const parent = c.req.query("selectByParent_id");
    const root = c.req.query("selectByRoot") === "true";
    let found = api.catalog.list(spec.kind, name);
    if (parent !== undefined) found = found.filter((d) => String(d.parentId) === parent);
    if (root) found = found.filter((d) => d.parentId === null);
    return c.json(found.map(renderObject));
  });

  route(app, api, { method: "GET", path: `/${spec.path}/:id${ID}` }, function get(c) {
    const found = api.catalog.get(spec.kind, idParam(c, "id"));
    return found === undefined
      ? notFound(c, `${spec.title} ${idParam(c, "id")}`)
      : c.json(renderObject(found));
  });
}

function linkRoutes(app: Hono, api: Api, link: LinkSpec): void {
  const base = `/${link.parent.path}/:parent${ID}/${link.child.path}`;
  const parentOf = (c: Context): CoscaleDefinition | undefined =>
    api.catalog.get(link.parent.kind, idParam(c, "parent"));

  route(app, api, { method: "GET", path: base }, function children(c) {
    const parent = parentOf(c);
    if (parent === undefined) return notFound(c, `${link.parent.title} ${idParam(c, "parent")}`);
    return c.json(api.catalog.linked(link.kind, parent.id).map(renderObject));
  });

  route(app, api, { method: "POST", path: `${base}/:child${ID}` }, function add(c) {
    const parent = parentOf(c);
    if (parent === undefined) return notFound(c, `${link.parent.title} ${idParam(c, "parent")}`);
    const child = api.catalog.get(link.child.kind, idParam(c, "child"));
    if (child === undefined) return notFound(c, `${link.child.title} ${idParam(c, "child")}`);
    if (api.catalog.link(link.kind, parent.id, child.id) === "duplicate") {
      const msg =
        `${link.child.title} ${child.id} is linked to ${link.parent.title.toLowerCase()} ${parent.id} already`;
      return reply(c, 409, msg, link.duplicateType ? { type: "DUPLICATE", id: child.id } : {});
    }
    return c.json(renderObject(child));
  });
}
