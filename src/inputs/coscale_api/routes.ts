/**
 * The CoScale-compatible API's routes (coscale.md §3, this folder's README), under `/api/v1/app/{appId}/`,
 * each with and without CoScale's trailing slash:
 *
 * | route | answer |
 * |---|---|
 * | `POST login/` | `{"token": …}` for the right `accessToken`, else 401 |
 * | `POST data/` | metric data, durable before `{"msg": …}` (`_data_route.ts`) |
 * | `POST`/`GET metrics/`, `dimensions/`, `metricgroups/`, `servers/`, `servergroups/`, `events/` and links | definitions (`_definition_routes.ts`) |
 * | `POST events/{id}/data/`, `GET …/data/get/{dataId}/`, `PUT …/data/{dataId}/` | events (`_event_routes.ts`) |
 *
 * Every route but `login/` needs the session token in `HTTPAuthorization` (or tally's own bearer token)
 * when `http.token` is set; errors are CoScale's `{"msg": …}`, any other path under the prefix a 404 of that
 * shape. The `appId` is taken and ignored: tally keeps one catalog, whatever the application.
 *
 * @module
 */

import { Hono } from "hono";
import type { SelfStats } from "../../internal/self_stats.ts";
import type { ComponentStats } from "../../internal/self_stats.ts";
import type { CoscaleCatalog } from "../../store/coscale_catalog.ts";
import type { Accept } from "../../store/inbox.ts";
import { dataRoute } from "./_data_route.ts";
import { definitionRoutes } from "./_definition_routes.ts";
import { eventRoutes } from "./_event_routes.ts";
import { readFields } from "./_fields.ts";
import { dataTypeOf } from "./_objects.ts";
import type { DataType } from "./_objects.ts";
import { subjectLabel } from "./_payload.ts";
import type { PayloadLookup } from "./_payload.ts";
import { APP_PREFIX, invalid, reply, route } from "./_api.ts";
import type { Api } from "./_api.ts";
import { Sessions } from "./_sessions.ts";

/** The path prefix of every CoScale route, for the endpoint's per-prefix body limit. */
export const COSCALE_PREFIX = "/api/v1/app/";

/** What the routes need. */
export interface CoscaleRoutesOptions {
  /** The store's CoScale tables. */
  readonly catalog: CoscaleCatalog;
  /** Accepts a frame durably (commits it to the inbox, then it is in the pipeline). */
  readonly accept: Accept;
  /** The `http.token` login checks; empty for none. */
  readonly token: string;
  /** The largest metric data one `POST data/` may carry, in bytes. */
  readonly maxDataBytes: number;
  /** The input's uniform counters. */
  readonly stats: ComponentStats;
  /** The input's component id, labelling its own counters. */
  readonly id: string;
  /** The self-metrics registry, for `tally_coscale_undefined_metric_points_total`. Optional. */
  readonly selfStats?: SelfStats;
  /** Whether the input is stopping: new data gets 503. */
  readonly stopping: () => boolean;
  /** The clock; `Date.now` by default. */
  readonly now?: () => number;
}

/**
 * Builds the CoScale-compatible routes, to serve on the shared HTTP endpoint with their own authentication
 * (`auth: "own"`).
 *
 * @param options The catalog, the inbox's accept function, the token, the data limit, counters and clock.
 * @returns The Hono app holding the routes.
 * @example
 * ```ts
 * ctx.serve({ app: coscaleRoutes({ catalog, accept, token, maxDataBytes, stats, id, stopping }), auth: "own" });
 * ```
 */
export function coscaleRoutes(options: CoscaleRoutesOptions): Hono {
  const app = new Hono();
  const undefinedPoints = options.selfStats?.cell("tally_coscale_undefined_metric_points_total", {
    component_type: "coscale_api",
    component_id: options.id,
  }, {
    type: "counter",
    help: "CoScale data points whose metric id no metric has, kept as coscale_metric_<id>",
  }) ?? { add() {} };
  const api: Api = {
    catalog: options.catalog,
    sessions: new Sessions(options.token),
    accept: options.accept,
    stats: options.stats,
    undefinedPoints,
    maxDataBytes: options.maxDataBytes,
    stopping: options.stopping,
    now: options.now ?? Date.now,
  };

  route(app, api, { method: "POST", path: "/login", open: true }, async function login(c) {
    const body = await readFields(c);
    if (body.kind === "invalid") return invalid(c, api, body.msg);
    const accessToken = body.fields["accessToken"];
    const token = api.sessions.login(typeof accessToken === "string" ? accessToken : undefined);
    if (token !== undefined) return c.json({ token });
    api.stats.errors("unauthorized").add();
    return reply(c, 401, "Authentication failed: the accessToken is not this tally's http.token");
  });

  const lookup = cachedLookup(api.catalog);
  dataRoute(app, api, lookup);
  definitionRoutes(app, api);
  eventRoutes(app, api, (subject) => subjectLabel(subject, lookup));

  app.all(`${APP_PREFIX}/*`, function unknown(c) {
    return reply(
      c,
      404,
      `No CoScale route for ${c.req.method} ${c.req.path} in tally (see src/inputs/coscale_api/README.md)`,
    );
  });
  return app;
}

/**
 * What metric and subject ids stand for, read from the catalog once each: definitions are never changed or
 * deleted through this API, so a found one stays valid (an id not found is looked up again next time).
 */
function cachedLookup(catalog: CoscaleCatalog): PayloadLookup {
  const metrics = new Map<number, { readonly name: string; readonly dataType: DataType }>();
  const names = new Map<string, string>();
  return {
    metric(id) {
      let found = metrics.get(id);
      if (found === undefined) {
        const definition = catalog.get("metric", id);
        if (definition === undefined) return undefined;
        found = { name: definition.name, dataType: dataTypeOf(definition) };
        metrics.set(id, found);
      }
      return found;
    },
    subjectName(kind, id) {
      const key = `${kind}${id}`;
      let name = names.get(key);
      if (name === undefined) {
        name = catalog.get(kind === "s" ? "server" : "servergroup", id)?.name;
        if (name === undefined) return undefined;
        names.set(key, name);
      }
      return name;
    },
  };
}
