/**
 * `/hub/home`: start, stop and open my server, and my named servers. The
 * route only gathers the view; the buttons call the REST API.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { homePage, type Html } from "../../templates/mod.ts";
import type { HubConfig } from "../config/mod.ts";
import type { ServiceManager } from "../services/mod.ts";
import type { Announcement } from "../announcement.ts";
import { hasScope } from "../rbac/scopes.ts";
import type { HubEnv } from "../middleware/identity.ts";
import type { Identity } from "../auth/identity.ts";

/** Dependencies of the home page. */
export interface HomePagesDeps {
  config: HubConfig;
  /** The announcement banner. */
  announcement?: Pick<Announcement, "text">;
  /** Services with `display` and a url are linked from the home page. */
  services?: Pick<ServiceManager, "models">;
}

/** Redirects an anonymous visitor to the login page, coming back here after. */
export function toLogin(c: Context, config: HubConfig): Response {
  const here = new URL(c.req.url);
  return c.redirect(
    `${config.baseUrl}hub/login?next=${
      encodeURIComponent(here.pathname + here.search)
    }`,
    302,
  );
}

/** What every signed-in page shows: the base URL, who, the Admin link and the XSRF token. */
export interface SignedInView {
  baseUrl: string;
  user: string;
  admin: boolean;
  xsrf: string;
}

/**
 * A page for signed-in users, never cached: `render` gets the view every
 * such page shows and the identity; an anonymous visitor goes to the login
 * page and comes back after.
 */
export function signedInPage(
  config: HubConfig,
  render: (
    view: SignedInView,
    identity: Identity,
  ) => Html,
): (c: Context<HubEnv>) => Response | Promise<Response> {
  return (c) => {
    const identity = c.get("identity");
    if (!identity) return toLogin(c, config);
    c.header("Cache-Control", "no-store");
    return c.html(render({
      baseUrl: config.baseUrl,
      user: identity.name,
      admin: identity.parsed.get("admin-ui") !== undefined,
      xsrf: c.get("xsrf"),
    }, identity));
  };
}

/** The home page sub-app (paths relative to `{base_url}hub`). */
export function createHomePages(deps: HomePagesDeps): Hono<HubEnv> {
  const app = new Hono<HubEnv>();
  const { config } = deps;
  app.get(
    "/home",
    signedInPage(config, (view, identity) =>
      homePage({
        ...view,
        namedServers: config.spawner.namedServers,
        namedServerLimit: config.spawner.namedServerLimit,
        banner: deps.announcement?.text() ?? "",
        canShare: hasScope(identity.parsed, {
          scope: "shares",
          resource: { user: identity.name, server: `${identity.name}/` },
          groupsOf: () => identity.groups,
        }),
        services: [...(deps.services?.models().values() ?? [])]
          .filter((s) => s.display && s.prefix)
          .map((s) => ({ name: s.name, url: s.prefix })),
      })),
  );
  return app;
}
