/**
 * `/proxy` routes (scope `proxy`): the hub's view of the routing table
 * (`GET`, keyed by routespec with a trailing slash, as JupyterHub shows
 * it), and a re-sync of the proxy with the database (`POST`, `PATCH`).
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { HubError } from "../errors.ts";
import type { HubEnv } from "../middleware/identity.ts";
import type { RouteService } from "../servers/routes.ts";
import { paginate, parsePaging } from "./_pagination.ts";
import { apiApp, type ApiDeps } from "./_deps.ts";
import { readJson } from "./_body.ts";

/**
 * The routespec JupyterHub shows for a proxy key: "/user/alice" →
 * "/user/alice/"; with host routing (subdomain_host) the host leads and
 * the slash before it goes: "alice.hub.example.org/user/alice/".
 */
export function routespec(prefix: string, hostRouting = false): string {
  const spec = prefix.endsWith("/") ? prefix : prefix + "/";
  return hostRouting && spec !== "/" ? spec.slice(1) : spec;
}

function withoutMarker(data: Record<string, unknown>): Record<string, unknown> {
  const { jupyterhub: _marker, ...rest } = data;
  return rest;
}

/** The `/proxy` sub-app; without a route service (no proxy) it answers 503. */
export function createProxyApi(
  deps: ApiDeps & { routes?: RouteService; hubRoutes?: ReadonlySet<string> },
): Hono<HubEnv> {
  const { app, needs } = apiApp(deps);
  const service = () => {
    if (!deps.routes) throw new HubError(503, "This hub runs without a proxy");
    return deps.routes;
  };

  app.get("/proxy", needs("proxy"), async (c) => {
    const paging = parsePaging(c, deps.config.api);
    // JupyterHub's get_all_routes: only the routes it added, without the marker.
    const table = [...(await service().list())].filter(([, info]) =>
      info.data.jupyterhub === true || info.data.hub === true
    ).sort((
      [a],
      [b],
    ) => (a < b ? -1 : a > b ? 1 : 0));
    const page = c.req.query("offset") !== undefined ||
        c.req.query("limit") !== undefined || paging.envelope
      ? table.slice(paging.offset, paging.offset + paging.limit)
      : table;
    const items: Record<string, unknown> = {};
    const byHost = deps.config.subdomainHost !== "";
    for (const [prefix, info] of page) {
      items[routespec(prefix, byHost)] = {
        routespec: routespec(prefix, byHost),
        target: info.target,
        data: {
          ...withoutMarker(info.data),
          "last_activity": info.lastActivity === null
            ? null
            : new Date(info.lastActivity).toISOString(),
        },
      };
    }
    return c.json(paginate(c, { paging, items, total: table.length }));
  });

  const resync = async (c: Context<HubEnv>) => {
    await readJson(c); // body (api_url/auth_token) is accepted and ignored: the proxy is configured in config.yaml
    await service().sync(deps.hubRoutes ?? new Set(["/"]));
    return c.body(null, 200);
  };
  app.post("/proxy", needs("proxy"), resync);
  app.patch("/proxy", needs("proxy"), resync);
  return app;
}
