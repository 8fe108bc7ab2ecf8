/**
 * The hub as OAuth2 provider for singleuser servers (as JupyterHub's
 * single-user servers and its RBAC docs expect it), mounted at `{base_url}hub/api/oauth2`:
 * - `GET /authorize`: browser, login cookie → code on the client's redirect
 *   URI (consent page unless it is the user's own server);
 * - `POST /authorize`: the consent form (`_xsrf` + granted `scopes`);
 * - `POST /token`: server → hub, code + client secret → access token.
 *
 * Errors a browser sees are HTML pages; the token endpoint answers OAuth
 * error JSON (`{"error", "error_description"}`).
 *
 * Imports: hub L0–L2, middleware/ types, templates/mod.ts (never api/ or
 * pages/). Tests: tests/hub/oauth_provider/.
 *
 * @module
 */
import { Hono } from "hono";
import type { HubEnv } from "../middleware/identity.ts";
import type { OAuthProviderDeps } from "./_types.ts";
import { authorizeHandlers } from "./authorize.ts";
import { tokenHandler } from "./token.ts";

export { type ClientTarget, clientTarget } from "./_http.ts";
export {
  describeScopes,
  IDENTIFY_SCOPES,
  requestedScopes,
  resolveRequestedScopes,
  serverAccessScope,
} from "./scopes.ts";
export { oauthTokenNote, parseBasicAuth } from "./token.ts";
export type { OAuthProviderDeps };

/**
 * Builds the provider sub-app (paths relative to `{base_url}hub/api/oauth2`).
 * Mount it before the REST API, whose catch-all would answer 404 first, and
 * after the identity middleware (it reads `identity` and `xsrf`).
 */
export function createOAuthProvider(deps: OAuthProviderDeps): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  const authorize = authorizeHandlers(deps);
  app.get("/authorize", authorize.get);
  app.post("/authorize", authorize.postXsrf, authorize.post);
  app.post("/token", tokenHandler(deps));
  app.all("/authorize", (c) => {
    c.header("Allow", "GET, POST");
    return c.text("Method Not Allowed", 405);
  });
  app.all("/token", (c) =>
    c.json(
      {
        error: "invalid_request",
        "error_description": "Use POST for the token endpoint",
      },
      405,
      { Allow: "POST", "Cache-Control": "no-store" },
    ));
  return app;
}
