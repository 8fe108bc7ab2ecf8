/**
 * `GET /` (version, no auth), `GET /info` (`read:hub`), `GET /user` (who am
 * I, with expanded scopes) and `GET /health`.
 *
 * @module
 */
import { Hono } from "hono";
import { getUserById, groupNamesByUser } from "../db/users.ts";
import { serversByUser } from "../db/servers.ts";
import { scopesForResponse } from "../rbac/scopes.ts";
import { HubError } from "../errors.ts";
import type { Ctx, HubEnv } from "../middleware/identity.ts";
import { toUserModel, visibleKeys } from "./users.ts";
import { tokenIdToWire } from "../secrets.ts";
import { apiApp, type ApiDeps } from "./_deps.ts";
import { type Identity, identityFromToken } from "../auth/identity.ts";
import { routeParam } from "../middleware/route_param.ts";

/** `GET /user` for a service's token: its model, scopes and token id (JupyterHub's shape). */
function serviceSelf(identity: Identity, deps: ApiDeps) {
  const model = deps.services?.models().get(identity.name);
  return {
    kind: "service",
    name: identity.name,
    admin: identity.admin,
    roles: model?.roles ?? (identity.admin ? ["admin"] : []),
    scopes: scopesForResponse(identity.scopes),
    "session_id": null,
    "token_id": identity.tokenId === null
      ? null
      : tokenIdToWire(identity.tokenId),
  };
}

/**
 * The model of user `userId` as `viewer` may see it, plus what identify
 * scopes always show (kind, name, admin, groups); undefined when gone.
 */
async function identifiedUser(
  deps: ApiDeps,
  userId: number,
  viewer: Identity,
): Promise<Record<string, unknown> | undefined> {
  const row = await getUserById(deps.db, userId);
  if (!row) return undefined;
  const groups = (await groupNamesByUser(deps.db, [row.id])).get(row.id) ?? [];
  const servers = (await serversByUser(deps.db, [row.id])).get(row.id) ?? [];
  const keys = visibleKeys(viewer.parsed, { user: row.name, groups });
  for (const k of ["kind", "name", "admin", "groups"]) keys.add(k);
  return toUserModel(row, {
    groups,
    servers,
    baseUrl: deps.config.baseUrl,
    publicUrl: deps.config.publicUrl,
    subdomainHost: deps.config.subdomainHost,
    includeStopped: false,
    keys,
    withState: false,
    withAuthState: false,
  });
}

/** `GET /info`: the versions and classes JupyterHub reports. */
function hubInfo(deps: ApiDeps): Record<string, unknown> {
  return {
    version: deps.version,
    python: null,
    sys_executable: Deno.execPath(),
    runtime: `deno ${Deno.version.deno}`,
    spawner: {
      class: `onehub.spawners.${deps.config.spawner.type}`,
      version: deps.version,
    },
    authenticator: {
      class: `onehub.auth.${deps.authenticator.kind}`,
      version: deps.version,
    },
  };
}

/** `GET /user`: the caller's own model, with expanded scopes and how it came. */
async function selfRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const identity = c.get("identity");
  if (identity?.kind === "service") {
    return c.json(serviceSelf(identity, deps));
  }
  if (!identity || identity.userId === null) {
    throw new HubError(403, "Forbidden");
  }
  const model = await identifiedUser(deps, identity.userId, identity);
  if (!model) throw new HubError(403, "Forbidden");
  return c.json({
    ...model,
    scopes: scopesForResponse(identity.scopes),
    session_id: identity.via === "token" ? identity.sessionId : null,
    token_id: identity.tokenId === null
      ? null
      : tokenIdToWire(identity.tokenId),
  });
}

/**
 * `GET /authorizations/token/{token}`, deprecated in JupyterHub 2.0 but still
 * served (jhub-client uses it): the model of a token's owner, as the caller
 * may see it plus its identity.
 */
async function tokenOwnerRoute(c: Ctx, deps: ApiDeps): Promise<Response> {
  const caller = c.get("identity");
  if (!caller) throw new HubError(403, "Missing or invalid credentials.");
  const owner = await identityFromToken(
    deps.db,
    routeParam(c, "token"),
    deps.now(),
  );
  if (!owner) throw new HubError(404, "No such token");
  if (owner.kind === "service") return c.json(serviceSelf(owner, deps));
  const model = await identifiedUser(deps, owner.userId!, caller);
  if (!model) throw new HubError(404, "No such token");
  return c.json(model);
}

/** The info sub-app. */
export function createInfoApi(deps: ApiDeps): Hono<HubEnv> {
  const { app, needs } = apiApp(deps);
  app.get("/", (c) => {
    c.header("Access-Control-Allow-Origin", "*");
    return c.json({ version: deps.version });
  });
  app.get("/info", needs("read:hub"), (c) => c.json(hubInfo(deps)));
  app.get("/user", (c) => selfRoute(c, deps));
  app.get("/authorizations/token/:token", (c) => tokenOwnerRoute(c, deps));
  app.on(["GET", "HEAD"], "/health", (c) => c.body(null, 200));
  return app;
}
