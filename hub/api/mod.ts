/**
 * The REST API, mounted at `{base_url}hub/api`, wire-compatible with
 * JupyterHub 5 (its REST API reference, rest-api.yml). Each file owns a resource and
 * every route line names the scope it needs (`needs(...)`).
 *
 * Imports: hub L0–L2 and middleware/. Tests: tests/hub/api/*_test.ts.
 *
 * @module
 */
import { Hono } from "hono";
import { TrieRouter } from "hono/router/trie-router";
import { HubError } from "../errors.ts";
import type { HubEnv } from "../middleware/identity.ts";
import type { ApiDeps } from "./_deps.ts";
import { createInfoApi } from "./info.ts";
import { createUsersApi } from "./users.ts";
import { createTokensApi } from "./tokens.ts";
import { createGroupsApi } from "./groups.ts";
import { createProxyApi } from "./proxy.ts";
import { createServersApi } from "./servers.ts";
import { createScopeGuard } from "../middleware/require_scope.ts";
import { shutdownRoute } from "./shutdown.ts";
import { createServicesApi } from "./services.ts";
import { createSharesApi } from "./shares.ts";
import { createShareCodesApi } from "./share_codes.ts";

export type { ApiDeps } from "./_deps.ts";
export { issueToken } from "./tokens.ts";

/** Builds the API sub-app (paths relative to `/hub/api`). */
export function createApi(deps: ApiDeps): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  const needs = createScopeGuard(deps.db);
  // JupyterHub's APIHandler.options: 200 and nothing else (CORS preflights).
  app.options("*", (c) => c.body(null, 200));
  app.route("/", createInfoApi(deps));
  app.route("/", createUsersApi(deps));
  app.route("/", createTokensApi(deps));
  app.route("/", createGroupsApi(deps));
  app.route("/", createProxyApi(deps));
  app.route("/", createServersApi(deps));
  app.route("/", createServicesApi(deps));
  app.route("/", createSharesApi(deps));
  app.route("/", createShareCodesApi(deps));
  app.post("/shutdown", needs("shutdown"), (c) => shutdownRoute(c, deps));
  app.post(
    "/authorizations/token",
    () => {
      throw new HubError(
        404,
        "Deprecated endpoint /hub/api/authorizations/token is removed in JupyterHub 2.0. Use /hub/api/users/:user/tokens instead.",
      );
    },
  );
  const methodsAt = routeMethods(app);
  const root = `${deps.config.baseUrl}hub/api`;
  app.all("*", (c) => {
    // A known path asked with another method is 405, as tornado answers.
    const allowed = methodsAt(c.req.path.slice(root.length) || "/");
    if (allowed.length) {
      throw new HubError(
        405,
        `${c.req.method} is not allowed on ${c.req.path}: use ${
          allowed.join(", ")
        }`,
        { headers: { Allow: allowed.join(", ") } },
      );
    }
    throw new HubError(
      404,
      `No API endpoint ${c.req.method} ${c.req.path}: see /hub/api for the version and the docs for the routes`,
    );
  });
  return app;
}

/** The methods `app` answers at a path (relative to its root), read from its routes once. */
export function routeMethods(app: Hono<HubEnv>): (path: string) => string[] {
  let router: TrieRouter<string> | null = null;
  return (path) => {
    if (!router) {
      router = new TrieRouter<string>();
      for (const r of app.routes) {
        if (!["ALL", "OPTIONS"].includes(r.method)) {
          router.add("ALL", r.path, r.method);
        }
      }
    }
    const found = new Set<string>();
    for (const p of new Set([path, path.replace(/\/+$/, "") || "/"])) {
      for (const [method] of router.match("ALL", p)[0]) found.add(method);
    }
    return [...found].sort();
  };
}
