/**
 * `/hub/token`: request, list and revoke my API tokens. The route only
 * gathers the view; the page calls the REST API.
 *
 * @module
 */
import { Hono } from "hono";
import { tokenPage } from "../../templates/mod.ts";
import type { HubConfig } from "../config/mod.ts";
import type { HubEnv } from "../middleware/identity.ts";
import { signedInPage } from "./home.ts";

/** Dependencies of the token page. */
export interface TokenPagesDeps {
  config: HubConfig;
}

/** The token page sub-app (paths relative to `{base_url}hub`). */
export function createTokenPages(deps: TokenPagesDeps): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  app.get("/token", signedInPage(deps.config, (view) => tokenPage(view)));
  return app;
}
