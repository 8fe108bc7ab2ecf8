/**
 * `/hub/accept-share?code=…`: a logged-in user accepts a share code
 * (hub/api/share_codes.ts): GET shows who shares what; the form's POST
 * (XSRF-checked) makes the share and opens the server.
 *
 * @module
 */
import { serverLocation } from "../servers/urls.ts";
import { type Context, Hono } from "hono";
import { acceptSharePage } from "../../templates/mod.ts";
import type { HubConfig } from "../config/mod.ts";
import type { Db } from "../db/mod.ts";
import { addShare, markExchanged, shareCodeByHash } from "../db/shares.ts";
import { getUserById } from "../db/users.ts";
import { HubError } from "../errors.ts";
import type { EventLog } from "../observe/events.ts";
import type { HubEnv } from "../middleware/identity.ts";
import { formOf, formXsrf } from "../middleware/form_xsrf.ts";
import { hashSecret } from "../secrets.ts";
import { toLogin } from "./home.ts";

/** What the page needs. */
export interface SharePagesDeps {
  db: Db;
  config: HubConfig;
  events: EventLog;
  now: () => Date;
}

/** The live code and its owner, or a 404 that says what to do. */
async function lookup(deps: SharePagesDeps, code: string) {
  const row = code.length >= 20 && code.length <= 100
    ? await shareCodeByHash(
      deps.db,
      await hashSecret(code),
      deps.now().toISOString(),
    )
    : undefined;
  const owner = row ? await getUserById(deps.db, row.owner_id) : undefined;
  if (!row || !owner) {
    throw new HubError(
      404,
      "This share code is not valid or has expired: ask for a new link",
    );
  }
  const { url } = serverLocation(deps.config, {
    user: owner.name,
    server: row.server_name,
  });
  return { row, owner, url };
}

/** The accept-share sub-app (paths relative to `{base_url}hub`). */
export function createSharePages(deps: SharePagesDeps): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  app.get("/accept-share", async (c: Context<HubEnv>) => {
    const identity = c.get("identity");
    if (!identity) return toLogin(c, deps.config);
    const code = c.req.query("code") ?? "";
    const { owner, url } = await lookup(deps, code);
    c.header("Cache-Control", "no-store");
    return c.html(acceptSharePage({
      baseUrl: deps.config.baseUrl,
      user: identity.name,
      xsrf: c.get("xsrf"),
      owner: owner.name,
      serverUrl: url,
      code,
    }));
  });
  app.post("/accept-share", formXsrf({ token: "session" }), async (c) => {
    const identity = c.get("identity");
    if (!identity || identity.userId === null) {
      throw new HubError(403, "Log in first, then open the link again");
    }
    const { row, owner, url } = await lookup(deps, formOf(c).get("code") ?? "");
    const now = deps.now().toISOString();
    await addShare(deps.db, { id: row.owner_id, server: row.server_name }, {
      to: { user: identity.userId },
      scopes: JSON.parse(row.scopes) as string[],
      now,
    });
    await markExchanged(deps.db, row.id, now);
    deps.events.record("share.accepted", {
      user: owner.name,
      actor: identity.name,
      server: row.server_name,
    });
    return c.redirect(url, 302);
  });
  return app;
}
