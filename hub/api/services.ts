/**
 * `GET /services` (`list:services`: an object keyed by name, as JupyterHub
 * 3–5 answer, not the list its spec shows) and `GET /services/{name}`;
 * each model's keys filtered by the caller's scopes: `read:services` → all,
 * `read:roles:services` → kind, name, admin, roles, `read:services:name` →
 * kind, name, admin. Services come from `services.list` (no runtime
 * POST/DELETE: they answer 405 with how to add one).
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { HubError } from "../errors.ts";
import type { HubEnv } from "../middleware/identity.ts";
import { routeParam } from "../middleware/route_param.ts";
import { hasScope } from "../rbac/scopes.ts";
import type { Identity } from "../auth/identity.ts";
import type { ServiceModel } from "../services/mod.ts";
import { apiApp, type ApiDeps } from "./_deps.ts";

const NAME_KEYS = ["kind", "name", "admin"];
const ROLE_KEYS = [...NAME_KEYS, "roles"];

/** The keys of `model` the caller may read ([] = none). */
function visibleModel(
  identity: Identity,
  model: ServiceModel,
): Record<string, unknown> | null {
  const on = { resource: { service: model.name }, groupsOf: () => [] };
  const can = (scope: string) => hasScope(identity.parsed, { ...on, scope });
  if (can("read:services")) return { ...model };
  const keys = new Set<string>();
  if (can("read:roles:services")) ROLE_KEYS.forEach((k) => keys.add(k));
  if (can("read:services:name")) NAME_KEYS.forEach((k) => keys.add(k));
  if (keys.size === 0) return null;
  return Object.fromEntries(
    Object.entries(model).filter(([k]) => keys.has(k)),
  );
}

function modelsOf(deps: ApiDeps): Map<string, ServiceModel> {
  return deps.services?.models() ?? new Map();
}

/** `GET /services`. */
function listRoute(c: Context<HubEnv>, deps: ApiDeps): Response {
  const identity = c.get("identity")!;
  const out: Record<string, unknown> = {};
  for (const [name, model] of modelsOf(deps)) {
    const visible = visibleModel(identity, model);
    if (visible) out[name] = visible;
  }
  return c.json(out);
}

/** `GET /services/{name}`. */
function getRoute(c: Context<HubEnv>, deps: ApiDeps): Response {
  const name = routeParam(c, "service_name");
  const model = modelsOf(deps).get(name);
  const visible = model && visibleModel(c.get("identity")!, model);
  if (!visible) throw new HubError(404, `No such service: ${name}`);
  return c.json(visible);
}

/** The services sub-app. */
export function createServicesApi(deps: ApiDeps): Hono<HubEnv> {
  const { app, needs, listing } = apiApp(deps);
  // The list narrows itself to the services a filtered list:services reaches.
  app.get("/services", listing("list:services"), (c) => listRoute(c, deps));
  app.get(
    "/services/:service_name",
    needs("read:services", "read:roles:services", "read:services:name"),
    (c) => getRoute(c, deps),
  );
  app.on(["POST", "DELETE", "PATCH", "PUT"], "/services/:service_name", () => {
    throw new HubError(
      405,
      "Services are defined in the config file: add or remove them in services.list, then restart onehub",
    );
  });
  return app;
}
